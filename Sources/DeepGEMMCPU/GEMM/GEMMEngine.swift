import DeepGEMMCore
internal import CDeepGEMMCPU

/// The CPU backend's dense GEMM: every GEMM-shaped op (dense, grouped, batched, einsum) reduces to
/// calls of ``run(a:b:d:accumulate:variant:)`` on views.
///
/// Arithmetic (the contract every kernel variant follows): K is cut into blocks of
/// `kb = min(granK of the scaled operands)` (the whole K when neither operand is scaled). For each
/// output element, each block's partial sum `p = Σ a·b` is formed in FP32 from the unscaled values,
/// then `acc += p · (sa · sb)` in FP32, where sa and sb are the block's scales (1 when unscaled).
/// Unscaled GEMMs accumulate `acc += a·b` over the whole K. The result is written as
/// - F32 D: `D = acc`, or `D = D + acc` when accumulating;
/// - BF16 D: `D = bf16(acc)`, or `D = bf16(float(D) + float(bf16(acc)))` when accumulating (the
///   TMA reduce-add of DeepGEMM's kernels, spec §4).
/// Variants may sum products in a different order inside a block (and use FMA), so results agree
/// with ``CPUKernelVariant/reference`` to FP32 rounding, not bit for bit.
///
/// `.amx` and `.avx512` (BF16 pairs) with power-of-two scales (UE8M0 scales always are; NaN scales
/// allowed) on K-contiguous FP8/FP4 operands with scale blocks of a multiple of 32 move the scales
/// into the operands instead: with E_r the largest scale exponent of row r (of A or of B), each
/// value v in a block scaled 2^e is used as v·2^(e - E_r) (exact in BF16; values that would drop
/// below BF16's normal range count as zero, as AMX and `vdpbf16ps` flush them), `acc = Σ a'·b'`
/// runs over all of K, and the result is `acc · 2^(E_r + E_c)` with one rounding. It agrees with the
/// block rule to FP32 rounding (and differs where scale products leave FP32's range: the block rule
/// overflows or flushes them).
/// Those two levels compute calls whose smaller operand has at most ``dotPathMaxRows`` rows (decode
/// steps, small experts) on a dot-product path when both operands are K-contiguous FP8/FP4/BF16,
/// unscaled or with scale blocks of a multiple of 32: the small rows are decoded once, each row of
/// the other operand is decoded line by line and dotted with them by `vdpbf16ps` into 16 lanes
/// (over all of K with power-of-two scales folded in as above; otherwise per block, each block's
/// lanes folded as `acc += p · (sa · sb)`), and the lanes are summed in a fixed order. On `.amx` a row's result does not depend on the other rows of
/// a call as long as both calls take the same path (tested); the fused Mega MoE splits an expert's
/// rows into blocks that keep the unfused expert's path.
///
/// Bit-identical results: every variant gives the same bits for any thread count. `.avx2` and
/// `.avx512f` give the same bits as each other (operands decoded exactly to F32, one FMA per
/// product in K order, the same K blocking and the same fold), and so does `.avx512` when an
/// operand is F32, and `.amx` when an operand is F32 (it runs the `.avx512f` code then).
/// `.avx512` on FP8/FP4/BF16 operands (`vdpbf16ps` sums pairs of products), `.amx` on them
/// (`tdpbf16ps`: pairs of products too, with other intermediate roundings) and `.portable`
/// (multiply, then add) differ from them and from each other within FP32 rounding.
public enum GEMMEngine {
    /// The largest row count of the smaller operand that takes the dot-product path (see above).
    public static let dotPathMaxRows = Int(DG_GEMV_MAX_ROWS)

    /// Computes `D (+)= A · Bᵀ` for operands of equal `k`; `d` is a 2-D [a.rows, b.rows] view of
    /// F32 or BF16 with any strides. Up to `threads` threads split the output; the result does not
    /// depend on the thread count.
    public static func run(a: GEMMOperand, b: GEMMOperand, d: Tensor, accumulate: Bool,
                           variant: CPUKernelVariant = .bestForGEMM, threads: Int = CPUParallelism.threadCount) throws {
        try DeepGEMMError.require(a.k == b.k, "b", "K of A (\(a.k)) and B (\(b.k)) differ")
        try DeepGEMMError.require(d.rank == 2 && d.shape == [a.rows, b.rows], "d", "must be [\(a.rows), \(b.rows)], got \(d.shape)")
        try requireGEMMOutputType(d)
        try requireStorage(a, "a")
        try requireStorage(b, "b")
        guard variant.isSupported else {
            throw DeepGEMMError.unsupported(argument: "variant", rule: "kernel variant \(variant.rawValue) needs CPU features this machine lacks (\(CPUFeatures.current))")
        }
        if a.rows == 0 || b.rows == 0 { return }
        if let isa = variant.isaCode, a.k > 0 {
            NativeGEMM.run(a: a, b: b, d: d, accumulate: accumulate, isa: isa, bf16Dot: variant.hasBF16Dot,
                           threads: max(1, threads))
        } else {
            SwiftGEMM.run(a: a, b: b, d: d, accumulate: accumulate)
        }
    }

    /// The K-block length at which scales change for this pair of operands.
    public static func scaleBlock(_ a: GEMMOperand, _ b: GEMMOperand) -> Int {
        let blocks = [a.scales?.granK, b.scales?.granK].compactMap { $0 }
        return blocks.min() ?? max(a.k, 1)
    }

    /// Checks that an operand's storage has the element size of its format.
    private static func requireStorage(_ operand: GEMMOperand, _ name: String) throws {
        let size: Int
        switch operand.format {
        case .e4m3, .e2m1: size = 1
        case .bf16: size = 2
        case .f32: size = 4
        }
        try DeepGEMMError.require(operand.data.dtype.size == size, name,
                                  "\(operand.format) operand needs \(size)-byte storage, got \(operand.data.dtype)")
    }
}
