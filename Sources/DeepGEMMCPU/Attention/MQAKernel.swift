import DeepGEMMCore
internal import CDeepGEMMCPU

/// The implementation of the lightning-indexer kernels a call uses: the plain-Swift reference or
/// a C level (`isa` is the C dispatch code: `DG_ISA_PORTABLE`, `DG_ISA_AVX2`, `DG_ISA_AVX512`
/// with `DG_MQA_DOT_EXTENSION` for the AVX-512 BF16 / VNNI dot kernels, or `DG_ISA_AMX` with it
/// for FP4 scores on AMX-INT8 tiles). Every implementation gives the same bits.
enum MQAKernel: Sendable, Equatable {
    /// Plain Swift (``CPUKernelVariant/reference``).
    case reference
    /// The C kernels with this dispatch code.
    case native(isa: Int32)

    /// The kernel of `variant` for `format`: `.portable` runs the portable loops; `.amx` runs FP4
    /// scores on AMX-INT8 tiles where the process may use them; `.avx512` and `.amx` otherwise run
    /// the BF16 (FP8) or VNNI (FP4) dot kernels where the CPU has them; every other variant (also
    /// `.avx512` without those, or a level added later) runs the best kernels this CPU has below
    /// them: AVX2 + FMA, else the portable loops.
    init(variant: CPUKernelVariant, format: MQAInputFormat) {
        guard variant.isaCode != nil else { self = .reference; return }
        let features = CPUFeatures.current
        if variant == .amx && format == .fp4 && features.hasAMXINT8 {
            self = .native(isa: Int32(DG_ISA_AMX) | Int32(DG_MQA_DOT_EXTENSION))
        } else if variant.hasBF16Dot && (format == .fp8 ? features.hasAVX512BF16 : features.hasAVX512VNNI) {
            self = .native(isa: Int32(DG_ISA_AVX512) | Int32(DG_MQA_DOT_EXTENSION))
        } else if variant != .portable && features.hasAVX2 {
            self = .native(isa: Int32(DG_ISA_AVX2))
        } else {
            self = .native(isa: Int32(DG_ISA_PORTABLE))
        }
    }

    /// Writes the logits of `query` against the key lanes `lanes` of `keys` to `out` (lane l at
    /// element `l - lanes.lowerBound`), as Float or BF16 bits. The C kernels prefetch `prefetch`
    /// (the memory a driver reads next) a little at a time meanwhile.
    func logits(query: MQAQueryPanel, keys: MQAKeyPanel, lanes: Range<Int>, weights: UnsafeRawPointer, weightsBF16: Bool,
                out: UnsafeMutableRawPointer, outBF16: Bool, prefetch: MQAPrefetch? = nil) {
        if lanes.isEmpty { return }
        switch self {
        case .native(let isa):
            dg_mqa_logits(isa, query.formatCode, Int32(query.heads), Int32(query.dim), weightsBF16 ? 1 : 0, outBF16 ? 1 : 0,
                          query.storage, weights, keys.storage, keys.scales, Int64(lanes.lowerBound), Int64(lanes.upperBound),
                          prefetch?.starts, Int64(prefetch?.count ?? 0), Int64(prefetch?.bytes ?? 0), out)
        case .reference:
            MQAReferenceKernel.logits(query: query, keys: keys, lanes: lanes, weights: weights, weightsBF16: weightsBF16,
                                      out: out, outBF16: outBF16)
        }
    }
}

/// Memory a driver reads after a kernel call, for the kernel to prefetch: `count` blocks of
/// `bytes` bytes, block i at `starts[i]`.
struct MQAPrefetch {
    let starts: UnsafePointer<UnsafeRawPointer?>
    let count: Int
    let bytes: Int
}

extension MQAInputFormat {
    /// The `DG_MQA_*` code.
    var code: Int32 { self == .fp8 ? Int32(DG_MQA_FP8) : Int32(DG_MQA_FP4) }
}
