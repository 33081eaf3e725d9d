import DeepGEMMCPU
import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// The CPU backend's GEMM on host views, the reference of the device check.
func cpuGEMM(_ a: Tensor, _ b: Tensor, _ d: Tensor, _ accumulate: Bool) throws {
    try GEMMEngine.run(a: gemmOperand(a, name: "a", scales: nil), b: gemmOperand(b, name: "b", scales: nil), d: d, accumulate: accumulate)
}

@Suite("Device-check cases on the host")
struct GEMMCaseTests {
    @Test("dense inputs take DeepGEMM's layouts; nt views are [M, K] and [N, K]", arguments: ["nt", "nn", "tn", "tt"])
    func denseLayouts(layout: String) throws {
        let gemmCase = GEMMCase(op: "bf16_gemm_\(layout)", m: 24, n: 40, k: 32)
        let inputs = try GEMMCaseInputs(gemmCase, seed: 1)
        #expect(inputs.a.shape == (layout.hasPrefix("t") ? [32, 24] : [24, 32]))
        #expect(inputs.b.shape == (layout == "nn" || layout == "tn" ? [32, 40] : [40, 32]))
        let (a, b) = try inputs.ntOperands(gemmCase)
        #expect(a.shape == [24, 32] && b.shape == [40, 32])
        #expect((a.stride(-1) == 1) == layout.hasPrefix("n"))
        #expect((b.stride(-1) == 1) == (layout == "nt" || layout == "tt"))
    }

    @Test("the reference is A·Bᵀ (+ C) in every layout")
    func denseReference() throws {
        for layout in ["nt", "nn", "tn", "tt"] {
            for (output, accumulate) in [(DType.bfloat16, false), (.float32, true), (.bfloat16, true)] {
                let gemmCase = GEMMCase(op: "bf16_gemm_\(layout)", m: 8, n: 16, k: 24, outputType: output, accumulate: accumulate)
                let inputs = try GEMMCaseInputs(gemmCase, seed: 3)
                let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
                let (a, b) = try inputs.ntOperands(gemmCase)
                let (av, bv, cv) = (a.doubleValues(), b.doubleValues(), inputs.d.doubleValues())
                var naive = [Double](repeating: 0, count: 8 * 16)
                for i in 0..<8 {
                    for j in 0..<16 {
                        var sum = 0.0
                        for p in 0..<24 { sum += av[i * 24 + p] * bv[j * 24 + p] }
                        naive[i * 16 + j] = sum + (accumulate ? cv[i * 16 + j] : 0)
                    }
                }
                #expect(calcDiff(expected.doubleValues(), naive) < 1e-5, "\(gemmCase)")
            }
        }
    }

