import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

@Suite("SM90 split-K kernels' arithmetic on the host: K splits, batched-sum work, shared memory, launch plans")
struct SM90SplitKKernelHostTests {
    @Test("split ranges tile the K blocks in order, sizes differ by at most one, the larger ones first; splits past the blocks are empty")
    func splitRanges() {
        for blocks in [1, 2, 3, 7, 64, 112, 120, 448, 1000] {
            for splits in [1, 2, 3, 5, 16, 17, 64, 200] {
                var next: UInt32 = 0
                var counts: [UInt32] = []
                for split in 0..<splits {
                    let range = dg_host_split_k_range(UInt32(blocks), UInt32(splits), UInt32(split))
                    #expect(range.first == next, "blocks \(blocks) splits \(splits) split \(split)")
                    next = range.first + range.count
                    counts.append(range.count)
                }
                #expect(next == UInt32(blocks))
                #expect(counts.max()! - counts.min()! <= 1 && counts == counts.sorted(by: >), "\(counts)")
            }
        }
        // DeepGEMM's test shapes: K = 7680 (120 blocks) in 16 splits gives 8 blocks to the first 8 splits, 7 to the rest
        #expect((0..<16).map { dg_host_split_k_range(120, 16, $0).count } == Array(repeating: 8, count: 8) + Array(repeating: 7, count: 8))
        #expect((0..<5).map { dg_host_split_k_range(3, 5, $0).count } == [1, 1, 1, 0, 0])
    }

