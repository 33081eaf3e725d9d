import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// A 1D2D FP8 problem (E4M3 operands, BF16 output) as the FP8 ops hand it to the CUDA backend.
func fp8Problem(_ kind: GEMMKind, m: Int, n: Int, k: Int, groups: Int = 1, expectedM: Int? = nil, mkAlignment: Int = 128,
                numSMs: Int = 132) -> GEMMKernelProblem {
    GEMMKernelProblem(GEMMProblem(kind: kind, m: m, n: n, k: k, numGroups: groups, typeA: .float8E4M3, typeB: .float8E4M3,
                                  kernelType: .oneD2D, expectedM: expectedM, mkAlignment: mkAlignment), numSMs: numSMs)
}

@Suite("SM90 FP8 1D2D heuristics")
struct SM90FP8HeuristicsTests {
    /// One parsed row of ``deepGEMMSM90FP8Choices``.
    struct Golden: CustomStringConvertible {
        var problem: GEMMKernelProblem
        var expected: [Int]
        var description: String { "\(problem)" }
    }

    static let goldens: [Golden] = deepGEMMSM90FP8Choices.split(separator: "\n").map { line in
        let halves = line.components(separatedBy: " -> ")
        let fields = halves[0].split(separator: " ").map(String.init)
        let problem = fp8Problem(GEMMKind(rawValue: fields[0]) ?? .normal, m: Int(fields[1]) ?? 0, n: Int(fields[2]) ?? 0,
                                 k: Int(fields[3]) ?? 0, groups: Int(fields[4]) ?? 0, expectedM: Int(fields[5]))
        return Golden(problem: problem, expected: halves[1].split(separator: " ").compactMap { Int($0) })
    }

    @Test("matches DeepGEMM's choice for every FP8 test shape")
    func matchesDeepGEMM() throws {
        #expect(Self.goldens.count == 61)
        for golden in Self.goldens {
            let config = try SM90FP8Heuristics.bestConfig(for: golden.problem)
            let chosen = [config.blockM, config.blockN, config.clusterM, config.clusterN, config.numStages, config.sharedMemoryBytes]
            #expect(chosen == golden.expected, "\(golden.problem)")
        }
    }

    @Test("every candidate: block K 128, 128-byte operand swizzles, block N at most 192 with a regular scale boundary")
    func candidatesAreLegal() {
        for golden in Self.goldens {
            for config in SM90FP8Heuristics.candidates(for: golden.problem) {
                #expect(config.blockK == 128 && config.swizzleA == 128 && config.swizzleB == 128)
                #expect(config.blockN % 16 == 0 && config.blockN <= 192 && config.blockN != 176)
                #expect(config.swizzleD == SM90BF16Heuristics.swizzleBytes(config.blockN, elementSize: 2))
                #expect(config.sharedMemoryBytes <= SM90BF16Heuristics.sharedMemoryCapacity)
                #expect(config.numStages >= 3 && config.numStages <= SM90BF16Heuristics.maxStages)
                #expect(!(config.blockM > 128 && config.blockN > 128))
                #expect(config.numMathThreads == (config.blockM <= 64 ? 128 : 256))
                if golden.problem.runsGroupByGroup {
                    #expect(ceilDiv(golden.problem.n, config.blockN) % config.clusterSize == 0)
                }
            }
        }
    }

    @Test("the FP8 family takes 1D2D FP8 problems with BF16 output only, and plans them on sm_90a")
    func familySelection() throws {
        let family = SM90FP8GEMMFamily()
        #expect(family.accepts(fp8Problem(.normal, m: 128, n: 256, k: 512).problem))
        var f32 = fp8Problem(.normal, m: 128, n: 256, k: 512).problem
        f32.typeCD = .float32
        #expect(!family.accepts(f32))
        var oneD1D = fp8Problem(.normal, m: 128, n: 256, k: 512).problem
        oneD1D.kernelType = .oneD1D
        #expect(!family.accepts(oneD1D))
        #expect(!family.accepts(GEMMProblem(kind: .normal, m: 128, n: 256, k: 512)))
        #expect(try GEMMKernelFamilies.family(for: fp8Problem(.normal, m: 1, n: 16, k: 16).problem, architecture: .sm90a).name == "sm90_fp8_gemm_1d2d")
        #expect(throws: DeepGEMMError.self) { try GEMMKernelFamilies.family(for: fp8Problem(.normal, m: 1, n: 16, k: 16).problem, architecture: .sm100a) }
    }

    @Test("rejects problems the FP8 kernels cannot run, naming the argument")
    func rejections() {
        #expect(throws: DeepGEMMError.invalidArgument(argument: "num_sms", rule: "must be a positive even number, got 131")) {
            try SM90FP8Heuristics.bestConfig(for: fp8Problem(.normal, m: 128, n: 128, k: 128, numSMs: 131))
        }
        var mnMajor = fp8Problem(.normal, m: 128, n: 128, k: 128)
        mnMajor.majorB = .mn
        #expect(throws: DeepGEMMError.invalidArgument(argument: "b", rule: "the SM90 FP8 kernel needs a K-major B")) {
            try SM90FP8Heuristics.bestConfig(for: mnMajor)
        }
        var accumulate = fp8Problem(.normal, m: 128, n: 128, k: 128)
        accumulate.accumulate = true
        #expect(throws: DeepGEMMError.invalidArgument(argument: "d", rule: "the SM90 FP8 1D2D kernel writes BF16 D without C")) {
            try SM90FP8Heuristics.bestConfig(for: accumulate)
        }
        #expect(throws: DeepGEMMError.self) {
            try SM90FP8Heuristics.bestConfig(for: fp8Problem(.mGroupedContiguous, m: 256, n: 128, k: 128, groups: 2, mkAlignment: 96))
        }
    }
}
