#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DeepGEMM
import DeepGEMMTestSupport

/// The fused Mega MoE beyond bitwise agreement on thread ranks (``MegaMoEAPITests``): accuracy
/// against FP64 and the unquantized MoE, rank processes, and failures of peers.
struct MegaMoEFusedTests {
    typealias FP8Case = MegaMoEAPITests.FP8Case
    static let (experts, hidden, intermediate, topk, maxTokens) = (MegaMoEAPITests.experts, MegaMoEAPITests.hidden,
                                                                   MegaMoEAPITests.intermediate, MegaMoEAPITests.topk, MegaMoEAPITests.maxTokens)
    static let tokens = MegaMoEAPITests.tokens

    /// The FP64 model of every rank's y: `x` the per-rank activations decoded (FP8 codes times
    /// scales, or the BF16 values before quantization), the weights decoded from their FP4 codes.
    static func reference(_ c: FP8Case, weightScale: Double, x: [MegaMoEUnfusedReference.Matrix], clamp: Double?,
                          bf16Activations: Bool) throws -> [Tensor] {
        let ranks = c.buffer.numRanks, localExperts = experts / ranks
        let decode = { (n: Int, k: Int, seed: Int) in
            try (0..<ranks).map {
                try MegaMoEUnfusedTests.Case.fp4Weights(experts: localExperts, n: n, k: k, seed: UInt64(seed + $0), scale: weightScale).1
            }
        }
        let topkIdx = try c.inputs.map { input in try input.topkIdx.elements(as: Int64.self).map(Int.init).chunks(topk) }
        let topkWeights = try c.inputs.map { input in try input.topkWeights.elements(as: Float.self).map(Double.init).chunks(topk) }
        let y = MegaMoEUnfusedReference.run(x: x, topkIdx: topkIdx, topkWeights: topkWeights,
                                            l1: try decode(2 * intermediate, hidden, 300), l2: try decode(hidden, intermediate, 400),
                                            numLocalExperts: localExperts, clamp: clamp, bf16Activations: bf16Activations)
        return try y.enumerated().map { rank, rows in
            try Tensor(converting: rows.flatMap { $0 }, shape: [tokens[rank], hidden], dtype: .float64)
        }
    }

    /// FP8×FP4 against two FP64 models, with weights drawn at 1/sqrt(K) so that the L1 outputs are
    /// O(1), as in a trained layer. With the same quantization steps (FP8 x, BF16 L1 output, FP8
    /// activations, BF16 L2 output) calc_diff stays below 1e-4 (exact exp versus FP64's, and BF16
    /// roundings, are all that differ).
    ///
    /// Against the unquantized MoE (BF16 x before the FP8 cast, activations only rounded to BF16;
    /// the FP4 weights are exact in BF16, so they are the same) the two FP8 steps add error. One
    /// E4M3 round-to-nearest has relative error |δ| ≤ 2^-4, mean square 2^-8/12 · E[1/m²] = 1/1536
    /// for mantissas m spread evenly over [1, 2); with power-of-two group scales the largest value
    /// of a group lands in [224, 448], so values reach E4M3 subnormals only below amax/14336 (rare).
    /// calc_diff(y, ŷ) ≈ |y − ŷ|² / (2|y|²), so one step costs ≈ 1/3072 = 3.3e-4. The FP8 x reaches
    /// the activations twice (through gate and up, with independent weights) and the activations
    /// are quantized once more: three steps, ≈ 1e-3, times the SwiGLU's gain for relative errors of
    /// the gate, |1 + g·(1 − σ(g))| ≤ 2 for |g| ≤ 3. The bound is 2e-3; the runs give about 1e-3.
    @Test func fp8StaysWithinTheDerivedTolerancesOfFP64Models() throws {
        let (hidden, tokens) = (Self.hidden, Self.tokens)
        let weightScale = 1 / Double(hidden).squareRoot()
        let c = try FP8Case(ranks: 2, weightScale: weightScale)
        let y = c.outputs
        try c.run(y: y, clamp: 4, fastMath: false)
        let quantized = try Self.reference(c, weightScale: weightScale, x: c.inputs.map { try MegaMoEUnfusedReference.decodeFP8($0.x) }, clamp: 4, bf16Activations: false)
        let unquantizedX = (0..<2).map { rank in
            Tensor.randn([tokens[rank], hidden], dtype: .bfloat16, seed: UInt64(60 + rank)).doubleValues().chunks(hidden)
        }
        let unquantized = try Self.reference(c, weightScale: weightScale, x: unquantizedX, clamp: 4, bf16Activations: true)
        for rank in 0..<2 {
            let same = try calcDiff(y[rank], quantized[rank]), loose = try calcDiff(y[rank], unquantized[rank])
            #expect(same < 1e-4, "rank \(rank): calc_diff \(same) against the FP64 model of the same steps")
            #expect(loose < 2e-3, "rank \(rank): calc_diff \(loose) against the unquantized MoE")
            #expect(loose > same, "rank \(rank): the FP8 steps must show against the unquantized MoE")
        }
    }