    @Test("contiguous inputs: groups aligned to 128 rows, padding rows -1 with zero A rows")
    func contiguousLayout() throws {
        let gemmCase = GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 16, k: 64, groups: 3, expectedM: 100)
        let inputs = try GEMMCaseInputs(gemmCase, seed: 5)
        let layout = try #require(inputs.layout).elements(as: Int32.self)
        #expect(layout.count % 128 == 0 && inputs.a.shape == [layout.count, 64] && inputs.b.shape == [3, 16, 64])
        for start in stride(from: 0, to: layout.count, by: 128) {
            let group = layout[start]
            #expect(group >= 0 && layout[start..<start + 128].allSatisfy { $0 == group || $0 == -1 })
        }
        for (row, group) in layout.enumerated() where group < 0 {
            #expect(try inputs.a.select(dim: 0, index: row).doubleValues().allSatisfy { $0 == 0 })
        }
        #expect(inputs.validRows == [layout.filter { $0 >= 0 }.count])
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        for (row, group) in layout.enumerated() where group < 0 {
            #expect(try expected.select(dim: 0, index: row).doubleValues().allSatisfy { $0 == 0 })
        }
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: expected, expected: expected) == 0)
    }

    @Test("psum inputs: cumulative ends, groups starting at aligned ends, zero gap rows")
    func psumLayout() throws {
        let gemmCase = GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 16, k: 64, groups: 3, expectedM: 100, psumLayout: true)
        let inputs = try GEMMCaseInputs(gemmCase, seed: 5)
        let ends = try #require(inputs.layout).elements(as: Int32.self).map(Int.init)
        #expect(ends.count == 3 && inputs.a.size(0) == ceilDiv(ends[2], 128) * 128)
        var start = 0
        var valid = 0
        for end in ends {
            #expect(start % 128 == 0 && end >= start)
            valid += end - start
            start = ceilDiv(end, 128) * 128
        }
        #expect(inputs.validRows == [valid])
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        // Gap rows are zero, group rows use their group's B
        #expect(try expected.select(dim: 0, index: ends[0]).doubleValues().allSatisfy { $0 == 0 } || ends[0] % 128 == 0)
        let firstGroupRow = try expected.select(dim: 0, index: 0)
        let single = Tensor(zeros: [1, 16], dtype: .bfloat16)
        try cpuGEMM(try inputs.a.narrow(dim: 0, start: 0, length: 1), try inputs.b.select(dim: 0, index: 0), single, false)
        #expect(firstGroupRow.bitwiseEqual(try single.select(dim: 0, index: 0)))
        let lastStart = ceilDiv(ends[1], 128) * 128
        let lastRow = Tensor(zeros: [1, 16], dtype: .bfloat16)
        try cpuGEMM(try inputs.a.narrow(dim: 0, start: lastStart, length: 1), try inputs.b.select(dim: 0, index: 2), lastRow, false)
        #expect(try expected.select(dim: 0, index: lastStart).bitwiseEqual(try lastRow.select(dim: 0, index: 0)))
    }

    @Test("masked comparison ignores rows past masked_m and sees the others")
    func maskedDifference() throws {
        let gemmCase = GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 32, n: 16, k: 64, groups: 2, expectedM: 20)
        let inputs = try GEMMCaseInputs(gemmCase, seed: 7)
        #expect(inputs.validRows.count == 2 && inputs.validRows.allSatisfy { $0 > 0 && $0 <= 32 })
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let result = expected.clone()
        let firstRows = inputs.validRows[0]
        if firstRows < 32 { try result.select(dim: 0, index: 0).select(dim: 0, index: firstRows).copy(from: Tensor.randn([16], dtype: .bfloat16, seed: 9)) }
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected) == 0)
        try result.select(dim: 0, index: 1).select(dim: 0, index: 0).copy(from: Tensor.randn([16], dtype: .bfloat16, seed: 9, scale: 100))
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected) > 1e-3)
    }

    @Test("non-finite results fail the comparison")
    func nonFinite() throws {
        let gemmCase = GEMMCase(op: "bf16_gemm_nt", m: 4, n: 8, k: 16)
        let inputs = try GEMMCaseInputs(gemmCase, seed: 1)
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let result = expected.clone()
        try result.select(dim: 0, index: 0).select(dim: 0, index: 0).copy(from: Tensor(converting: [.nan], shape: [], dtype: .bfloat16))
        #expect(try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected).isNaN)
    }

    @Test("the verification and benchmark lists cover every BF16 CUDA GEMM op: the SM90 BF16 kernel and cuBLASLt")
    func coverage() {
        let cublasLt = ["nt", "nn", "tn", "tt"].map { "cublaslt_gemm_" + $0 }
        // The per-head einsums also run this kernel; their cases are EinsumHCCases in the CLI
        let ops = Set(SM90BF16GEMMFamily().representativeProblems(numSMs: 132).map(\.op) + cublasLt).subtracting(["einsum"])
        #expect(Set(GEMMCase.verification.map(\.op)) == ops)
        #expect(Set(GEMMCase.benchmark.map(\.op)).isSubset(of: ops))
        #expect(GEMMCase.verification.contains { $0.outputType == .float32 && $0.accumulate })
        #expect(GEMMCase.verification.contains { $0.m % 64 != 0 && $0.n % 64 != 0 && $0.k % 64 != 0 })
    }

    @Test("fast random inputs are finite BF16 of moderate size")
    func fastInputs() {
        let values = GEMMCaseInputs.hashedBits([64, 64], seed: 3).doubleValues()
        #expect(values.allSatisfy { $0.isFinite && abs($0) >= 0.0625 && abs($0) < 2 })
        #expect(Set(values).count > 1000)
    }
}
