import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

/// A 1D1D FP8 problem (F32 D with C) as the ops hand it to the CUDA backend; more than one group is k-grouped.
func fp8Problem1D1D(m: Int, n: Int, k: Int, groups: Int = 1, numSMs: Int = 132) -> GEMMKernelProblem {
    GEMMKernelProblem(SM90FP8GEMM1D1DFamily.problem(m: m, n: n, k: k, groups: groups), numSMs: numSMs)
}

@Suite("SM90 FP8 1D1D heuristics")
struct SM90FP8GEMM1D1DHeuristicsTests {
    /// One parsed row of ``deepGEMMSM90FP81D1DChoices``.
    struct Golden: CustomStringConvertible {
        var problem: GEMMKernelProblem
        var expected: [Int]
        var description: String { "\(problem)" }
    }

    static let goldens: [Golden] = deepGEMMSM90FP81D1DChoices.split(separator: "\n").map { line in
        let halves = line.components(separatedBy: " -> ")
        let fields = halves[0].split(separator: " ").compactMap { Int($0) }
        let problem = fp8Problem1D1D(m: fields[0], n: fields[1], k: fields[2], groups: fields[3])
        return Golden(problem: problem, expected: halves[1].split(separator: " ").compactMap { Int($0) })
    }

    @Test("matches DeepGEMM's choice for every 1D1D test shape")
    func matchesDeepGEMM() throws {
        #expect(Self.goldens.count == 23)
        #expect(Self.goldens.filter { SM90FP8GEMM1D1DHeuristics.isKGrouped($0.problem.problem) }.count == 12)
        for golden in Self.goldens {
            let config = try SM90FP8GEMM1D1DHeuristics.bestConfig(for: golden.problem)
            let chosen = [config.blockM, config.blockN, config.clusterM, config.clusterN, config.numStages, config.sharedMemoryBytes]
            #expect(chosen == golden.expected, "\(golden.problem)")
        }
    }

    @Test("every candidate: whole 64-row warpgroups, block N 16 or 24...160, FP32 tile without swizzle, fits shared memory")
    func candidatesAreLegal() {
        let extra = [fp8Problem1D1D(m: 1, n: 4096, k: 7168), fp8Problem1D1D(m: 96, n: 200, k: 384, groups: 3),
                     fp8Problem1D1D(m: 4096, n: 7168, k: 2048, groups: 5)]
        for problem in Self.goldens.map(\.problem) + extra {
            let kGrouped = SM90FP8GEMM1D1DHeuristics.isKGrouped(problem.problem)
            for config in SM90FP8GEMM1D1DHeuristics.candidates(for: problem) {
                #expect(config.blockK == 128 && config.swizzleA == 128 && config.swizzleB == 128 && config.swizzleD == 0)
                #expect([64, 128].contains(config.blockM))
                #expect(config.blockN == 16 || (config.blockN >= 24 && config.blockN <= 160 && config.blockN % 16 == 8))
                #expect(config.numMathThreads == config.blockM * 2)
                #expect(config.sharedMemoryBytes <= SM90BF16Heuristics.sharedMemoryCapacity)
                #expect(config.numStages >= 3 && config.numStages <= SM90BF16Heuristics.maxStages)
                let layout = Int(dg_host_sm90_fp8_1d1d_smem_bytes(UInt32(config.blockM), UInt32(config.blockN), UInt32(config.numStages)))
                #expect(layout <= config.sharedMemoryBytes, "the kernel's layout must fit the launch's shared memory")
                if kGrouped && config.clusterSize > 1 {
                    #expect(problem.numGroups <= 4)
                    #expect((ceilDiv(problem.m, config.blockM) * ceilDiv(problem.n, config.blockN)) % 2 == 0)
                }
            }
        }
    }

    @Test("the 1D1D family takes FP8 1D1D problems with F32 output, the 1D2D family does not, and it plans on sm_90a")
    func familySelection() throws {
        let family = SM90FP8GEMM1D1DFamily()
        let dense = fp8Problem1D1D(m: 128, n: 256, k: 512).problem
        #expect(family.accepts(dense))
        #expect(!SM90FP8GEMMFamily().accepts(dense))
        var bf16 = dense
        bf16.typeCD = .bfloat16
        #expect(!family.accepts(bf16))
        var oneD2D = dense
        oneD2D.kernelType = .oneD2D
        #expect(!family.accepts(oneD2D))
        var grouped = dense
        grouped.kind = .mGroupedContiguous
        #expect(!family.accepts(grouped))
        #expect(try GEMMKernelFamilies.family(for: dense, architecture: .sm90a).name == "sm90_fp8_gemm_1d1d")
        #expect(try GEMMKernelFamilies.family(for: fp8Problem1D1D(m: 128, n: 256, k: 512, groups: 4).problem, architecture: .sm90a).name
                == "sm90_fp8_gemm_1d1d")
        #expect(throws: DeepGEMMError.self) { try GEMMKernelFamilies.family(for: dense, architecture: .sm100a) }
    }

    @Test("rejects problems the 1D1D kernel cannot run, naming the argument")
    func rejections() {
        #expect(throws: DeepGEMMError.invalidArgument(argument: "num_sms", rule: "must be a positive even number, got 131")) {
            try SM90FP8GEMM1D1DHeuristics.bestConfig(for: fp8Problem1D1D(m: 128, n: 128, k: 128, numSMs: 131))
        }
        var noC = fp8Problem1D1D(m: 128, n: 128, k: 128)
        noC.accumulate = false
        #expect(throws: DeepGEMMError.invalidArgument(argument: "d", rule: "the SM90 FP8 1D1D kernel adds into float32 D (C required)")) {
            try SM90FP8GEMM1D1DHeuristics.bestConfig(for: noC)
        }
        var mnMajor = fp8Problem1D1D(m: 128, n: 128, k: 128)
        mnMajor.majorA = .mn
        #expect(throws: DeepGEMMError.invalidArgument(argument: "a", rule: "the SM90 FP8 kernel needs a K-major A")) {
            try SM90FP8GEMM1D1DHeuristics.bestConfig(for: mnMajor)
        }
    }

    @Test("generated sources: k-grouped kernels never compile K in, dense ones follow compiled_dims, one wgmma per block N")
    func sources() throws {
        let family = SM90FP8GEMM1D1DFamily()
        let dense = try family.select(fp8Problem1D1D(m: 4096, n: 4096, k: 7168))
        #expect(dense.family == "sm90_fp8_gemm_1d1d")
        #expect(dense.source.code.contains("dg::sm90_fp8_gemm_1d1d<0, 4096, 7168, 1, 128, 152, 4, 256, 2, false, 16, 132, false, GeneratedMMA>"))
        #expect(dense.source.code.contains("m64n152k32.f32.e4m3.e4m3"))
        var kGroupedProblem = fp8Problem1D1D(m: 4096, n: 7168, k: 2048, groups: 16)
        kGroupedProblem.compiledDims = "mnk"
        let kGrouped = try family.select(kGroupedProblem)
        #expect(kGrouped.source.code.contains("dg::sm90_fp8_gemm_1d1d<4096, 7168, 0, 16, 128, 152, 4, 256, 1, false, "))
        #expect(kGrouped.source.code.contains(", true, GeneratedMMA>"))
    }
}
