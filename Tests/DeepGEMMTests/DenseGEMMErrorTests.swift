import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// One bad-input rule of the dense GEMM ops: the call that breaks it and the argument the error
/// must name (as ``DeepGEMMError/invalidArgument(argument:rule:)``, or
/// ``DeepGEMMError/unsupported(argument:rule:)`` for an architecture restriction).
struct DenseRule: Sendable, CustomTestStringConvertible {
    let rule: String
    let argument: String
    var unsupported = false
    let call: @Sendable () throws -> Void

    var testDescription: String { rule }
}

/// Small valid arguments the rules start from: M = 8, N = 16, K = 256.
enum DenseFixture {
    static let (m, n, k) = (8, 16, 256)

    /// Float32 [shape] filled with `value`.
    static func filled(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        // Shapes here are non-negative, so the conversion cannot fail.
        (try? Tensor(converting: [Double](repeating: value, count: shape.reduce(1, *)), shape: shape, dtype: dtype)) ?? Tensor(zeros: shape, dtype: dtype)
    }

    /// FP8 [rows, k] with per-token scales [rows, ceil(k/128)] of `scale`.
    static func perToken(_ rows: Int, _ k: Int = k, scale: Double = 1, seed: UInt64 = 1) -> QuantizedTensor {
        QuantizedTensor(data: Tensor.randn([rows, k], dtype: .float8E4M3, seed: seed), sf: filled([rows, (k + 127) / 128], scale))
    }

    /// FP8 [rows, k] with per-block scales [ceil(rows/128), ceil(k/128)] of `scale`.
    static func perBlock(_ rows: Int, _ k: Int = k, scale: Double = 1) -> QuantizedTensor {
        QuantizedTensor(data: Tensor.randn([rows, k], dtype: .float8E4M3, seed: 2), sf: filled([(rows + 127) / 128, (k + 127) / 128], scale))
    }

    /// Packed FP4 [rows, k/2] with per-token scales for gran_k 32.
    static func fp4(_ rows: Int, _ k: Int = k) -> QuantizedTensor {
        QuantizedTensor(data: Tensor.randn([rows, k / 2], dtype: .int8, seed: 3), sf: filled([rows, (k + 31) / 32], 1))
    }

    static var a: QuantizedTensor { perToken(m) }
    static var b: QuantizedTensor { perBlock(n) }
    static func d(_ dtype: DType = .bfloat16) -> Tensor { Tensor(zeros: [m, n], dtype: dtype) }
    static let sm90 = DeepGEMMSettings(arch: .sm90), sm100 = DeepGEMMSettings(arch: .sm100)

    /// A view of `shape` over fresh storage with `strides`.
    static func strided(_ shape: [Int], strides: [Int], dtype: DType, storageElements: Int) -> Tensor {
        let storage = TensorStorage(byteCount: storageElements * dtype.size)
        return (try? Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides)) ?? Tensor(zeros: shape, dtype: dtype)
    }
}

/// Every bad-input rule of spec §4-§6 and §9-§11 raises a typed error naming the argument.
@Suite struct DenseGEMMErrorTests {
    typealias F = DenseFixture

