import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

@Suite("Indexer kernels compile (needs NVRTC and the CUDA headers, not a GPU)", .serialized, .enabled(if: isNVRTCAvailable))
struct IndexerKernelCompileTests {
    @Test("the prefill and paged logits kernels compile to FP8 wgmma fed by TMA and mbarriers, without spills")
    func logitsKernels() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let prefill = try SM90FP8MQALogitsFamily().select(MQALogitsKernelProblem(seqLen: 4096, seqLenKV: 16384, numHeads: 64, headDim: 128,
                                                                                  maxSeqlenK: 4096, numSMs: 132))
        let paged = try SM90FP8PagedMQALogitsFamily().select(PagedMQAKernelProblem(batchSize: 64, nextN: 1, numHeads: 64, headDim: 64,
                                                                                  numBlocks: 1024, maxContextLen: 8192, numSMs: 132))
        for (selection, n) in [(prefill, 128), (paged, 64)] {
            let compiled = try compiler.compile(selection.source, for: .sm90a, keepPTX: true)
            let ptx = try #require(compiled.ptx)
            #expect(!compiled.report.usesLocalMemory, "\(selection.family)")
            #expect(ptx.contains("wgmma.mma_async.sync.aligned.m64n\(n)k32.f32.e4m3.e4m3"), "\(selection.family)")
            #expect(ptx.contains("cp.async.bulk.tensor.3d") && ptx.contains("mbarrier.try_wait.parity"), "\(selection.family)")
            #expect(ptx.contains("setmaxnreg.inc.sync.aligned.u32 112"), "\(selection.family)")
        }
    }

    @Test("the schedule and clean kernels compile")
    func helperKernels() throws {
        let compiler = try NVRTCCompiler.shared.get()
        let metadata = try compiler.compile(SM90PagedMQAMetadataFamily().select().source, for: .sm90a, keepPTX: true)
        #expect(metadata.ptx?.contains("shfl.sync.up") == true && !metadata.report.usesLocalMemory)
        let clean = try compiler.compile(SMXXCleanLogitsFamily().select(compressed: true, dtype: .bfloat16).source, for: .sm90a, keepPTX: false)
        #expect(!clean.report.usesLocalMemory)
    }
}

@Suite("Indexer kernel registry")
struct IndexerKernelRegistryTests {
    @Test("the compile check lists the indexer ops and plans their kernels once each")
    func compileCheckRows() throws {
        let ops = try RepresentativeProblems.ops(for: .sm90a)
        #expect(ops.contains("fp8_mqa_logits") && ops.contains("fp8_paged_mqa_logits") && ops.contains("get_paged_mqa_logits_metadata"))
        let rows = try KernelCompileCheck.plan(for: .sm90a, ops: ["fp8_mqa_logits", "fp8_paged_mqa_logits", "get_paged_mqa_logits_metadata"], numSMs: 132)
        #expect(Set(rows.map(\.family)) == ["sm90_fp8_mqa_logits", "smxx_clean_logits", "sm90_paged_mqa_logits_metadata", "sm90_fp8_paged_mqa_logits"])
        #expect(rows.count == Set(rows.map(\.source)).count)
        #expect(rows.contains { $0.problems.contains("fp8_mqa_logits S=4096 SKV=16384 H=64 D=128") })
    }

    @Test("golden configurations: DeepGEMM's fixed SM90 choices (128 query-head columns, 256 keys, 3 + 3 stages, 512 + 128 threads)")
    func goldenConfigs() throws {
        let launches = try KernelFamilies.launches(for: .sm90a, numSMs: 132)
        let table = Dictionary(launches.map { ($0.label, $0.selection.config) }, uniquingKeysWith: { first, _ in first })
        let golden: [(String, [Int])] = [
            // label: blockM, blockN, blockK, stages, threads, shared memory bytes
            ("fp8_mqa_logits S=4096 SKV=16384 H=64 D=128", [128, 256, 128, 3, 640, 152_160]),
            ("fp8_mqa_logits S=4096 SKV=16384 H=32 D=64", [128, 256, 64, 3, 640, 78_432]),
            ("fp8_mqa_logits S=4096 SKV=16384 H=64 D=32", [128, 256, 32, 3, 640, 41_568]),
            ("fp8_paged_mqa_logits B=64 next_n=2 H=64 D=128 block_kv=64 max_context_len=32768", [128, 256, 128, 3, 640, 152_304]),
            ("fp8_paged_mqa_logits B=64 next_n=1 H=32 D=128 block_kv=64 max_context_len=32768", [32, 256, 128, 3, 640, 114_288]),
            ("get_paged_mqa_logits_metadata", [32, 1, 0, 1, 32, 0]),
            ("clean_logits compressed bf16", [1, 256, 0, 1, 256, 0]),
        ]
        for (label, values) in golden {
            let config = try #require(table[label], "\(label) is not a representative launch")
            #expect([config.blockM, config.blockN, config.blockK, config.numStages, config.numThreads, config.sharedMemoryBytes] == values, "\(label)")
        }
    }
}
