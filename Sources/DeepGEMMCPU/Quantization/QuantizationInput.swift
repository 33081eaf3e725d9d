import DeepGEMMCore
internal import CDeepGEMMCPU

/// A contiguous float tensor (F32, BF16 or F16) that quantization helpers read.
struct FloatInput: @unchecked Sendable {
    let tensor: Tensor
    let pointer: UnsafeRawPointer
    /// DG_TYPE_* code for the C kernels.
    let typeCode: Int32

    /// Validates the dtype of argument `name` and makes it contiguous.
    init(_ tensor: Tensor, name: String) throws {
        switch tensor.dtype {
        case .float32: typeCode = Int32(DG_TYPE_F32)
        case .bfloat16: typeCode = Int32(DG_TYPE_BF16)
        case .float16: typeCode = Int32(DG_TYPE_F16)
        default:
            throw DeepGEMMError.invalidArgument(argument: name, rule: "must be float32, bfloat16 or float16, got \(tensor.dtype)")
        }
        self.tensor = tensor.contiguous()
        self.pointer = UnsafeRawPointer(self.tensor.dataPointer)
    }

    /// Element `i` widened exactly to binary32.
    @inline(__always)
    func load(_ i: Int) -> Float {
        switch tensor.dtype {
        case .float32: return pointer.load(fromByteOffset: i * 4, as: Float.self)
        case .bfloat16: return BFloat16(bitPattern: pointer.load(fromByteOffset: i * 2, as: UInt16.self)).floatValue
        default: return Float(halfBits: pointer.load(fromByteOffset: i * 2, as: UInt16.self))
        }
    }

    /// The address of element `i`.
    func address(_ i: Int) -> UnsafeRawPointer { pointer + i * tensor.dtype.size }
}

/// The scale arithmetic every caster shares (spec §2).
enum GroupScale {
    /// Largest FP8 E4M3 magnitude.
    static let fp8Max: Float = 448
    /// Largest FP4 E2M1 magnitude.
    static let fp4Max: Float = 6

    /// The magnitude bits of |x| as binary32; comparing them as integers orders magnitudes and
    /// lets NaN win, as `amax` propagates NaN.
    @inline(__always)
    static func magnitudeBits(_ x: Float) -> UInt32 { x.bitPattern & 0x7FFF_FFFF }

    /// `sf = max(amax, 1e-4) / maxCode` as a true binary32 division (PyTorch on the CPU; CUDA
    /// multiplies by the reciprocal of `maxCode`, which can differ by one ulp), then the
    /// power-of-two ceiling when `useUE8M0`. NaN amax gives a NaN scale (2^127 with UE8M0).
    @inline(__always)
    static func scale(amax: Float, maxCode: Float, useUE8M0: Bool) -> Float {
        let clamped = amax < 1e-4 ? Float(1e-4) : amax
        let sf = clamped / maxCode
        return useUE8M0 ? UE8M0.ceil(sf) : sf
    }
}

/// Validates a `gran_k`-style group size.
func requirePositive(_ value: Int, _ name: String) throws {
    try DeepGEMMError.require(value > 0, name, "must be positive, got \(value)")
}
