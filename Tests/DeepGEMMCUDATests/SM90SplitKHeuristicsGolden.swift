import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// DeepGEMM's SM90 choices for `einsum("bmk,bnk->mn")` and `tf32_hc_prenorm_gemm` on its test
/// shapes (spec api.md §11, §13) on 132 SMs, computed with a Python port of
/// csrc/jit_kernels/impls/sm90_bmk_bnk_mn.hpp and sm90_tf32_hc_prenorm_gemm.hpp, independent of
/// the Swift code. (DeepGEMM launches HC prenorm with all 232448 bytes; the table holds the bytes
/// its stage loop computes, which is what the Swift plan launches with.)
///
/// Batched sum columns: s m n k -> split_factor stages shared_memory grid.
let deepGEMMSM90BatchedSumChoices = """
129 128 384 128 -> 6 4 131136 129
129 256 256 256 -> 16 4 131136 132
129 384 128 384 -> 18 4 131136 129
4096 128 384 128 -> 187 4 131136 132
4096 256 256 256 -> 497 4 131136 132
4096 384 128 384 -> 559 4 131136 132
8192 128 384 128 -> 373 4 131136 132
8192 256 256 256 -> 993 4 131136 132
8192 384 128 384 -> 1118 4 131136 132
"""

/// HC prenorm columns: m n k num_splits -> block_n stages shared_memory grid.
let deepGEMMSM90HCPrenormChoices = """
13 24 28672 1 -> 32 12 204992 1
13 24 28672 16 -> 32 12 204992 16
13 24 7680 1 -> 32 12 204992 1
13 24 7168 16 -> 32 12 204992 16
137 24 28672 1 -> 32 12 204992 3
137 24 28672 16 -> 32 12 204992 48
137 24 7680 16 -> 32 12 204992 48
137 24 7168 1 -> 32 12 204992 3
4096 24 28672 16 -> 32 12 204992 1024
4096 24 7680 1 -> 32 12 204992 64
4096 24 7168 16 -> 32 12 204992 1024
8192 24 28672 1 -> 32 12 204992 128
8192 24 7680 16 -> 32 12 204992 2048
8192 24 7168 1 -> 32 12 204992 128
4096 8 7168 1 -> 16 12 151744 64
4096 16 7168 16 -> 16 12 151744 1024
4096 32 7168 1 -> 32 12 204992 64
"""

/// The integers of each table line, left and right of the arrow.
func goldenRows(_ table: String) -> [(inputs: [Int], outputs: [Int])] {
    table.split(separator: "\n").map { line in
        let sides = line.split(separator: ">")
        let numbers = { (text: Substring) in text.split(separator: " ").compactMap { Int($0) } }
        return (numbers(sides[0]), numbers(sides[1]))
    }
}

@Suite("SM90 split-K heuristics match DeepGEMM's choices (bmk,bnk->mn and tf32_hc_prenorm_gemm)")
struct SM90SplitKHeuristicsGolden {
    @Test("bmk,bnk->mn: split factor, stages, shared memory and grid of every test shape")
    func batchedSum() throws {
        let rows = goldenRows(deepGEMMSM90BatchedSumChoices)
        #expect(rows.count == 9)
        for (inputs, outputs) in rows {
            let config = try SM90BatchedSumHeuristics.config(s: inputs[0], m: inputs[1], n: inputs[2], k: inputs[3], numSMs: 132)
            #expect([config.splitK, config.numStages, config.sharedMemoryBytes, config.gridSize] == outputs, "\(inputs)")
            #expect(config.blockM == 128 && config.blockN == 128 && config.blockK == 64 && config.numThreads == 384)
        }
    }

    @Test("tf32_hc_prenorm_gemm: block N, stages, shared memory and grid of every test shape")
    func hcPrenorm() throws {
        let rows = goldenRows(deepGEMMSM90HCPrenormChoices)
        #expect(rows.count == 17)
        for (inputs, outputs) in rows {
            let config = try SM90HCPrenormHeuristics.config(m: inputs[0], n: inputs[1], k: inputs[2], numSplits: inputs[3])
            #expect([config.blockN, config.numStages, config.sharedMemoryBytes, config.gridSize] == outputs, "\(inputs)")
            #expect(config.blockM == 64 && config.blockK == 64 && config.numThreads == 256 && config.splitK == inputs[3])
        }
    }

    @Test("N past 32 is unsupported on SM90 and names b; bad shapes name their argument", arguments: [40, 64, 128])
    func wideN(n: Int) {
        #expect(throws: DeepGEMMError.unsupported(argument: "b", rule: "SM90 tf32_hc_prenorm_gemm takes N <= 32, got \(n) (N <= 128 needs SM100)")) {
            try SM90HCPrenormHeuristics.config(m: 64, n: n, k: 128, numSplits: 1)
        }
    }

    @Test("kernel limits throw naming the argument")
    func limits() {
        #expect(throws: DeepGEMMError.self) { try SM90HCPrenormHeuristics.config(m: 64, n: 24, k: 100, numSplits: 1) }
        #expect(throws: DeepGEMMError.self) { try SM90HCPrenormHeuristics.config(m: 64, n: 24, k: 128, numSplits: 0) }
        #expect(throws: DeepGEMMError.self) { try SM90BatchedSumHeuristics.config(s: 4, m: 96, n: 128, k: 128, numSMs: 132) }
        #expect(throws: DeepGEMMError.self) { try SM90BatchedSumHeuristics.config(s: 1 << 24, m: 256, n: 128, k: 128, numSMs: 132) }
    }
}
