import DeepGEMMCore
internal import CDeepGEMMCPU

/// Instruction-set features of the running CPU that the kernels care about.
public struct CPUFeatures: Sendable, Hashable, CustomStringConvertible {
    /// Raw feature bits as reported by the C probe.
    let bits: UInt32

    /// The features detected on this machine.
    public static let current = CPUFeatures(bits: dg_cpu_features())

    /// AVX2 with FMA and F16C.
    public var hasAVX2: Bool { bits & UInt32(DG_CPU_AVX2 | DG_CPU_FMA | DG_CPU_F16C) == UInt32(DG_CPU_AVX2 | DG_CPU_FMA | DG_CPU_F16C) }
    /// AVX-512 F, BW, VL and DQ.
    public var hasAVX512: Bool {
        let needed = UInt32(DG_CPU_AVX512F | DG_CPU_AVX512BW | DG_CPU_AVX512VL | DG_CPU_AVX512DQ)
        return bits & needed == needed && hasAVX2
    }
    /// AVX-512 BF16 (`vdpbf16ps`).
    public var hasAVX512BF16: Bool { hasAVX512 && bits & UInt32(DG_CPU_AVX512BF16) != 0 }
    /// AVX-512 VNNI (int8 dot products).
    public var hasAVX512VNNI: Bool { hasAVX512 && bits & UInt32(DG_CPU_AVX512VNNI) != 0 }
    /// AMX-TILE and AMX-BF16 with AVX-512 BF16, their tile state enabled by the OS (XCR0), and this
    /// process granted the tile data (asked once, on first use: `arch_prctl(ARCH_REQ_XCOMP_PERM)`).
    public var hasAMXBF16: Bool {
        let needed = UInt32(DG_CPU_AMX_TILE | DG_CPU_AMX_BF16)
        return hasAVX512BF16 && bits & needed == needed && dg_cpu_amx_ready() != 0
    }
    /// AMX-TILE and AMX-INT8 (`tdpbssd`) with the same OS conditions as ``hasAMXBF16`` (the
    /// process grant is asked for there).
    public var hasAMXINT8: Bool {
        let needed = UInt32(DG_CPU_AMX_TILE | DG_CPU_AMX_INT8)
        return hasAVX512 && bits & needed == needed && dg_cpu_amx_ready() != 0
    }
    /// ARM NEON.
    public var hasNEON: Bool { bits & UInt32(DG_CPU_NEON) != 0 }
    /// Whether the vendor is Intel (chooses between kernels that are both correct here).
    public var isIntel: Bool { bits & UInt32(DG_CPU_INTEL) != 0 }

    /// The detected feature names, e.g. `["avx2", "fma", "f16c", "avx512f", ...]`.
    public var names: [String] {
        let table: [(Int, String)] = [
            (DG_CPU_AVX2, "avx2"), (DG_CPU_FMA, "fma"), (DG_CPU_F16C, "f16c"), (DG_CPU_AVX512F, "avx512f"),
            (DG_CPU_AVX512BW, "avx512bw"), (DG_CPU_AVX512VL, "avx512vl"), (DG_CPU_AVX512DQ, "avx512dq"),
            (DG_CPU_AVX512BF16, "avx512bf16"), (DG_CPU_AVX512VNNI, "avx512vnni"), (DG_CPU_AMX_TILE, "amx-tile"),
            (DG_CPU_AMX_BF16, "amx-bf16"), (DG_CPU_AMX_INT8, "amx-int8"), (DG_CPU_NEON, "neon"),
        ]
        return table.filter { bits & UInt32($0.0) != 0 }.map(\.1)
    }

    public var description: String { names.isEmpty ? "(baseline only)" : names.joined(separator: " ") }
}

