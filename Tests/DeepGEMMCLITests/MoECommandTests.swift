import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// `deepgemm moe`: the fused op agrees with the unfused pipeline bit for bit on thread and process
/// ranks, the generated problem is the same whoever generates it, and bad options or failed
/// rank processes are reported.
@Suite struct MoECommandTests {
    /// A tiny layer: E = 8, k = 2, H = I = 512 (the smallest FP8 sizes the buffer takes), 1 and 5
    /// tokens per rank, a quarter of the slots masked, timed for a few calls only.
    static func arguments(mma: String, _ extra: [String] = []) -> [String] {
        ["--ranks", "2", "--tokens", "1,5", "--experts", "8", "--topk", "2", "--hidden", "512", "--intermediate", "512",
         "--mma", mma, "--masked-slots", "0.25", "--min-seconds", "0"] + extra
    }

    /// The `deepgemm` executable `swift build`/`swift test` put next to this test binary.
    static var deepgemmExecutable: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // On Linux the tests run from `<config>/<Package>PackageTests.xctest`; on macOS from inside a bundle.
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("deepgemm").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("deepgemm").path
    }

    /// Checks the reports of a run of ``arguments(mma:_:)``.
    static func expectAgreement(_ reports: [MoEReport], processes: Bool, threadsPerRank: Int) {
        #expect(reports.map(\.tokensPerRank) == [1, 5])
        for report in reports {
            #expect(report.bitwiseEqual, "\(report.mismatch ?? "")")
            #expect(report.processes == processes && report.ranks == 2 && report.threadsPerRank == threadsPerRank)
            #expect(report.denseRows >= 1 && report.denseSeconds > 0 && report.fusedOverDense > 0)
            #expect(abs(report.fusedGFLOPS - report.gflopsPerRank.reduce(0, +)) <= 1e-9 * report.fusedGFLOPS)
            #expect(report.json.contains("\"fused_over_dense\":") && report.text.contains("fused/dense"))
            #expect(report.fusedSeconds > 0 && report.unfusedSeconds > 0 && report.bufferBytesPerRank > 0)
            #expect(report.receivedPairs.count == 2 && report.receivedPairs.reduce(0, +) <= 2 * report.tokensPerRank * 2)
            #expect(report.json.contains("\"bitwise_equal\":true") && report.text.contains("fused == unfused: bitwise equal"))
            #expect(report.peakResidentBytes > 0 && report.json.contains("\"peak_resident_bytes\":") && report.text.contains("peak resident memory: "))
            #expect(report.rankPeakResidentBytes.map { $0.count == 2 && $0.allSatisfy { $0 > 0 } } ?? !processes)
        }
    }

    @Test(arguments: ["fp8xfp4", "bf16xbf16"])
    func fusedMatchesUnfusedOnThreadRanks(mma: String) throws {
        let command = try MoECommand.parse(Self.arguments(mma: mma, mma == "bf16xbf16" ? ["--activation-clamp", "none", "--no-fast-math"] : []))
        var streamed: [Int] = []
        let reports = try command.benchmark { streamed.append($0.tokensPerRank) }
        #expect(streamed == [1, 5])
        Self.expectAgreement(reports, processes: false, threadsPerRank: CPUParallelism.threadCount)
        let oneThread = try MoECommand.parse(Self.arguments(mma: mma, ["--threads-per-rank", "1"]))
        Self.expectAgreement(try oneThread.benchmark(), processes: false, threadsPerRank: 1)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: MoECommandTests.deepgemmExecutable),
                   "the deepgemm executable is built next to the tests"))
    func fusedMatchesUnfusedOnProcessRanks() throws {
        let command = try MoECommand.parse(Self.arguments(mma: "fp8xfp4", ["--processes", "--rank-executable", Self.deepgemmExecutable,
                                                                            "--threads-per-rank", "3"]))
        Self.expectAgreement(try command.benchmark(), processes: true, threadsPerRank: 3)
    }

    @Test func failedRankProcessesAreNamed() throws {
        let command = try MoECommand.parse(Self.arguments(mma: "bf16xbf16", ["--processes", "--rank-executable", "/bin/false"]))
        #expect {
            _ = try command.benchmark()
        } throws: { error in
            (error as? MoERankProcessFailure)?.statuses.map(\.rank) == [0, 1]
                && "\(error)".contains("rank 0 (pid") && "\(error)".contains("exit code 1")
        }
    }

    @Test func badOptionsNameTheirArgument() throws {
        let cases: [([String], String)] = [
            (["--experts", "7"], "num_experts"),
            (["--hidden", "500"], "hidden"),
            (["--tokens", "1,x"], "--tokens"),
            (["--tokens", "0"], "--tokens"),
            (["--mma", "fp8"], "--mma"),
            (["--topk", "9"], "--topk"),
            (["--activation-clamp=-1"], "--activation-clamp"),
            (["--masked-slots", "1.5"], "--masked-slots"),
            (["--ranks", "0"], "--ranks"),
            (["--threads-per-rank", "0"], "--threads-per-rank"),
        ]
        for (extra, argument) in cases {
            for processes in [false, true] {
                let command = try MoECommand.parse(Self.arguments(mma: "fp8xfp4", extra + (processes ? ["--processes", "--rank-executable", "/bin/false"] : [])))
                #expect {
                    _ = try command.benchmark()
                } throws: { error in
                    (error as? DeepGEMMError)?.argument == argument
                }
            }
        }
    }

    @Test func eachRankRegeneratesItsShareAlone() throws {
        for mma in ["fp8xfp4", "bf16xbf16"] {
            let problem = try MoECommand.parse(Self.arguments(mma: mma)).layer.problem()
            let all = MoEExpertWeights(problem: problem, rank: 0, ranks: 1)
            let second = MoEExpertWeights(problem: problem, rank: 1, ranks: 2)
            switch (all, second) {
            case (.fp4(let l1, let l2), .fp4(let r1, let r2)):
                #expect(try l1.data.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r1.data))
                #expect(try l1.sf.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r1.sf))
                #expect(try l2.data.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r2.data))
                #expect(try l2.sf.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r2.sf))
                #expect(r1.sf.strides == [1024 * 4, 1, 1024] && r2.sf.strides == [512 * 4, 1, 512])
                let scaleBytes = try r1.sf.elements(as: UInt32.self).flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
                #expect(scaleBytes.allSatisfy { (119...121).contains($0) } && Set(scaleBytes).count == 3)
            case (.bf16(let l1, let l2), .bf16(let r1, let r2)):
                #expect(try l1.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r1))
                #expect(try l2.narrow(dim: 0, start: 4, length: 4).bitwiseEqual(r2))
                let values = r1.doubleValues()
                let bound = (3.0 / 512).squareRoot()
                #expect(values.allSatisfy { abs($0) <= bound * 1.01 })
                let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
                #expect(abs(variance * 512 - 1) < 0.05)
            default:
                Issue.record("\(mma): weights of the wrong kind")
            }
        }
    }

    @Test func routingPicksDistinctExpertsAndMasksTheRequestedFraction() throws {
        var problem = try MoECommand.parse(Self.arguments(mma: "fp8xfp4", ["--topk", "8"])).layer.problem()
        let tokens = try MoERankTokens(problem: problem, rank: 1, tokens: 400)
        #expect(tokens.x.dtype == .float8E4M3 && tokens.xSF?.shape == [400, 4])
        let indices = try tokens.topkIdx.elements(as: Int64.self)
        let masked = indices.filter { $0 == -1 }.count
        #expect(abs(Double(masked) / Double(indices.count) - 0.25) < 0.03)
        for token in 0..<400 {
            let experts = indices[(token * 8)..<(token * 8 + 8)].filter { $0 != -1 }
            #expect(Set(experts).count == experts.count && experts.allSatisfy { (0..<8).contains($0) })
        }
        #expect(try tokens.topkWeights.elements(as: Float.self).allSatisfy { $0 > 0 && $0 <= 1 })
        let again = try MoERankTokens(problem: problem, rank: 1, tokens: 400)
        #expect(again.x.bitwiseEqual(tokens.x) && again.topkIdx.bitwiseEqual(tokens.topkIdx))
        let otherRank = try MoERankTokens(problem: problem, rank: 0, tokens: 400)
        #expect(!otherRank.topkIdx.bitwiseEqual(tokens.topkIdx))
        problem.maskedFraction = 1
        #expect(try MoERankTokens(problem: problem, rank: 0, tokens: 3).topkIdx.elements(as: Int64.self).allSatisfy { $0 == -1 })
    }

    @Test func densePeerRowsAreTheAveragePairsOfBusyExperts() {
        #expect(MoEDensePeer.rows(expertPairs: [0, 3, 4, 0]) == 4)
        #expect(MoEDensePeer.rows(expertPairs: [2, 2, 3]) == 2)
        #expect(MoEDensePeer.rows(expertPairs: [0, 0]) == 1 && MoEDensePeer.rows(expertPairs: []) == 1)
    }

    @Test func comparisonNamesTheFirstDifference() throws {
        let y = Tensor.randn([3, 4], dtype: .bfloat16, seed: 5)
        let stats = try Tensor([Int32(2), 7], shape: [2])
        #expect(try MoEComparison.firstMismatch(fusedY: [y], unfusedY: [y.clone()], fusedStats: [stats], unfusedStats: [stats.clone()]) == nil)
        let changed = y.clone()
        let bits = changed.dataPointer.assumingMemoryBound(to: UInt16.self)
        bits[6] ^= 1
        let message = try MoEComparison.firstMismatch(fusedY: [changed], unfusedY: [y], fusedStats: [stats], unfusedStats: [stats])
        #expect(message?.hasPrefix("rank 0 y differs first at [1, 2]") == true)
        let otherStats = try Tensor([Int32(2), 8], shape: [2])
        #expect(try MoEComparison.firstMismatch(fusedY: [y], unfusedY: [y], fusedStats: [otherStats], unfusedStats: [stats])?
            .hasPrefix("rank 0 stats differs first at [1]") == true)
    }

    @Test func rankResultFilesRoundTrip() throws {
        let directory = NSTemporaryDirectory() + "deepgemm-moe-test-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = MoERankResult(y: Tensor.randn([2, 8], dtype: .bfloat16, seed: 1), stats: try Tensor([Int32(3), 4], shape: [2]),
                                   seconds: 0.125, bufferBytes: 1 << 33, threads: 3)
        try result.write(directory: directory, rank: 3)
        let read = try MoERankResult(directory: directory, rank: 3)
        #expect(read.y.bitwiseEqual(result.y) && read.stats.bitwiseEqual(result.stats))
        #expect(read.seconds == 0.125 && read.bufferBytes == 1 << 33 && read.threads == 3)
        #expect(throws: (any Error).self) { _ = try MoERankResult(directory: directory, rank: 0) }
    }
}
