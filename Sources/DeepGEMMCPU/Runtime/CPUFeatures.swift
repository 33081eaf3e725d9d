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
    /// ARM NEON.
    public var hasNEON: Bool { bits & UInt32(DG_CPU_NEON) != 0 }

    /// The detected feature names, e.g. `["avx2", "fma", "f16c", "avx512f", ...]`.
    public var names: [String] {
        let table: [(Int, String)] = [
            (DG_CPU_AVX2, "avx2"), (DG_CPU_FMA, "fma"), (DG_CPU_F16C, "f16c"), (DG_CPU_AVX512F, "avx512f"),
            (DG_CPU_AVX512BW, "avx512bw"), (DG_CPU_AVX512VL, "avx512vl"), (DG_CPU_AVX512DQ, "avx512dq"),
            (DG_CPU_AVX512BF16, "avx512bf16"), (DG_CPU_AVX512VNNI, "avx512vnni"), (DG_CPU_NEON, "neon"),
        ]
        return table.filter { bits & UInt32($0.0) != 0 }.map(\.1)
    }

    public var description: String { names.isEmpty ? "(baseline only)" : names.joined(separator: " ") }
}

/// Which implementation of a CPU kernel runs.
///
/// `.reference` is plain Swift, the portable path every other variant is tested against. The C
/// variants are the fast paths: `.portable` is vectorized by the compiler for the baseline target,
/// `.avx2`, `.avx512f` and `.avx512` are compiled for those instruction sets and run only where
/// present. `DG_CPU_KERNEL` names: `reference`, `portable`, `avx2`, `avx512f`, `avx512`.
///
/// A kernel family that has no code of its own for a variant runs the best code it has below it:
/// `.avx512f` and `.avx512` share the AVX-512 (F/BW/VL/DQ) kernels and differ only where a kernel
/// uses AVX-512 BF16 (the GEMM's and the indexer's `vdpbf16ps`).
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

    /// True when this machine can run the variant.
    public var isSupported: Bool {
        switch self {
        case .reference, .portable: return true
        case .avx2: return CPUFeatures.current.hasAVX2
        case .avx512f: return CPUFeatures.current.hasAVX512
        case .avx512: return CPUFeatures.current.hasAVX512BF16
        }
    }

    /// The fastest supported variant, unless the environment variable `DG_CPU_KERNEL` names a
    /// supported one (`reference`, `portable`, `avx2`, `avx512f`, `avx512`).
    public static let best: CPUKernelVariant = {
        if let name = getenv("DG_CPU_KERNEL").map({ String(cString: $0) }),
           let chosen = CPUKernelVariant(rawValue: name.lowercased()), chosen.isSupported {
            return chosen
        }
        return [.avx512, .avx512f, .avx2].first(where: \.isSupported) ?? .portable
    }()

    /// Every variant this machine supports.
    public static var supported: [CPUKernelVariant] { allCases.filter(\.isSupported) }

    /// The C dispatch code (the instruction set; `.avx512f` and `.avx512` share DG_ISA_AVX512); nil
    /// for the Swift reference.
    var isaCode: Int32? {
        switch self {
        case .reference: return nil
        case .portable: return Int32(DG_ISA_PORTABLE)
        case .avx2: return Int32(DG_ISA_AVX2)
        case .avx512f, .avx512: return Int32(DG_ISA_AVX512)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
