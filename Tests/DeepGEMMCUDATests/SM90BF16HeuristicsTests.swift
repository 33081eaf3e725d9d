import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

@Suite("SM90 BF16 heuristics")
struct SM90BF16HeuristicsTests {
    /// One parsed row of ``deepGEMMSM90BF16Choices``.
    struct Golden: CustomStringConvertible {
        var problem: GEMMKernelProblem
        var expected: [Int]
        var description: String { "\(problem)" }
    }

    static let goldens: [Golden] = deepGEMMSM90BF16Choices.split(separator: "\n").map { line in
        let halves = line.components(separatedBy: " -> ")
        let fields = halves[0].split(separator: " ").map(String.init)
        let kind = GEMMKind(rawValue: fields[0]) ?? .normal
        let problem = GEMMKernelProblem(GEMMProblem(kind: kind, m: Int(fields[1]) ?? 0, n: Int(fields[2]) ?? 0, k: Int(fields[3]) ?? 0, numGroups: Int(fields[4]) ?? 0, majorA: GEMMMajor(rawValue: fields[5]) ?? .k, majorB: GEMMMajor(rawValue: fields[6]) ?? .k, typeCD: fields[7] == "f32" ? .float32 : .bfloat16, accumulate: fields[8] == "1", expectedM: Int(fields[9])), numSMs: 132)
        return Golden(problem: problem, expected: halves[1].split(separator: " ").compactMap { Int($0) })
    }

    @Test("matches DeepGEMM's choice for every test shape")
    func matchesDeepGEMM() throws {
        #expect(Self.goldens.count == 144)
        for golden in Self.goldens {
            let config = try SM90BF16Heuristics.bestConfig(for: golden.problem)
            let chosen = [config.blockM, config.blockN, config.clusterM, config.clusterN, config.numStages, config.sharedMemoryBytes]
            #expect(chosen == golden.expected, "\(golden.problem)")
        }
    }

    @Test("every candidate fits shared memory with at least three stages and legal clusters")
    func candidatesAreLegal() {
        for golden in Self.goldens {
            for config in SM90BF16Heuristics.candidates(for: golden.problem) {
                #expect(config.sharedMemoryBytes <= SM90BF16Heuristics.sharedMemoryCapacity)
                #expect(config.numStages >= 3 && config.numStages <= SM90BF16Heuristics.maxStages)
                #expect(config.clusterSize <= 2 && golden.problem.numSMs % config.clusterSize == 0)
                #expect(!(config.blockM > 128 && config.blockN > 128))
                #expect(config.swizzleA % 64 == 0 && config.swizzleB % 64 == 0)
                #expect(config.numMathThreads == (config.blockM <= 64 ? 128 : 256))
                if golden.problem.kind == .mGroupedMasked || golden.problem.kind == .mGroupedContiguousPsum {
                    #expect(ceilDiv(golden.problem.n, config.blockN) % config.clusterSize == 0)
                }
                if golden.problem.kind == .mGroupedContiguous || golden.problem.kind == .mGroupedContiguousPsum {
                    #expect(config.blockM == golden.problem.mkAlignment)
                }
            }
        }
    }

    @Test("output swizzle follows the tile width; FP32 output is not swizzled")
    func outputSwizzle() throws {
        let bf16 = try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .normal, m: 4096, n: 576, k: 7168), numSMs: 132))
        #expect(bf16.blockN == 144 && bf16.swizzleD == 32)
        let f32 = try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .normal, m: 4096, n: 256, k: 7168, typeCD: .float32), numSMs: 132))
        #expect(f32.swizzleD == 0)
    }

    @Test("band width minimises the footprint of one wave")
    func bandWidth() {
        #expect(SM90BF16Heuristics.bandWidth(blockM: 128, blockN: 256, numSMs: 132, multicastOnA: false) == 16)
        #expect(SM90BF16Heuristics.bandWidth(blockM: 256, blockN: 128, numSMs: 132, multicastOnA: false) == 8)
        #expect(SM90BF16Heuristics.bandWidth(blockM: 256, blockN: 128, numSMs: 132, multicastOnA: true) == 16)
    }

    @Test("rejects problems the kernels cannot run, naming the argument")
    func rejections() {
        #expect(throws: DeepGEMMError.invalidArgument(argument: "num_sms", rule: "must be a positive even number, got 131")) {
            try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .normal, m: 128, n: 128, k: 128), numSMs: 131))
        }
        #expect(throws: DeepGEMMError.invalidArgument(argument: "k", rule: "SM90 m-grouped BF16 GEMMs need K % 64 == 0, got 96")) {
            try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .mGroupedContiguous, m: 256, n: 128, k: 96, numGroups: 2), numSMs: 132))
        }
        #expect(throws: DeepGEMMError.self) {
            try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .mGroupedContiguous, m: 256, n: 128, k: 128, numGroups: 2, mkAlignment: 96), numSMs: 132))
        }
        #expect(throws: DeepGEMMError.self) {
            try SM90BF16Heuristics.bestConfig(for: GEMMKernelProblem(GEMMProblem(kind: .normal, m: 128, n: 128, k: 128), numSMs: 132, compiledDims: "nkx"))
        }
    }
}
