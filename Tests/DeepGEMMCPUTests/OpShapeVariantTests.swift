import Testing
import DeepGEMMCore
import DeepGEMMTestSupport
@testable import DeepGEMMCPU

/// The fast kernel variants against the plain-Swift path on the operand pairs and shapes that the
/// op-level tests of the DeepGEMM target run (those call `GEMMEngine.run` with `.best`, which the
/// process picks once, so the comparison is made here on the engine they reduce to).
@Suite struct OpShapeVariantTests {
    /// One op-level GEMM: its operands and the [m, n, k] it runs on (per group or head for the
    /// grouped ops and einsums).
    struct OpShape: Sendable, CustomTestStringConvertible {
        var op: String
        var a: GEMMOperandSpec
        var b: GEMMOperandSpec
        var m: Int, n: Int, k: Int

        var testDescription: String { "\(op) \(m)x\(n)x\(k) A \(a) x B \(b)" }
    }

    static let fp8Token = GEMMOperandSpec(format: .e4m3, scales: (1, 128))
    static let fp8Block = GEMMOperandSpec(format: .e4m3, scales: (128, 128))
    static let fp4Token = GEMMOperandSpec(format: .e2m1, scales: (1, 32))

    static let shapes: [OpShape] = [
        // fp8_fp4_gemm_* (DenseGEMMTests.scaledCases): nt, and tt's MN-major operands.
        OpShape(op: "fp8_fp4_gemm_nt 1D2D", a: fp8Token, b: fp8Block, m: 17, n: 72, k: 200),
        OpShape(op: "fp8_fp4_gemm_tt 1D2D", a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)),
                b: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (128, 128)), m: 17, n: 72, k: 200),
        OpShape(op: "fp8_fp4_gemm_tn 1D1D", a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)), b: fp8Token, m: 20, n: 65, k: 256),
        OpShape(op: "fp8_fp4_gemm_nn fp8xfp4", a: fp8Token, b: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false, scales: (1, 32)),
                m: 10, n: 96, k: 256),
        OpShape(op: "fp8_fp4_gemm_nt fp4xfp4 M=1", a: fp4Token, b: fp4Token, m: 1, n: 130, k: 192),
        OpShape(op: "fp8_fp4_gemm_tn fp4xfp4", a: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false, scales: (1, 32)), b: fp4Token,
                m: 6, n: 40, k: 256),
        OpShape(op: "fp8_fp4_gemm_nn packed ue8m0", a: fp8Token, b: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)), m: 12, n: 36, k: 640),
        OpShape(op: "fp8_fp4_gemm_nt gran_k 32x128", a: GEMMOperandSpec(format: .e4m3, scales: (1, 32)), b: fp8Token, m: 9, n: 44, k: 300),
        OpShape(op: "fp8_fp4_gemm_nt sm90", a: fp8Token, b: fp8Block, m: 8, n: 160, k: 256),
        OpShape(op: "fp8_fp4_gemm_nt sm90 1D1D", a: fp8Token, b: fp8Token, m: 8, n: 100, k: 384),
        // bf16_gemm_* and cublaslt_gemm_* over the four majors.
        OpShape(op: "bf16_gemm_nt", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16), m: 15, n: 70, k: 72),
        OpShape(op: "bf16_gemm_tt", a: GEMMOperandSpec(format: .bf16, mnMajor: true), b: GEMMOperandSpec(format: .bf16, mnMajor: true), m: 15, n: 70, k: 72),
        OpShape(op: "cublaslt_gemm_nn", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16, mnMajor: true), m: 17, n: 66, k: 100),
        OpShape(op: "cublaslt_gemm_tn", a: GEMMOperandSpec(format: .bf16, mnMajor: true), b: GEMMOperandSpec(format: .bf16), m: 17, n: 66, k: 100),
        // fp8_gemm_nt_skip_head_mid, m-grouped contiguous / masked (per group) and k-grouped (per group).
        OpShape(op: "fp8_gemm_nt_skip_head_mid", a: fp8Token, b: fp8Block, m: 4, n: 384, k: 256),
        OpShape(op: "m_grouped contiguous group", a: fp8Token, b: fp8Block, m: 70, n: 40, k: 200),
        OpShape(op: "m_grouped nn fp4 group", a: fp4Token, b: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false, scales: (1, 32)),
                m: 150, n: 40, k: 192),
        OpShape(op: "m_grouped masked fp8xfp4 group", a: fp8Token, b: fp4Token, m: 17, n: 32, k: 128),
        OpShape(op: "m_grouped_bf16 group", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16), m: 30, n: 40, k: 128),
        OpShape(op: "k_grouped_fp8 tn group", a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)),
                b: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)), m: 8, n: 16, k: 384),
        OpShape(op: "k_grouped_bf16 tn group", a: GEMMOperandSpec(format: .bf16, mnMajor: true), b: GEMMOperandSpec(format: .bf16, mnMajor: true),
                m: 8, n: 16, k: 40),
        // einsum / fp8_einsum (per head) and tf32_hc_prenorm_gemm (one split).
        OpShape(op: "einsum bhr,hdr->bhd head", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16, spread: true), m: 3, n: 40, k: 96),
        OpShape(op: "einsum bhd,hdr->bhr head", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16, mnMajor: true), m: 2, n: 50, k: 72),
        OpShape(op: "fp8_einsum bhr,hdr->bhd head", a: fp8Token, b: fp8Block, m: 4, n: 72, k: 256),
        OpShape(op: "fp8_einsum bhd,bhr->hdr head", a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)),
                b: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)), m: 40, n: 24, k: 128),
        OpShape(op: "tf32_hc_prenorm_gemm split", a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .f32), m: 13, n: 24, k: 448),
    ]

    /// F32 D written and accumulated: every fast variant within calcDiff 1e-10 of the reference;
    /// BF16 D: each element within one BF16 rounding of the reference's.
    @Test(arguments: shapes)
    func fastVariantsMatchTheReference(_ t: OpShape) throws {
        let a = try t.a.make(rows: t.m, k: t.k, seed: 31), b = try t.b.make(rows: t.n, k: t.k, seed: 32)
        let initial = Tensor.randn([t.m, t.n], dtype: .float32, seed: 33, scale: 16)
        func run(_ variant: CPUKernelVariant, dtype: DType, accumulate: Bool) throws -> Tensor {
            let d = accumulate ? initial.clone() : Tensor(zeros: [t.m, t.n], dtype: dtype)
            try GEMMEngine.run(a: a, b: b, d: d, accumulate: accumulate, variant: variant)
            return d
        }
        let written = try run(.reference, dtype: .float32, accumulate: false)
        let accumulated = try run(.reference, dtype: .float32, accumulate: true)
        let rounded = try run(.reference, dtype: .bfloat16, accumulate: false).doubleValues()
        #expect(written.doubleValues().contains { $0 != 0 })
        for variant in CPUKernelVariant.supported where variant != .reference {
            #expect(try calcDiff(run(variant, dtype: .float32, accumulate: false), written) < 1e-10, "\(variant) f32")
            #expect(try calcDiff(run(variant, dtype: .float32, accumulate: true), accumulated) < 1e-10, "\(variant) f32 accumulate")
            let got = try run(variant, dtype: .bfloat16, accumulate: false).doubleValues()
            let exact = written.doubleValues()
            var failures = 0
            for i in got.indices where failures < 3 && abs(got[i] - rounded[i]) > abs(exact[i]) * 0x1p-8 + 1e-30 {
                failures += 1
                Issue.record("\(variant) bf16 element \(i): \(got[i]) vs \(rounded[i])")
            }
        }
    }
}