    @Test("rank processes give the unfused pipeline's bits (FP8×FP4 and BF16, two calls each)", arguments: [1, 2, 4, 8])
    func processRanksMatchTheUnfusedPipeline(ranks: Int) async throws {
        let jobID = RankRuntimeTests.uniqueJobID("fused\(ranks)")
        await withTaskGroup(of: Void.self) { group in
            for rank in 0..<ranks {
                group.addTask {
                    await #expect(processExitsWith: .exitCode(0)) { [jobID = jobID as String, rank = rank as Int, ranks = ranks as Int] in
                        exit(try MegaMoEFusedTests.checkProcessRank(jobID: jobID, rank: rank, ranks: ranks))
                    }
                }
            }
        }
        #expect(!RankRuntimeTests.segmentExists(try SymmetricMemory.segmentName(jobID: jobID, rankCount: ranks)))
    }

    /// One rank process of ``processRanksMatchTheUnfusedPipeline(ranks:)``: joins, runs both MMA
    /// types (the BF16 group under a second job id), compares with the unfused pipeline computed
    /// locally, and returns 0, or 3 on a mismatch.
    static func checkProcessRank(jobID: String, rank: Int, ranks: Int) throws -> Int32 {
        let c = try FP8Case(ranks: ranks)
        let localExperts = experts / ranks
        let buffer = try getSymmBufferForMegaMoE(rankEnvironment: RankEnvironment(rank: rank, rankCount: ranks, jobID: jobID),
                                                 numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: intermediate, timeout: .seconds(30))
        defer { buffer.close() }
        try MegaMoEAPITests.copyInputs(c.buffer.inputs[rank], into: buffer.inputs)
        var matches = true
        for (clamp, fastMath) in [(4.0, true), (nil, false)] as [(Double?, Bool)] {
            let y = Tensor(zeros: [tokens[rank], hidden], dtype: .bfloat16), stats = Tensor(zeros: [localExperts], dtype: .int32)
            try fp8FP4MegaMoE(y: y, l1Weights: c.transformed[rank].l1, l2Weights: c.transformed[rank].l2, buffer: buffer,
                              cumulativeLocalExpertRecvStats: stats, activationClamp: clamp, fastMath: fastMath)
            let expectedStats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
            let expected = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: experts,
                                                    cumulativeLocalExpertRecvStats: expectedStats, activationClamp: clamp, fastMath: fastMath)
            matches = matches && bitwiseMismatch(y, expected[rank]) == nil && bitwiseMismatch(stats, expectedStats[rank]) == nil
        }
        let bf16 = try MegaMoEAPITests.BF16Case(ranks: ranks)
        let bf16Buffer = try getSymmBufferForMegaMoE(rankEnvironment: RankEnvironment(rank: rank, rankCount: ranks, jobID: jobID + "-bf16"),
                                                     numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                     intermediateHidden: intermediate, mmaType: .bf16xbf16, timeout: .seconds(30))
        defer { bf16Buffer.close() }
        try MegaMoEAPITests.copyInputs(bf16.buffer.inputs[rank], into: bf16Buffer.inputs)
        let y = Tensor(zeros: [tokens[rank], hidden], dtype: .bfloat16)
        try bf16MegaMoE(y: y, l1Weights: bf16.transformed[rank], l2Weights: bf16.l2[rank], buffer: bf16Buffer, activationClamp: 1)
        let expected = try bf16MegaMoEUnfused(inputs: bf16.inputs, l1Weights: bf16.l1, l2Weights: bf16.l2, numExperts: experts, activationClamp: 1)
        matches = matches && bitwiseMismatch(y, expected[rank]) == nil
        return matches ? 0 : 3
    }

    @Test func aKilledRankProcessIsNamedByItsPeerInTime() async {
        let jobID = RankRuntimeTests.uniqueJobID("killed")
        async let survivor = #expect(processExitsWith: .exitCode(42)) { [jobID = jobID as String] in
            _exit(try MegaMoEFusedTests.survive(jobID: jobID))
        }
        async let victim = #expect(processExitsWith: .signal(SIGKILL)) { [jobID = jobID as String] in
            _ = try MegaMoEFusedTests.join(jobID: jobID, rank: 1)
            kill(getpid(), SIGKILL)
        }
        _ = await (survivor, victim)
    }

    /// Joins the two-rank FP8×FP4 group `jobID` as `rank`, computing with `threadsPerRank` threads
    /// (nil: the default).
    static func join(jobID: String, rank: Int, threadsPerRank: Int? = nil) throws -> MegaMoERankBuffer {
        try getSymmBufferForMegaMoE(rankEnvironment: RankEnvironment(rank: rank, rankCount: 2, jobID: jobID),
                                    numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                    intermediateHidden: intermediate, timeout: .seconds(30), threadsPerRank: threadsPerRank)
    }

    /// Rank 0 of ``aKilledRankProcessIsNamedByItsPeerInTime()``: 42 when the call fails naming the
    /// dead rank 1 within 10 s, 43 when it took longer, 2 when the call succeeded.
    static func survive(jobID: String) throws -> Int32 {
        let c = try FP8Case(ranks: 2)
        let buffer = try join(jobID: jobID, rank: 0)
        let start = RankClock.now()
        do {
            try fp8FP4MegaMoE(y: Tensor(zeros: [1, hidden], dtype: .bfloat16), l1Weights: c.transformed[0].l1,
                              l2Weights: c.transformed[0].l2, buffer: buffer)
        } catch RankFailure.peerDied(rank: 1) {
            return RankRuntimeTests.elapsedSeconds(since: start) < 10 ? 42 : 43
        }
        return 2
    }

    @Test func aRankThatNeverCallsMakesItsPeerTimeOutNamingIt() throws {
        let (experts, hidden, intermediate, topk, maxTokens) = (Self.experts, Self.hidden, Self.intermediate, Self.topk, Self.maxTokens)
        let c = try FP8Case(ranks: 2)
        let buffer = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: intermediate, numRanks: 2, timeout: .milliseconds(300))
        let start = RankClock.now()
        #expect(throws: RankFailure.timedOut(rank: 1)) {
            try fp8FP4MegaMoE(y: Tensor(zeros: [0, hidden], dtype: .bfloat16), l1Weights: c.transformed[0].l1,
                              l2Weights: c.transformed[0].l2, buffer: buffer.ranks[0])
        }
        let elapsed = RankRuntimeTests.elapsedSeconds(since: start)
        #expect(elapsed >= 0.25 && elapsed < 10, "waited \(elapsed) s")
    }

    @Test func aRankRejectingItsArgumentsIsNamedByItsPeer() throws {
        let (hidden, tokens) = (Self.hidden, Self.tokens)
        let c = try FP8Case(ranks: 2)
        let outcomes = try RankThread.runAll(2) { rank in
            try fp8FP4MegaMoE(y: Tensor(zeros: [tokens[rank], hidden], dtype: .bfloat16), l1Weights: c.transformed[rank].l1,
                              l2Weights: c.transformed[rank].l2, buffer: c.buffer.ranks[rank], recipe: rank == 0 ? [1, 128, 128] : [1, 1, 32])
        }
        #expect(throws: DeepGEMMError.self) { try outcomes[0].get() }
        #expect(throws: RankFailure.peerFailed(rank: 0)) { try outcomes[1].get() }
    }

    /// Only a sequential binary32 sum from +0 in ascending slot order turns slots (1, -1, 2^-30)
    /// into 2^-30 (any other order loses the small term); masked slots are skipped even when their
    /// combine rows hold data, and a token with every slot masked gets +0.
    @Test func combineSumsValidSlotsInAscendingOrderInBinary32() throws {
        let (hidden, topk) = (64, 4)
        let buffer = try getSymmBufferForMegaMoE(numExperts: 1, numMaxTokensPerRank: 2, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: 64, numRanks: 1, mmaType: .bf16xbf16).ranks[0]
        try buffer.inputs.topkIdx.narrow(dim: 0, start: 0, length: 2).copy(from: Tensor([Int64(0), -1, 0, 0, -1, -1, -1, -1], shape: [2, topk]))
        let rows = (buffer.region(of: 0) + buffer.layout.combine.offset).assumingMemoryBound(to: UInt16.self)
        let capacity = buffer.numMaxTokensPerRank
        for (slot, value) in [1, 5, -1, 0x1p-30 as Float].enumerated() {
            for token in 0..<2 {
                for h in 0..<hidden { rows[(slot * capacity + token) * hidden + h] = BFloat16(value).bitPattern }
            }
        }
        let y = Tensor(zeros: [2, hidden], dtype: .bfloat16)
        let call = try MegaMoEFusedCall(buffer: buffer, y: y,
                                        weights: .bf16(l1: Tensor(zeros: [1, 128, hidden], dtype: .bfloat16), l2: Tensor(zeros: [1, hidden, 64], dtype: .bfloat16)),
                                        stats: nil, activation: "swiglu", activationClamp: nil, fastMath: true)
        MegaMoEFusedRank.combine(call)
        #expect(try y.select(dim: 0, index: 0).elements(as: UInt16.self).allSatisfy { $0 == BFloat16(0x1p-30 as Float).bitPattern })
        #expect(try y.select(dim: 0, index: 1).elements(as: UInt16.self).allSatisfy { $0 == 0 })
    }

    /// Experts that fit are one block; larger ones split into near-equal blocks of at least half
    /// the block size, so no block falls to the GEMM engine's dot-product path unless the expert does.
    @Test func expertBlocksAreEvenAndNeverSmallUnlessTheExpertIs() {
        #expect(MegaMoEFusedRank.blocks(rows: 5, blockRows: 1024) == [0..<5])
        #expect(MegaMoEFusedRank.blocks(rows: 1024, blockRows: 1024) == [0..<1024])
        for rows in [1025, 1031, 2049, 5000] {
            let blocks = MegaMoEFusedRank.blocks(rows: rows, blockRows: 1024)
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == rows, "\(rows)")
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(rows)")
            #expect(blocks.allSatisfy { $0.count <= 1024 && $0.count >= 512 }, "\(rows): \(blocks.map(\.count))")
        }
    }

    /// The fused epilogues (BF16, and FP8 with its scale words in UTCCP row order) read gate and up
    /// from the interleaved L1 output and give the standalone SwiGLU ops' bits for either
    /// `fast_math`; the two settings do differ on this many values.
    @Test func epilogueMatchesTheStandaloneSwiGLUOnInterleavedColumns() throws {
        let (rows, intermediate) = (2048, 256)
        let interleaved = Tensor.randn([rows, 2 * intermediate], dtype: .bfloat16, seed: 31, scale: 3)
        let halves = try Tensor(converting: [Double](repeating: 0, count: rows * 2 * intermediate), shape: [rows, 2 * intermediate], dtype: .bfloat16)
        for c in 0..<intermediate {
            let gate = MegaMoEFusedEpilogue.gateColumn(c)
            try halves.narrow(dim: 1, start: c, length: 1).copy(from: interleaved.narrow(dim: 1, start: gate, length: 1))
            try halves.narrow(dim: 1, start: intermediate + c, length: 1).copy(from: interleaved.narrow(dim: 1, start: gate + 8, length: 1))
        }
        let weights = try Tensor((0..<rows).map { 0.25 + Float($0 % 7) / 8 }, shape: [rows])
        var fused = [Bool: Tensor]()
        for fastMath in [true, false] {
            let out = Tensor(zeros: [rows, intermediate], dtype: .bfloat16)
            MegaMoEFusedEpilogue.bf16(l1: UnsafePointer(interleaved.dataPointer.assumingMemoryBound(to: UInt16.self)), rows: rows,
                                      intermediate: intermediate, weights: UnsafePointer(weights.dataPointer.assumingMemoryBound(to: Float.self)),
                                      clamp: nil, fastMath: fastMath, tokens: out.dataPointer.assumingMemoryBound(to: UInt16.self), threads: 2)
            let standalone = try swigluApplyWeightToBF16(halves, topkWeights: weights, fastMath: fastMath)
            #expect(bitwiseMismatch(out, standalone) == nil, "fast_math \(fastMath)")
            fused[fastMath] = out
            // FP8: codes row-major, scale words at the UTCCP row of each ring row.
            let codes = Tensor(zeros: [rows, intermediate], dtype: .float8E4M3), words = Tensor(zeros: [intermediate / 128, rows], dtype: .int32)
            MegaMoEFusedEpilogue.fp8(l1: UnsafePointer(interleaved.dataPointer.assumingMemoryBound(to: UInt16.self)), rows: rows,
                                     intermediate: intermediate, weights: UnsafePointer(weights.dataPointer.assumingMemoryBound(to: Float.self)),
                                     clamp: 2, fastMath: fastMath, tokens: codes.dataPointer.assumingMemoryBound(to: UInt8.self),
                                     sf: words.dataPointer.assumingMemoryBound(to: Int32.self), sfRingRows: rows, firstRingRow: 0, threads: 2)
            let quantized = try swigluApplyWeightToFP8(halves, topkWeights: weights, activationClamp: 2, fastMath: fastMath)
            #expect(bitwiseMismatch(codes, quantized.data) == nil, "fast_math \(fastMath)")
            let (ringWords, expectedWords) = (try words.elements(as: Int32.self), try quantized.sf.contiguous().elements(as: Int32.self))
            let permuted = (0..<rows).flatMap { r in (0..<(intermediate / 128)).map { w in ringWords[w * rows + MegaMoEWeightLayout.utccpDestinationRow(r)] } }
            #expect(permuted == expectedWords, "fast_math \(fastMath)")
        }
        #expect(bitwiseMismatch(try #require(fused[true]), try #require(fused[false])) != nil, "fast_math must change some bits")
    }
}


extension Array {
    /// The elements in consecutive runs of `size`.
    fileprivate func chunks(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