/// Which implementation of a CPU kernel runs.
///
/// `.reference` is plain Swift, the portable path every other variant is tested against. The C
/// variants are the fast paths: `.portable` is vectorized by the compiler for the baseline target,
/// `.avx2`, `.avx512f`, `.avx512` and `.amx` are compiled for those instruction sets and run only
/// where present. `DG_CPU_KERNEL` names: `reference`, `portable`, `avx2`, `avx512f`, `avx512`, `amx`.
///
/// A kernel family that has no code of its own for a variant runs the best code it has below it:
/// `.avx512f` and `.avx512` share the AVX-512 (F/BW/VL/DQ) kernels and differ only where a kernel
/// uses AVX-512 BF16 (the GEMM's and the indexer's `vdpbf16ps`); `.amx` is `.avx512` everywhere
/// except in the GEMM engine, whose FP8/FP4/BF16 products run on AMX tiles (`tdpbf16ps`), and in
/// the FP4 lightning indexer, whose scores run on AMX-INT8 tiles (`tdpbssd`) where the CPU has
/// them (the same bits as `.avx512`: its block dots are exact integers).
///
/// Arithmetic classes of the GEMM: `.amx` is a class of its own. `tdpbf16ps` and `vdpbf16ps`
/// (`.avx512`) both sum BF16 pair products into FP32 in the same K order, but not with the same
/// intermediate roundings: on Sapphire Rapids about a third of the outputs of random 16x16x32
/// BF16 products differ in the last bits (both stay within FP32 rounding of the exact result).
/// With an F32 operand `.amx` runs the FP32-FMA code of `.avx512f` and gives its bits.
public enum CPUKernelVariant: String, Sendable, CaseIterable, Hashable {
    /// Plain Swift scalar code.
    case reference
    /// C code vectorized for the baseline target (SSE2 on x86-64, NEON on arm64).
    case portable
    /// C code compiled for AVX2 + FMA + F16C.
    case avx2
    /// C code compiled for AVX-512 F, BW, VL and DQ, without AVX-512 BF16: FP32 FMA on ZMM registers.
    case avx512f
    /// C code compiled for AVX-512 F, BW, VL and DQ with AVX-512 BF16 (`vdpbf16ps`).
    case avx512
    /// `.avx512` plus AMX-BF16 tiles (`tdpbf16ps`) in the GEMM engine and AMX-INT8 tiles
    /// (`tdpbssd`) in the FP4 indexer; needs the OS to grant the tile state (Linux 5.16+).
    case amx

    /// True when this machine can run the variant.
    public var isSupported: Bool {
        switch self {
        case .reference, .portable: return true
        case .avx2: return CPUFeatures.current.hasAVX2
        case .avx512f: return CPUFeatures.current.hasAVX512
        case .avx512: return CPUFeatures.current.hasAVX512BF16
        case .amx: return CPUFeatures.current.hasAMXBF16
        }
    }

    /// The highest supported level (`.amx`, else `.avx512`, `.avx512f`, `.avx2`, `.portable`), unless
    /// the environment variable `DG_CPU_KERNEL` names a supported one (`reference`, `portable`,
    /// `avx2`, `avx512f`, `avx512`, `amx`). With `.amx` every kernel family but the GEMM and the
    /// FP4 indexer runs its `.avx512` code.
    public static let best: CPUKernelVariant = requested ?? [.amx, .avx512, .avx512f, .avx2].first(where: \.isSupported) ?? .portable

    /// The supported variant `DG_CPU_KERNEL` names, if any.
    private static let requested: CPUKernelVariant? = getenv("DG_CPU_KERNEL")
        .flatMap { CPUKernelVariant(rawValue: String(cString: $0).lowercased()) }
        .flatMap { $0.isSupported ? $0 : nil }

    /// The variant the GEMM engine uses by default: ``best`` (so `.amx` where AMX-BF16 runs), except
    /// on Intel CPUs whose best level is `.avx512` when `DG_CPU_KERNEL` names no level, where the
    /// FP32-FMA `.avx512f` GEMM is faster: Sapphire Rapids runs `vdpbf16ps` at about half its FP32
    /// FMA rate (`fp8_gemm_nt` 4096x7168x2048: 140 GFLOPS with `avx512`, 204 with `avx512f`), while
    /// AMD Zen 4 runs it at twice. The indexer keeps ``best`` (its `avx512` kernels are the faster
    /// ones on both vendors).
    public static let bestForGEMM: CPUKernelVariant =
        requested == nil && best == .avx512 && CPUFeatures.current.isIntel ? .avx512f : best

    /// Every variant this machine supports.
    public static var supported: [CPUKernelVariant] { allCases.filter(\.isSupported) }

    /// The C dispatch code (the instruction set; `.avx512f` and `.avx512` share DG_ISA_AVX512, and
    /// the C kernels other than the GEMM and the FP4 indexer run DG_ISA_AMX as DG_ISA_AVX512); nil
    /// for the Swift reference.
    var isaCode: Int32? {
        switch self {
        case .reference: return nil
        case .portable: return Int32(DG_ISA_PORTABLE)
        case .avx2: return Int32(DG_ISA_AVX2)
        case .avx512f, .avx512: return Int32(DG_ISA_AVX512)
        case .amx: return Int32(DG_ISA_AMX)
        }
    }

    /// Whether the level has AVX-512 BF16 (`.avx512` and `.amx`): the GEMM's BF16-pair path and the
    /// indexer's dot kernels.
    var hasBF16Dot: Bool { self == .avx512 || self == .amx }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