    @Test("the batched sum's CTAs cover every (tile, batch, K block) exactly once, none idle, with the heuristics' grid",
          arguments: goldenRows(deepGEMMSM90BatchedSumChoices))
    func batchedSumCoverage(row: (inputs: [Int], outputs: [Int])) throws {
        let (s, m, n, k) = (row.inputs[0], row.inputs[1], row.inputs[2], row.inputs[3])
        let config = try SM90BatchedSumHeuristics.config(s: s, m: m, n: n, k: k, numSMs: 132)
        let (mBlocks, nBlocks, pairs) = (ceilDiv(m, 128), ceilDiv(n, 128), s * k / 64)
        let ctas = Int(dg_host_batched_sum_num_ctas(UInt32(mBlocks), UInt32(nBlocks), UInt32(pairs), UInt32(config.splitK)))
        #expect(ctas == config.gridSize)
        var seen = [UInt8](repeating: 0, count: mBlocks * nBlocks * pairs)
        for cta in 0..<ctas {
            let work = dg_host_batched_sum_work_of(UInt32(cta), UInt32(mBlocks), UInt32(nBlocks), UInt32(pairs), UInt32(config.splitK))
            #expect(work.pairs.count > 0 && work.pairs.count <= UInt32(config.splitK) && work.m_block < mBlocks && work.n_block < nBlocks)
            let tile = Int(work.m_block) * nBlocks + Int(work.n_block)
            for pair in Int(work.pairs.first)..<Int(work.pairs.first + work.pairs.count) { seen[tile * pairs + pair] += 1 }
        }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    @Test("the launched shared memory is what the kernels' layouts address")
    func sharedMemory() throws {
        for (inputs, _) in goldenRows(deepGEMMSM90HCPrenormChoices) {
            let config = try SM90HCPrenormHeuristics.config(m: inputs[0], n: inputs[1], k: inputs[2], numSplits: inputs[3])
            #expect(config.sharedMemoryBytes == Int(dg_host_sm90_hc_prenorm_smem_bytes(UInt32(config.blockN), UInt32(config.numStages))))
        }
        let config = try SM90BatchedSumHeuristics.config(s: 129, m: 128, n: 384, k: 128, numSMs: 132)
        #expect(config.sharedMemoryBytes == Int(dg_host_sm90_batched_sum_smem_bytes(UInt32(config.numStages))))
    }

    @Test("HC prenorm plan: TF32 B map in 32-float atoms, split-indexed D map, arguments in the entry point's order")
    func hcPrenormPlan() throws {
        let (m, n, k, splits) = (137, 24, 7680, 16)
        let a = StridedLayout(address: 0x10000, dtype: .bfloat16, shape: [m, k], strides: [k, 1])
        let b = StridedLayout(address: 0x20000, dtype: .float32, shape: [n, k], strides: [k, 1])
        let d = StridedLayout(address: 0x30000, dtype: .float32, shape: [splits, m, n], strides: [m * n, n, 1])
        let plan = try SM90HCPrenormFamily().plan(m: m, n: n, k: k, numSplits: splits, a: a, b: b, d: d, sqrSum: 0x40000, pdl: false)
        let maps = plan.tensorMaps
        #expect(maps.count == 3)
        #expect(maps[0].elementType == .bfloat16 && maps[0].box == [64, 64, 1] && maps[0].swizzleBytes == 128)
        #expect(maps[1].elementType == .tfloat32 && maps[1].box == [32, 32, 1] && maps[1].swizzleBytes == 128 && maps[1].dimensions == [UInt64(k), UInt64(n), 1])
        #expect(maps[2].dimensions == [UInt64(n), UInt64(m), UInt64(splits)] && maps[2].byteStrides == [UInt64(n * 4), UInt64(m * n * 4)])
        #expect(maps[2].box == [32, 64, 1] && maps[2].swizzleBytes == 0)
        #expect(plan.arguments.first == .u32(UInt32(m)) && plan.arguments.last == .pointer(0x40000))
        #expect(plan.launch.gridSize == splits * 3 && plan.launch.blockSize == 256 && plan.launch.clusterSize == 1)
        #expect(plan.selection.source.code.contains("dg::sm90_tf32_hc_prenorm_gemm<7680, 32, 16, 12, GeneratedMMA>"))
    }

    @Test("bmk,bnk->mn plan: A and B as [S*M, K] and [S*N, K] maps, D a pointer; the cast plan covers every element")
    func batchedSumPlan() throws {
        let (s, m, n, k) = (129, 384, 128, 384)
        let a = StridedLayout(address: 0x10000, dtype: .bfloat16, shape: [s, m, k], strides: [m * k, k, 1])
        let b = StridedLayout(address: 0x20000, dtype: .bfloat16, shape: [s, n, k], strides: [n * k, k, 1])
        let family = SM90BatchedSumFamily()
        let plan = try family.plan(a: a, b: b, d: 0x30000, numSMs: 132, pdl: true)
        #expect(plan.tensorMaps.map(\.dimensions) == [[UInt64(k), UInt64(s * m), 1], [UInt64(k), UInt64(s * n), 1]])
        #expect(plan.tensorMaps.allSatisfy { $0.box == [64, 128, 1] && $0.swizzleBytes == 128 })
        #expect(plan.arguments.first == .u32(UInt32(s)) && plan.arguments.last == .pointer(0x30000))
        #expect(plan.launch.gridSize == 129 && plan.launch.blockSize == 384 && plan.launch.programmaticDependentLaunch)
        #expect(plan.selection.source.code.contains("dg::sm90_bf16_bmk_bnk_mn<384, 128, 384, 18, 4, GeneratedMMA>"))
        let cast = try family.castPlan(source: 0x30000, destination: 0x50000, count: 1000)
        #expect(cast.launch.gridSize * cast.launch.blockSize >= 1000 && (cast.launch.gridSize - 1) * cast.launch.blockSize < 1000)
    }

    @Test("the TF32 wgmma wrapper takes A from four registers and B from a descriptor")
    func tf32Wrapper() {
        let text = WGMMAInstruction(n: 16, transposeA: false, transposeB: false, operands: .tf32RegisterA).cppStruct(named: "M")
        #expect(text.contains("wgmma.mma_async.sync.aligned.m64n16k8.f32.tf32.tf32 {%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, p, 1, 1;"))
        #expect(text.contains("setp.ne.b32 p, %13, 0;"))
        #expect(text.contains("mma(const float* a, dg::u64 desc_b, float* d, dg::u32 scale_d)"))
        #expect(text.contains("\"r\"(__float_as_uint(a[3])), \"l\"(desc_b), \"r\"(scale_d)"))
    }
}
