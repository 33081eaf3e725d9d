import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

@Suite("Kernel families")
struct KernelFamilyTests {
    @Test("the registry picks the SM90 BF16 family for BF16 problems on sm_90a and names the device otherwise")
    func registry() throws {
        let bf16 = GEMMProblem(kind: .normal, m: 128, n: 256, k: 512, typeCD: .float32)
        #expect(try GEMMKernelFamilies.family(for: bf16, architecture: .sm90a).name == "sm90_bf16_gemm")
        #expect(GEMMKernelFamilies.families(for: .sm90a).map(\.name) == ["sm90_bf16_gemm", "sm90_fp8_gemm_1d2d", "sm90_fp8_gemm_1d1d"])
        #expect(throws: DeepGEMMError.unsupported(argument: "device", rule: "CUDA kernels for normal bf16 x bf16 -> f32 GEMMs (noSF) exist for sm_90a only; this device is sm_100a")) {
            _ = try GEMMKernelFamilies.family(for: bf16, architecture: .sm100a)
        }
        let fp8 = GEMMProblem(kind: .normal, m: 128, n: 256, k: 512, typeA: .float8E4M3, typeB: .float8E4M3, kernelType: .oneD2D)
        #expect(!SM90BF16GEMMFamily().accepts(fp8))
        #expect(try GEMMKernelFamilies.family(for: fp8, architecture: .sm90a).name == "sm90_fp8_gemm_1d2d")
        var oneD1D = fp8
        oneD1D.kernelType = .oneD1D
        #expect(throws: DeepGEMMError.self) { _ = try GEMMKernelFamilies.family(for: oneD1D, architecture: .sm90a) }
    }

    @Test("a plan lists the entry point's arguments in order and launches one CTA per SM with the selection's cluster")
    func plan() throws {
        let family = SM90BF16GEMMFamily()
        let (groups, maxM, n, k) = (4, 256, 1024, 512)
        let problem = GEMMKernelProblem(GEMMProblem(kind: .mGroupedMasked, m: maxM, n: n, k: k, numGroups: groups, expectedM: 100), numSMs: 132)
        let base: UInt64 = 0x7f00_0000_0000
        let layouts = GEMMOperandLayouts(
            a: StridedLayout(address: base, dtype: .bfloat16, shape: [groups, maxM, k], strides: [maxM * k, k, 1]),
            b: StridedLayout(address: base + 0x100_0000, dtype: .bfloat16, shape: [groups, n, k], strides: [n * k, k, 1]),
            d: StridedLayout(address: base + 0x200_0000, dtype: .bfloat16, shape: [groups, maxM, n], strides: [maxM * n, n, 1]),
            groupedLayout: base + 0x300_0000)
        let plan = try family.plan(problem, layouts: layouts, pdl: true)
        let config = try #require(plan.selection.config as? SM90GEMMConfig)
        #expect(Array(plan.arguments.prefix(4)) == [.pointer(base + 0x300_0000), .u32(UInt32(maxM)), .u32(UInt32(n)), .u32(UInt32(k))])
        #expect(plan.tensorMaps.count == 3 && plan.arguments.count == 7)
        #expect(plan.tensorMaps.map(\.address) == [base, base + 0x100_0000, base + 0x200_0000])
        #expect(plan.launch == LaunchConfiguration(gridSize: 132, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                                   clusterSize: config.clusterSize, programmaticDependentLaunch: true))
        #expect(plan.selection.source == (try family.select(problem)).source && plan.selection.family == "sm90_bf16_gemm")
    }
}
