/// The element types a ``Tensor`` can hold.
///
/// Packed FP4 (`float4E2M1x2`) stores two E2M1 codes per byte and is written to files as `I8`, as
/// DeepGEMM does; UE8M0 scale bytes are written as `U8`.
public enum DType: String, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    /// IEEE binary64.
    case float64
    /// IEEE binary32.
    case float32
    /// IEEE binary16.
    case float16
    /// bfloat16: the top half of a binary32.
    case bfloat16
    /// FP8 E4M3FN (no infinity, NaN is 0x7F/0xFF, max 448).
    case float8E4M3
    /// FP8 E5M2 (IEEE-like, with infinities).
    case float8E5M2
    /// Two FP4 E2M1 codes in one byte: element 2i in the low nibble, 2i+1 in the high nibble.
    case float4E2M1x2
    /// An unsigned power-of-two scale: the biased exponent byte, value 2^(e-127).
    case ue8m0
    /// Signed 8-bit integer.
    case int8
    /// Unsigned 8-bit integer.
    case uint8
    /// Signed 16-bit integer.
    case int16
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Boolean stored as one byte (0 or 1).
    case bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .float8E4M3, .float8E5M2, .float4E2M1x2, .ue8m0, .int8, .uint8, .bool: return 1
        }
    }

    /// True for the floating-point formats (packed FP4 and UE8M0 included).
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16, .float8E4M3, .float8E5M2, .float4E2M1x2, .ue8m0: return true
        case .int8, .uint8, .int16, .int32, .int64, .bool: return false
        }
    }

    /// The dtype tag used in safetensors headers.
    public var safetensorsName: String {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float8E4M3: return "F8_E4M3"
        case .float8E5M2: return "F8_E5M2"
        case .float4E2M1x2, .int8: return "I8"
        case .ue8m0, .uint8: return "U8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .bool: return "BOOL"
        }
    }

    /// The dtype a safetensors tag denotes (`I8` reads as `int8`, `U8` as `uint8`; `F8_E8M0` as `ue8m0`).
    public init?(safetensorsName: String) {
        switch safetensorsName {
        case "F64": self = .float64
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F8_E4M3": self = .float8E4M3
        case "F8_E5M2": self = .float8E5M2
        case "F8_E8M0": self = .ue8m0
        case "I8": self = .int8
        case "U8": self = .uint8
        case "I16": self = .int16
        case "I32": self = .int32
        case "I64": self = .int64
        case "BOOL": self = .bool
        default: return nil
        }
    }

    /// Short names used by the CLI (`f32`, `bf16`, `fp8`, `fp4`, `i32`, ...).
    public var shortName: String {
        switch self {
        case .float64: return "f64"
        case .float32: return "f32"
        case .float16: return "f16"
        case .bfloat16: return "bf16"
        case .float8E4M3: return "fp8"
        case .float8E5M2: return "fp8_e5m2"
        case .float4E2M1x2: return "fp4"
        case .ue8m0: return "ue8m0"
        case .int8: return "i8"
        case .uint8: return "u8"
        case .int16: return "i16"
        case .int32: return "i32"
        case .int64: return "i64"
        case .bool: return "bool"
        }
    }

    /// The dtype a CLI short name denotes, or nil.
    public init?(shortName: String) {
        guard let match = DType.allCases.first(where: { $0.shortName == shortName.lowercased() }) else { return nil }
        self = match
    }

    public var description: String { shortName }
}
