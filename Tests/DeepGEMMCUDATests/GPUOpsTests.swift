import DeepGEMMCore
import DeepGEMM
import Testing
@testable import DeepGEMMCUDA

/// Every CUDA op on the GPU against the CPU backend on the same random inputs (skipped without a device).
@Suite("CUDA ops on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUOpsTests {
    static let cases: [GEMMCase] = {
        var cases: [GEMMCase] = []
        for layout in ["nt", "nn", "tn", "tt"] {
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 1, n: 256, k: 512))
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 300, n: 520, k: 1032))
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 512, n: 1024, k: 512, outputType: .float32, accumulate: true))
            cases.append(GEMMCase(op: "cublaslt_gemm_\(layout)", m: 300, n: 520, k: 1032, accumulate: layout == "nn"))
        }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 1024, n: 2048, k: 256, accumulate: true))
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 256, n: 256, k: 7168, outputType: .float32))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nn_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300, psumLayout: true))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 512, n: 1024, k: 512, groups: 4, expectedM: 200))
        return cases
    }()

    @Test("matches the CPU backend (calc_diff < 1e-5)", arguments: cases)
    func matchesCPU(gemmCase: GEMMCase) throws {
        let inputs = try GEMMCaseInputs(gemmCase, seed: 11)
        let result = try GEMMCaseRunner(gemmCase, inputs: inputs).run()
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let difference = try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected)
        #expect(difference < GEMMCaseCheck.tolerance, "\(gemmCase): calc_diff \(difference)")
    }

    @Test("cublaslt_gemm_* through the op on CUDA tensors matches the CPU: FP8 and F32 operands, F32 and BF16 D, C, a column-major D",
          arguments: [(DType.float8E4M3, DType.bfloat16, false, false), (.float8E4M3, .float32, true, false), (.float32, .float32, true, false),
                      (.bfloat16, .float32, false, true), (.bfloat16, .bfloat16, true, true)])
    func cublasLtOperandTypes(_ inputType: DType, _ outputType: DType, _ accumulate: Bool, _ columnMajorD: Bool) throws {
        // cuBLASLt's FP8 kernels need 16-byte leading dimensions, so FP8 takes K = 512; the others a K tail
        let (m, n, k) = (136, 264, inputType == .float8E4M3 ? 512 : 520)
        let a = Tensor.randn([m, k], dtype: inputType, seed: 21), b = Tensor.randn([n, k], dtype: inputType, seed: 22)
        // a column-major D is the transpose of a row-major [N, M] buffer; C is always row-major [M, N]
        let buffer = Tensor.randn(columnMajorD ? [n, m] : [m, n], dtype: outputType, seed: 23, scale: 4)
        let expectedBuffer = buffer.clone(), deviceBuffer = try buffer.to(.cuda(0))
        func view(_ tensor: Tensor) throws -> Tensor { columnMajorD ? try tensor.transposed() : tensor }
        let c = accumulate ? try view(buffer).clone() : nil
        try cublasLtGEMM(.nt, a: a, b: b, d: try view(expectedBuffer), c: c)
        try cublasLtGEMM(.nt, a: try a.to(.cuda(0)), b: try b.to(.cuda(0)), d: try view(deviceBuffer), c: try c?.to(.cuda(0)))
        let (d, expected) = (deviceBuffer, expectedBuffer)
        let difference = calcDiff(try d.to(.host).doubleValues(), expected.doubleValues())
        #expect(difference < GEMMCaseCheck.tolerance, "calc_diff \(difference)")
    }

    @Test("device tensors round-trip with their strides")
    func roundTrip() throws {
        let host = try Tensor.randn([64, 48], dtype: .bfloat16, seed: 2).transposed()
        let back = try host.to(.cuda(0)).to(.host)
        #expect(back.strides == host.strides && back.bitwiseEqual(host))
    }

    @Test("strided device copies and fills touch only the view's rows")
    func stridedCopyAndZero() throws {
        let host = Tensor.randn([8, 32], dtype: .float32, seed: 5)
        let device = try host.to(.cuda(0))
        let rows = try device.narrow(dim: 1, start: 8, length: 16)
        try rows.copy(from: Tensor(zeros: [8, 16], dtype: .float32))
        try device.narrow(dim: 0, start: 0, length: 1).zero()
        let expected = host.clone()
        try expected.narrow(dim: 1, start: 8, length: 16).zero()
        try expected.narrow(dim: 0, start: 0, length: 1).zero()
        #expect(try device.to(.host).bitwiseEqual(expected))
    }

    @Test("K = 0 through the op on CUDA tensors: D becomes C, or zero without C")
    func emptyK() throws {
        let a = try Tensor.empty([16, 0], dtype: .bfloat16, device: .cuda(0))
        let b = try Tensor.empty([32, 0], dtype: .bfloat16, device: .cuda(0))
        let initial = Tensor.randn([16, 32], dtype: .float32, seed: 4)
        let d = try initial.to(.cuda(0))
        try bf16GEMM(.nt, a: a, b: b, d: d, c: d)
        #expect(try d.to(.host).bitwiseEqual(initial))
        try bf16GEMM(.nt, a: a, b: b, d: d)
        #expect(try d.to(.host).doubleValues().allSatisfy { $0 == 0 })
    }
}
