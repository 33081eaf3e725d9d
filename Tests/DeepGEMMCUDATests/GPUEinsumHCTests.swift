import DeepGEMM
import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// `einsum` and `tf32_hc_prenorm_gemm` on the GPU against the CPU backend on the same inputs
/// (skipped without a device), with DeepGEMM's thresholds: 1e-5 for `bmk,bnk->mn`, 1e-10 for the
/// `bh*` expressions, 1e-3 for `fp8_einsum`, 1e-8 for HC prenorm (summed over the splits).
@Suite("einsum and tf32_hc_prenorm_gemm on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUEinsumHCTests {
    /// Runs `body` on host copies and on device copies of `tensors` and returns both results' values
    /// (the tensors at `outputs`), host first.
    static func onBoth(_ tensors: [Tensor], outputs: [Int], _ body: ([Tensor]) throws -> Void) throws -> (cpu: [[Double]], gpu: [[Double]]) {
        let host = tensors.map { $0.clone() }
        let device = try tensors.map { try $0.to(.cuda(0)) }
        try body(host)
        try body(device)
        return (outputs.map { host[$0].doubleValues() }, try outputs.map { try device[$0].to(.host).doubleValues() })
    }

    @Test("bmk,bnk->mn: F32 D accumulated in place and BF16 D (calc_diff < 1e-5)",
          arguments: [(129, 128, 384, 128), (129, 256, 256, 256), (4096, 384, 128, 384)], [DType.float32, .bfloat16])
    func batchedSum(shape: (Int, Int, Int, Int), outputType: DType) throws {
        let (s, m, n, k) = shape
        let a = Tensor.randn([s, m, k], dtype: .bfloat16, seed: 31), b = Tensor.randn([s, n, k], dtype: .bfloat16, seed: 32)
        let d = Tensor.randn([m, n], dtype: outputType, seed: 33, scale: 8)
        let (cpu, gpu) = try Self.onBoth([a, b, d], outputs: [2]) { t in
            try einsum("bmk,bnk->mn", a: t[0], b: t[1], d: t[2], c: outputType == .float32 ? t[2] : nil)
        }
        #expect(calcDiff(gpu[0], cpu[0]) < 1e-5)
    }

    @Test("bhr,hdr->bhd and bhd,hdr->bhr with B a [:, :, :r] slice (calc_diff < 1e-10)",
          arguments: ["bhr,hdr->bhd", "bhd,hdr->bhr"], [(128, 512, 128, 4), (8, 4096, 1024, 32), (128, 512, 128, 129)])
    func perHead(expression: String, shape: (Int, Int, Int, Int)) throws {
        let (h, r, dim, batch) = shape
        let reducesR = expression == "bhr,hdr->bhd"
        let a = Tensor.randn([batch, h, reducesR ? r : dim], dtype: .bfloat16, seed: 41)
        let b = try Tensor.randn([h, dim, r + 128], dtype: .bfloat16, seed: 42).narrow(dim: 2, start: 0, length: r)
        let d = Tensor(zeros: [batch, h, reducesR ? dim : r], dtype: .bfloat16)
        let (cpu, gpu) = try Self.onBoth([a, b, d], outputs: [2]) { t in
            let bView = try t[1].narrow(dim: 2, start: 0, length: r)
            try einsum(expression, a: t[0], b: bView, d: t[2])
        }
        #expect(calcDiff(gpu[0], cpu[0]) < 1e-10)
    }

    @Test("fp8_einsum bhr,hdr->bhd on DeepGEMM's test operands (A's scales K-major as the cast leaves them) matches the CPU backend (calc_diff < 1e-3)",
          arguments: [4, 129])
    func fp8PerHead(batch: Int) throws {
        let (h, r, dim) = (8, 1024, 384)
        let x = try perTokenCastToFP8(Tensor.randn([batch * h, r], dtype: .bfloat16, seed: 51), useUE8M0: false)
        let y = try GPUFP8OpsTests.quantizeGroupedB(Tensor.randn([h, dim, r], dtype: .bfloat16, seed: 52))
        let tensors = [try x.data.reshaped([batch, h, r]), try x.sf.reshaped([batch, h, r / 128]), y.data, y.sf,
                       Tensor(zeros: [batch, h, dim], dtype: .bfloat16)]
        let (cpu, gpu) = try Self.onBoth(tensors, outputs: [4]) { t in
            try fp8Einsum("bhr,hdr->bhd", a: QuantizedTensor(data: t[0], sf: t[1]), b: QuantizedTensor(data: t[2], sf: t[3]), d: t[4])
        }
        #expect(calcDiff(gpu[0], cpu[0]) < 1e-3)
    }

    @Test("tf32_hc_prenorm_gemm: D and sqr_sum summed over the splits (calc_diff < 1e-8), each split's partials close",
          arguments: [13, 137, 4096], [Int?.none, 16, 200])
    func hcPrenorm(m: Int, splits: Int?) throws {
        let (n, k) = (24, 7680)
        let s = splits ?? 1
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: 51), b = Tensor.randn([n, k], dtype: .float32, seed: 52)
        let d = Tensor.randn(splits == nil ? [m, n] : [s, m, n], dtype: .float32, seed: 53)
        let sqrSum = Tensor.randn(splits == nil ? [m] : [s, m], dtype: .float32, seed: 54)
        let (cpu, gpu) = try Self.onBoth([a, b, d, sqrSum], outputs: [2, 3]) { t in
            try tf32HCPrenormGEMM(a: t[0], b: t[1], d: t[2], sqrSum: t[3], numSplits: splits)
        }
        func summed(_ values: [Double], _ size: Int) -> [Double] { (0..<size).map { i in (0..<s).reduce(0) { $0 + values[$1 * size + i] } } }
        #expect(calcDiff(summed(gpu[0], m * n), summed(cpu[0], m * n)) < 1e-8)
        #expect(calcDiff(summed(gpu[1], m), summed(cpu[1], m)) < 1e-8)
        // Splits past the 120 K blocks are zero on both
        #expect(calcDiff(gpu[0], cpu[0]) < 1e-6 && calcDiff(gpu[1], cpu[1]) < 1e-6)
    }

    @Test("N > 32 on the device is unsupported and names b")
    func hcPrenormWideN() throws {
        let a = try Tensor.empty([64, 128], dtype: .bfloat16, device: .cuda(0)), b = try Tensor.empty([40, 128], dtype: .float32, device: .cuda(0))
        let d = try Tensor.empty([64, 40], dtype: .float32, device: .cuda(0)), sqrSum = try Tensor.empty([64], dtype: .float32, device: .cuda(0))
        #expect(throws: DeepGEMMError.unsupported(argument: "b", rule: "SM90 tf32_hc_prenorm_gemm takes N <= 32, got 40 (N <= 128 needs SM100)")) {
            try tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum)
        }
    }
}