    static let fp8FP4Rules: [DenseRule] = [
        DenseRule(rule: "a neither K- nor MN-major", argument: "a") {
            let data = F.strided([F.m, F.k], strides: [2 * F.k, 2], dtype: .float8E4M3, storageElements: 2 * F.k * F.m)
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: data, sf: F.a.sf), b: F.b, d: F.d())
        },
        DenseRule(rule: "a not a matrix", argument: "a") {
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: Tensor(zeros: [1, F.m, F.k], dtype: .float8E4M3), sf: F.a.sf), b: F.b, d: F.d())
        },
        DenseRule(rule: "a_sf not a matrix", argument: "a_sf") {
            try fp8FP4GEMM(.tn, a: QuantizedTensor(data: F.a.data, sf: Tensor(zeros: [2], dtype: .float32)), b: F.b, d: F.d())
        },
        DenseRule(rule: "a of a non-FP8/FP4 dtype", argument: "a") {
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), sf: F.a.sf), b: F.b, d: F.d())
        },
        DenseRule(rule: "K of b differs", argument: "b") { try fp8FP4GEMM(.nt, a: F.a, b: F.perBlock(F.n, 128), d: F.d()) },
        DenseRule(rule: "d of the wrong shape", argument: "d") { try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: Tensor(zeros: [F.m, F.n - 1], dtype: .bfloat16)) },
        DenseRule(rule: "d not row-major", argument: "d") {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: Tensor(zeros: [F.n, F.m], dtype: .bfloat16).transposed())
        },
        DenseRule(rule: "d neither BF16 nor F32", argument: "d") { try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(.float16)) },
        DenseRule(rule: "c aliasing d with other strides", argument: "c") {
            let storage = TensorStorage(byteCount: F.m * 2 * F.n * 2)
            let d = try Tensor(storage: storage, dtype: .bfloat16, shape: [F.m, F.n], strides: [2 * F.n, 1])
            let c = try Tensor(storage: storage, dtype: .bfloat16, shape: [F.m, F.n], strides: [F.n, 1])
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: d, c: c)
        },
        DenseRule(rule: "c of another dtype than d", argument: "c") { try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), c: F.d(.float32)) },
        DenseRule(rule: "c not row-major", argument: "c") {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), c: Tensor(zeros: [F.n, F.m], dtype: .bfloat16).transposed())
        },
        DenseRule(rule: "c of another shape than d", argument: "c") {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), c: Tensor(zeros: [F.m, 2 * F.n], dtype: .bfloat16).narrow(dim: 1, start: 0, length: F.n - 1))
        },
        DenseRule(rule: "recipe together with recipe_a/recipe_b", argument: "recipe") {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), recipe: [1, 128, 128], recipeA: [1, 128], recipeB: [128, 128])
        },
        DenseRule(rule: "recipe_a without recipe_b", argument: "recipe_b") { try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), recipeA: [1, 128]) },
        DenseRule(rule: "a_sf of the wrong shape", argument: "a_sf") {
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: F.a.data, sf: F.filled([F.m, 3], 1)), b: F.b, d: F.d())
        },
        DenseRule(rule: "b_sf of the wrong shape for the recipe", argument: "b_sf") {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), recipe: [1, 1, 128])
        },
        DenseRule(rule: "non-power-of-two F32 scales with gran_k 32 (neither architecture)", argument: "a_sf") {
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: F.a.data, sf: F.filled([F.m, F.k / 32], 0.3)), b: F.b, d: F.d(),
                           recipeA: [1, 32], recipeB: [128, 128])
        },
        DenseRule(rule: "SM100: non-power-of-two F32 scales", argument: "a_sf") {
            try fp8FP4GEMM(.nt, a: F.perToken(F.m, scale: 0.3), b: F.b, d: F.d(), settings: F.sm100, strictArch: true)
        },
        DenseRule(rule: "SM100: disable_ue8m0_cast with F32 scales", argument: "disable_ue8m0_cast", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(), disableUE8M0Cast: true, settings: F.sm100, strictArch: true)
        },
        DenseRule(rule: "disable_ue8m0_cast with gran_k 32 (neither architecture)", argument: "disable_ue8m0_cast", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.fp4(F.m), b: F.b, d: F.d(), recipeA: [1, 32], recipeB: [128, 128], disableUE8M0Cast: true)
        },
        DenseRule(rule: "SM90: MN-major operand", argument: "b", unsupported: true) {
            try fp8FP4GEMM(.nn, a: F.a, b: QuantizedTensor(data: F.b.data.transposed().contiguous(), sf: F.b.sf.transposed().contiguous()),
                           d: F.d(), settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90: FP4 operand", argument: "a", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.fp4(F.m), b: F.b, d: F.d(), recipeA: [1, 32], recipeB: [128, 128], settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90: packed UE8M0 scales", argument: "recipe", unsupported: true) {
            let sf = try getMNMajorTMAAlignedPackedUE8M0Tensor(F.filled([F.n, 2], 1))
            try fp8FP4GEMM(.nt, a: F.a, b: QuantizedTensor(data: F.b.data, sf: sf), d: F.d(), recipe: [1, 1, 128], settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90: per-block A", argument: "recipe", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.perBlock(F.m), b: F.b, d: F.d(), recipe: [128, 128, 128], settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90 1D2D: F32 D", argument: "d", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: F.d(.float32), settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90 1D2D: C", argument: "c", unsupported: true) {
            let d = F.d()
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: d, c: d, settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90 1D1D: no C", argument: "c", unsupported: true) {
            try fp8FP4GEMM(.nt, a: F.a, b: F.perToken(F.n), d: F.d(.float32), recipe: [1, 1, 128], settings: F.sm90, strictArch: true)
        },
        DenseRule(rule: "SM90 1D1D: BF16 D", argument: "d", unsupported: true) {
            let d = F.d()
            try fp8FP4GEMM(.nt, a: F.a, b: F.perToken(F.n), d: d, c: d, recipe: [1, 1, 128], settings: F.sm90, strictArch: true)
        },
    ]

    static let unscaledRules: [DenseRule] = [
        DenseRule(rule: "bf16: a not BF16", argument: "a") {
            try bf16GEMM(.nt, a: Tensor(zeros: [F.m, F.k], dtype: .float32), b: Tensor(zeros: [F.n, F.k], dtype: .bfloat16), d: F.d())
        },
        DenseRule(rule: "bf16: b not BF16", argument: "b") {
            try bf16GEMM(.nt, a: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), b: Tensor(zeros: [F.n, F.k], dtype: .float8E4M3), d: F.d())
        },
        DenseRule(rule: "bf16: K of b differs", argument: "b") {
            try bf16GEMM(.nn, a: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), b: Tensor(zeros: [F.k + 1, F.n], dtype: .bfloat16), d: F.d())
        },
        DenseRule(rule: "bf16: d of the wrong shape", argument: "d") {
            try bf16GEMM(.tt, a: Tensor(zeros: [F.k, F.m], dtype: .bfloat16), b: Tensor(zeros: [F.n, F.k], dtype: .bfloat16), d: F.d().transposed().contiguous())
        },
        DenseRule(rule: "bf16: d neither BF16 nor F32", argument: "d") {
            try bf16GEMM(.nt, a: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), b: Tensor(zeros: [F.n, F.k], dtype: .bfloat16), d: F.d(.int32))
        },
        DenseRule(rule: "bf16: a neither K- nor MN-major", argument: "a") {
            let a = F.strided([F.m, F.k], strides: [3 * F.k, 3], dtype: .bfloat16, storageElements: 3 * F.k * F.m)
            try bf16GEMM(.nt, a: a, b: Tensor(zeros: [F.n, F.k], dtype: .bfloat16), d: F.d())
        },
        DenseRule(rule: "bf16: not a matrix", argument: "b") {
            try bf16GEMM(.nn, a: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), b: Tensor(zeros: [F.k], dtype: .bfloat16), d: F.d())
        },
        DenseRule(rule: "cublaslt: a of an unsupported dtype", argument: "a") {
            try cublasLtGEMM(.nt, a: Tensor(zeros: [F.m, F.k], dtype: .int32), b: Tensor(zeros: [F.n, F.k], dtype: .int32), d: F.d())
        },
        DenseRule(rule: "cublaslt: b of another dtype than a", argument: "b") {
            try cublasLtGEMM(.nt, a: Tensor(zeros: [F.m, F.k], dtype: .bfloat16), b: Tensor(zeros: [F.n, F.k], dtype: .float32), d: F.d())
        },
        DenseRule(rule: "cublaslt: d neither BF16 nor F32", argument: "d") {
            try cublasLtGEMM(.tn, a: Tensor(zeros: [F.k, F.m], dtype: .bfloat16), b: Tensor(zeros: [F.k, F.n], dtype: .bfloat16), d: F.d(.float16))
        },
    ]

    static let skipHeadMidRules: [DenseRule] = {
        let a = F.perToken(F.m), b = F.perBlock(256)
        @Sendable func d(_ width: Int = 256 + 2 * 64, _ dtype: DType = .bfloat16) -> Tensor { Tensor(zeros: [F.m, width], dtype: dtype) }
        return [
            DenseRule(rule: "skip_head_mid: head_splits of two values", argument: "head_splits") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(), headSplits: [64, 64])
            },
            DenseRule(rule: "skip_head_mid: left + right not dividing N", argument: "head_splits") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(), headSplits: [64, 64, 32])
            },
            DenseRule(rule: "skip_head_mid: negative split", argument: "head_splits") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(), headSplits: [192, -64, 64])
            },
            DenseRule(rule: "skip_head_mid: d of the wrong width", argument: "d") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(256 + 64), headSplits: [64, 64, 64])
            },
            DenseRule(rule: "skip_head_mid: d not row-major", argument: "d") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: Tensor(zeros: [384, F.m], dtype: .bfloat16).transposed(), headSplits: [64, 64, 64])
            },
            DenseRule(rule: "skip_head_mid: FP4 operand", argument: "a") {
                try fp8GEMMNTSkipHeadMid(a: F.fp4(F.m, 2 * F.k), b: b, d: d(), headSplits: [64, 64, 64])
            },
            DenseRule(rule: "skip_head_mid: N == 0", argument: "b") {
                try fp8GEMMNTSkipHeadMid(a: a, b: F.perBlock(0), d: d(0), headSplits: [64, 64, 64])
            },
            DenseRule(rule: "skip_head_mid: K == 0", argument: "a") {
                try fp8GEMMNTSkipHeadMid(a: F.perToken(F.m, 0), b: F.perBlock(256, 0), d: d(), headSplits: [64, 64, 64])
            },
            DenseRule(rule: "skip_head_mid: gran_k 32", argument: "recipe") {
                let a32 = QuantizedTensor(data: a.data, sf: F.filled([F.m, F.k / 32], 1))
                let b32 = QuantizedTensor(data: b.data, sf: F.filled([2, F.k / 32], 1))
                try fp8GEMMNTSkipHeadMid(a: a32, b: b32, d: d(), headSplits: [64, 64, 64], recipe: [1, 128, 32])
            },
            DenseRule(rule: "skip_head_mid strict: splits off the store width", argument: "head_splits") {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(256 + 2 * 32), headSplits: [96, 32, 32], settings: F.sm100, strictArch: true)
            },
            DenseRule(rule: "skip_head_mid SM90: F32 D", argument: "d", unsupported: true) {
                try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d(256 + 128, .float32), headSplits: [64, 64, 64], settings: F.sm90, strictArch: true)
            },
            DenseRule(rule: "skip_head_mid SM90: per-token B (1D1D)", argument: "recipe", unsupported: true) {
                try fp8GEMMNTSkipHeadMid(a: a, b: F.perToken(256), d: d(), headSplits: [64, 64, 64], recipe: [1, 1, 128],
                                         settings: F.sm90, strictArch: true)
            },
        ]
    }()

    static let einsumRules: [DenseRule] = {
        @Sendable func bf16(_ shape: [Int]) -> Tensor { Tensor(zeros: shape, dtype: .bfloat16) }
        @Sendable func f32(_ shape: [Int]) -> Tensor { Tensor(zeros: shape, dtype: .float32) }
        return [
            DenseRule(rule: "einsum: unknown expression", argument: "expr") { try einsum("bmk,bkn->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: bf16([64, 64])) },
            DenseRule(rule: "einsum: a not BF16", argument: "a") { try einsum("bmk,bnk->mn", a: f32([1, 64, 64]), b: bf16([1, 64, 64]), d: bf16([64, 64])) },
            DenseRule(rule: "einsum: d neither BF16 nor F32", argument: "d") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: Tensor(zeros: [64, 64], dtype: .float16))
            },
            DenseRule(rule: "einsum: c of another dtype", argument: "c") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: f32([64, 64]), c: bf16([64, 64]))
            },
            DenseRule(rule: "bmk: use_cublaslt", argument: "use_cublaslt") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: bf16([64, 64]), useCublasLt: true)
            },
            DenseRule(rule: "bmk: F32 D without c", argument: "c") { try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: f32([64, 64])) },
            DenseRule(rule: "bmk: F32 D with a c that is not d", argument: "c") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: f32([64, 64]), c: f32([64, 64]))
            },
            DenseRule(rule: "bmk: BF16 D with c", argument: "c") {
                let d = bf16([64, 64])
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 64]), d: d, c: d)
            },
            DenseRule(rule: "bmk: non-contiguous a", argument: "a") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 128]).narrow(dim: 2, start: 0, length: 64), b: bf16([1, 64, 64]), d: bf16([64, 64]))
            },
            DenseRule(rule: "bmk: M not a multiple of 64", argument: "a") { try einsum("bmk,bnk->mn", a: bf16([1, 32, 64]), b: bf16([1, 64, 64]), d: bf16([32, 64])) },
            DenseRule(rule: "bmk: N not a multiple of 64", argument: "b") { try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 96, 64]), d: bf16([64, 96])) },
            DenseRule(rule: "bmk: K not a multiple of 64", argument: "a") { try einsum("bmk,bnk->mn", a: bf16([1, 64, 32]), b: bf16([1, 64, 32]), d: bf16([64, 64])) },
            DenseRule(rule: "bmk: batch counts differ", argument: "b") { try einsum("bmk,bnk->mn", a: bf16([2, 64, 64]), b: bf16([1, 64, 64]), d: bf16([64, 64])) },
            DenseRule(rule: "bhr: c given", argument: "c") {
                let d = bf16([2, 3, 8])
                try einsum("bhr,hdr->bhd", a: bf16([2, 3, 16]), b: bf16([3, 8, 16]), d: d, c: d)
            },
            DenseRule(rule: "bhr: F32 D", argument: "d") { try einsum("bhr,hdr->bhd", a: bf16([2, 3, 16]), b: bf16([3, 8, 16]), d: f32([2, 3, 8])) },
            DenseRule(rule: "bhr: b with stride(2) != 1", argument: "b") {
                try einsum("bhr,hdr->bhd", a: bf16([2, 3, 16]), b: bf16([3, 16, 8]).transposed(1, 2), d: bf16([2, 3, 8]))
            },
            DenseRule(rule: "bhr: d of the wrong shape", argument: "d") { try einsum("bhr,hdr->bhd", a: bf16([2, 3, 16]), b: bf16([3, 8, 16]), d: bf16([2, 3, 9])) },
            DenseRule(rule: "bhd: head counts differ", argument: "b") { try einsum("bhd,hdr->bhr", a: bf16([2, 3, 16]), b: bf16([4, 16, 8]), d: bf16([2, 3, 8])) },
            DenseRule(rule: "bhd: a not 3-D", argument: "a") { try einsum("bhd,hdr->bhr", a: bf16([6, 16]), b: bf16([3, 16, 8]), d: bf16([2, 3, 8])) },
            DenseRule(rule: "einsum: b not BF16", argument: "b") { try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: f32([1, 64, 64]), d: bf16([64, 64])) },
            DenseRule(rule: "bmk: non-contiguous b", argument: "b") {
                try einsum("bmk,bnk->mn", a: bf16([1, 64, 64]), b: bf16([1, 64, 128]).narrow(dim: 2, start: 0, length: 64), d: bf16([64, 64]))
            },
            DenseRule(rule: "bhr: a with stride(2) != 1", argument: "a") {
                try einsum("bhr,hdr->bhd", a: bf16([2, 16, 3]).transposed(1, 2), b: bf16([3, 8, 16]), d: bf16([2, 3, 8]))
            },
            DenseRule(rule: "bhd: d of the wrong shape", argument: "d") { try einsum("bhd,hdr->bhr", a: bf16([2, 3, 16]), b: bf16([3, 16, 8]), d: bf16([2, 3, 9])) },
        ]
    }()

    static let fp8EinsumRules: [DenseRule] = {
        let (batch, heads, r, width) = (2, 2, 256, 64)
        @Sendable func x(_ b: Int = batch) -> QuantizedTensor {
            QuantizedTensor(data: Tensor.randn([b, heads, r], dtype: .float8E4M3, seed: 4), sf: F.filled([b, heads, 2], 1))
        }
        let y = QuantizedTensor(data: Tensor.randn([heads, width, r], dtype: .float8E4M3, seed: 5), sf: F.filled([heads, 1, 2], 1))
        @Sendable func d(_ b: Int = batch, _ dtype: DType = .bfloat16) -> Tensor { Tensor(zeros: [b, heads, width], dtype: dtype) }
        return [
            DenseRule(rule: "fp8_einsum: unknown expression", argument: "expr") { try fp8Einsum("bhr,hrd->bhd", a: x(), b: y, d: d()) },
            DenseRule(rule: "fp8_einsum SM90: SM100-only expression", argument: "expr", unsupported: true) {
                try fp8Einsum("bhd,hdr->bhr", a: x(), b: y, d: d(), settings: F.sm90, strictArch: true)
            },
            DenseRule(rule: "fp8_einsum: a_sf not 3-D", argument: "a_sf") {
                try fp8Einsum("bhr,hdr->bhd", a: QuantizedTensor(data: x().data, sf: F.filled([batch * heads, 2], 1)), b: y, d: d())
            },
            DenseRule(rule: "fp8_einsum: FP4 data", argument: "a") {
                try fp8Einsum("bhr,hdr->bhd", a: QuantizedTensor(data: Tensor(zeros: [batch, heads, r], dtype: .int8), sf: x().sf), b: y, d: d())
            },
            DenseRule(rule: "fp8_einsum: head counts differ", argument: "b") {
                let y3 = QuantizedTensor(data: Tensor.randn([3, width, r], dtype: .float8E4M3, seed: 6), sf: F.filled([3, 1, 2], 1))
                try fp8Einsum("bhr,hdr->bhd", a: x(), b: y3, d: d())
            },
            DenseRule(rule: "fp8_einsum: C whose permuted view has loose batches", argument: "c") {
                let out = d()
                try fp8Einsum("bhr,hdr->bhd", a: x(), b: y, d: out, c: out)
            },
            DenseRule(rule: "fp8_einsum SM90: C", argument: "c", unsupported: true) {
                let out = d(1)
                try fp8Einsum("bhr,hdr->bhd", a: x(1), b: y, d: out, c: out, settings: F.sm90, strictArch: true)
            },
            DenseRule(rule: "fp8_einsum SM90: F32 D", argument: "d", unsupported: true) {
                try fp8Einsum("bhr,hdr->bhd", a: x(), b: y, d: d(batch, .float32), settings: F.sm90, strictArch: true)
            },
            DenseRule(rule: "fp8_einsum: a_sf of the wrong shape", argument: "a_sf") {
                try fp8Einsum("bhr,hdr->bhd", a: QuantizedTensor(data: x().data, sf: F.filled([batch, heads, 3], 1)), b: y, d: d())
            },
            DenseRule(rule: "fp8_einsum: b_sf of the wrong shape", argument: "b_sf") {
                try fp8Einsum("bhr,hdr->bhd", a: x(), b: QuantizedTensor(data: y.data, sf: F.filled([heads, 2, 2], 1)), d: d())
            },
        ]
    }()

    @Test(arguments: fp8FP4Rules + unscaledRules + skipHeadMidRules + einsumRules + fp8EinsumRules)
    func ruleNamesItsArgument(_ rule: DenseRule) {
        #expect {
            try rule.call()
        } throws: { error in
            namesArgument(error, rule.argument, unsupported: rule.unsupported)
        }
    }

    @Test func rejectedCallsLeaveDUntouched() throws {
        // The C copy happens only after every check: a bad b_sf must not leave D holding C.
        let d = Tensor.randn([F.m, F.n], dtype: .bfloat16, seed: 7), before = d.clone()
        let c = Tensor.randn([F.m, F.n], dtype: .bfloat16, seed: 8)
        #expect(throws: DeepGEMMError.self) {
            try fp8FP4GEMM(.nt, a: F.a, b: QuantizedTensor(data: F.b.data, sf: F.filled([2, 2], 1)), d: d, c: c)
        }
        #expect(throws: DeepGEMMError.self) {
            try fp8FP4GEMM(.nt, a: F.a, b: F.b, d: d, c: c, settings: F.sm90, strictArch: true)
        }
        #expect(bitwiseMismatch(d, before) == nil)
    }
}
