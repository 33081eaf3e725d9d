import DeepGEMMCore
import Foundation
import Testing
@testable import DeepGEMMCUDA

@Suite("Kernel code generation")
struct KernelSourceTests {
    func source(_ problem: GEMMKernelProblem) throws -> KernelSource {
        SM90BF16GEMMKernel.source(for: problem, config: try SM90BF16Heuristics.bestConfig(for: problem))
    }

    @Test("runtime-only dimensions do not change the code, compiled ones do")
    func compiledDims() throws {
        let problem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: 4096, n: 7168, k: 2048), numSMs: 132)
        let config = try SM90BF16Heuristics.bestConfig(for: problem)
        var otherM = problem
        otherM.m = 4000
        let first = SM90BF16GEMMKernel.source(for: problem, config: config)
        #expect(first == SM90BF16GEMMKernel.source(for: otherM, config: config))
        otherM.compiledDims = "mnk"
        let baked = SM90BF16GEMMKernel.source(for: otherM, config: config)
        #expect(baked != first && baked.code.contains("4000, 7168, 2048"))
        otherM.compiledDims = ""
        #expect(SM90BF16GEMMKernel.source(for: otherM, config: config).code.contains("0, 0, 0"))
        #expect(first.code.contains("0, 7168, 2048"))
    }

    @Test("the translation unit includes the family header and defines the entry point")
    func entryPoint() throws {
        let code = try source(GEMMKernelProblem(GEMMProblem(kind: .mGroupedMasked, m: 4096, n: 4096, k: 2048, numGroups: 6, expectedM: 1000), numSMs: 132)).code
        #expect(code.contains("#include <deep_gemm/impls/sm90_bf16_gemm.cuh>"))
        #expect(code.contains("extern \"C\" __global__ void __launch_bounds__(384, 1) deepgemm_kernel("))
        #expect(code.contains("dg::GemmKind::MGroupedMasked"))
        #expect(code.contains("__nv_bfloat16, GeneratedMMA>"))
    }

    @Test("the wgmma wrapper lists every accumulator and the transpose bits")
    func wgmma() {
        let text = WGMMAInstruction(n: 24, transposeA: false, transposeB: true).cppStruct(named: "M")
        #expect(text.contains("wgmma.mma_async.sync.aligned.m64n24k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11}, %12, %13, p, 1, 1, 0, 1;"))
        #expect(text.contains("setp.ne.b32 p, %14, 0;"))
        #expect(text.contains("\"+f\"(d[11])") && !text.contains("d[12]"))
        #expect(text.contains("kNumAccum = 12"))
    }

    @Test("every embedded header is present and included by the family header chain")
    func embeddedHeaders() {
        let names = KernelSource.headers.map(\.name)
        for name in ["deep_gemm/common/types.cuh", "deep_gemm/ptx/sync.cuh", "deep_gemm/ptx/tma.cuh", "deep_gemm/ptx/wgmma.cuh",
                     "deep_gemm/ptx/shared_store.cuh", "deep_gemm/scheduler/sm90_tile_scheduler.cuh", "deep_gemm/impls/sm90_bf16_gemm.cuh",
                     "deep_gemm/impls/sm90_fp8_gemm_1d2d.cuh", "deep_gemm/impls/sm90_gemm_tile_store.cuh", "deep_gemm/impls/sm90_gemm_pipeline.cuh"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(KernelSource.headersDigest.count == 32)
    }

    @Test("every representative problem plans; the op list covers every BF16 and FP8 (1D2D, 1D1D) GEMM op")
    func representativeProblems() throws {
        let rows = try KernelCompileCheck.plan(for: .sm90a, ops: [], numSMs: 132).filter { $0.family == "sm90_bf16_gemm" }
        #expect(rows.count == Set(rows.map(\.source)).count)
        #expect(rows.count >= 30 && rows.count <= 80)
        #expect(Set(RepresentativeProblems.entries(for: .sm90a, numSMs: 132).map(\.op)).sorted() == [
            "bf16_gemm_nn", "bf16_gemm_nt", "bf16_gemm_tn", "bf16_gemm_tt", "einsum", "fp8_einsum", "fp8_gemm_nt", "fp8_gemm_nt_skip_head_mid",
            "k_grouped_fp8_gemm_nt_contiguous", "m_grouped_bf16_gemm_nn_contiguous", "m_grouped_bf16_gemm_nt_contiguous", "m_grouped_bf16_gemm_nt_masked",
            "m_grouped_fp8_gemm_nt_contiguous", "m_grouped_fp8_gemm_nt_masked",
        ])
        #expect(try KernelCompileCheck.plan(for: .sm100a, ops: [], numSMs: 148).isEmpty)
        let onlyMasked = try KernelCompileCheck.plan(for: .sm90a, ops: ["m_grouped_bf16_gemm_nt_masked"], numSMs: 132)
        #expect(!onlyMasked.isEmpty && onlyMasked.allSatisfy { $0.problems.allSatisfy { $0.hasPrefix("m_grouped_bf16_gemm_nt_masked") } })
    }
}

@Suite("JIT environment")
struct JITOptionsTests {
    @Test("DeepGEMM's variables, with the default cache under ~/.cache")
    func parsing() {
        let defaults = JITOptions(environment: ["HOME": "/home/u"])
        #expect(defaults.cacheDirectory == "/home/u/.cache/deepgemm")
        #expect(!defaults.debug && !defaults.ptxasCheck && !defaults.printConfigs && !defaults.dumpPTX && !defaults.dumpSASS && !defaults.ptxasVerbose)
        let set = JITOptions(environment: ["DG_JIT_CACHE_DIR": "/tmp/c", "DG_JIT_DEBUG": "1", "DG_JIT_PTXAS_CHECK": "1", "DG_PRINT_CONFIGS": "1",
                                           "DG_JIT_DUMP_PTX": "1", "DG_JIT_DUMP_SASS": "1", "DG_JIT_PTXAS_VERBOSE": "1"])
        #expect(set.cacheDirectory == "/tmp/c")
        #expect(set.debug && set.ptxasCheck && set.printConfigs && set.dumpPTX && set.dumpSASS && set.ptxasVerbose)
        #expect(!JITOptions(environment: ["DG_JIT_DEBUG": "0"]).debug)
    }
}
