internal import CDeepGEMMCPU

extension GEMMEngine {
    /// The GEMM microkernel `variant` runs and how operands reach it, for `deepgemm info` and the
    /// benchmarks, e.g. `6x16 FP32 FMA (AVX2); FP8/FP4/BF16 decoded to FP32 while packing`.
    public static func kernelDescription(_ variant: CPUKernelVariant = .bestForGEMM) -> String {
        guard let isa = variant.isaCode else {
            return "\(SwiftGEMM.rowsA)x\(SwiftGEMM.rowsB) FP32 multiply-add (Swift); operands decoded to FP32 panels"
        }
        var mr: Int32 = 0, nr: Int32 = 0
        dg_gemm_tile_shape(isa, &mr, &nr)
        let tile = "\(mr)x\(nr)"
        switch variant {
        case .amx:
            var fmaRows: Int32 = 0, fmaColumns: Int32 = 0
            dg_gemm_tile_shape(Int32(DG_ISA_AVX512), &fmaRows, &fmaColumns)
            return "\(tile) AMX tdpbf16ps on BF16 pairs (2x2 tiles of 16x16; F32 operands: \(fmaRows)x\(fmaColumns) FP32 FMA); FP8/FP4 decoded to BF16 while packing"
        case .avx512:
            return "\(tile) vdpbf16ps on BF16 pairs (F32 operands: \(tile) FP32 FMA); FP8/FP4 decoded to BF16 while packing"
        case .avx512f, .avx2:
            return "\(tile) FP32 FMA (\(variant == .avx2 ? "YMM" : "ZMM")); FP8/FP4/BF16 decoded to FP32 while packing"
        default:
            return "\(tile) FP32 multiply-add (baseline vectors); operands decoded to FP32 while packing"
        }
    }
}
