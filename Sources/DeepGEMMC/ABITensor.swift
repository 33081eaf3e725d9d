import CDeepGEMMABI
import DeepGEMM
import DeepGEMMOps
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The most dimensions a descriptor may have.
let maxDimensions = 8

extension DType {
    /// The dtype a DLPack (code, bits, lanes) denotes, or nil: packed FP4 is int8 or
    /// float4_e2m1fn with 4 bits x 2 lanes (or 8 bits x 1 lane).
    init?(dlpack code: UInt8, bits: UInt8, lanes: UInt16) {
        switch (Int(code), bits, lanes) {
        case (DG_DTYPE_INT, 8, 1): self = .int8
        case (DG_DTYPE_INT, 16, 1): self = .int16
        case (DG_DTYPE_INT, 32, 1): self = .int32
        case (DG_DTYPE_INT, 64, 1): self = .int64
        case (DG_DTYPE_UINT, 8, 1): self = .uint8
        case (DG_DTYPE_FLOAT, 16, 1): self = .float16
        case (DG_DTYPE_FLOAT, 32, 1): self = .float32
        case (DG_DTYPE_FLOAT, 64, 1): self = .float64
        case (DG_DTYPE_BFLOAT, 16, 1): self = .bfloat16
        case (DG_DTYPE_BOOL, 8, 1): self = .bool
        case (DG_DTYPE_FLOAT8_E4M3FN, 8, 1): self = .float8E4M3
        case (DG_DTYPE_FLOAT8_E5M2, 8, 1): self = .float8E5M2
        case (DG_DTYPE_FLOAT8_E8M0FNU, 8, 1): self = .ue8m0
        case (DG_DTYPE_FLOAT4_E2M1FN, 4, 2), (DG_DTYPE_FLOAT4_E2M1FN, 8, 1): self = .float4E2M1x2
        default: return nil
        }
    }

    /// The DLPack (code, bits, lanes) ``dg_results_tensor`` reports: the exact type.
    var dlpackType: dg_dtype {
        switch self {
        case .int8: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 8, lanes: 1)
        case .int16: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 16, lanes: 1)
        case .int32: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 32, lanes: 1)
        case .int64: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 64, lanes: 1)
        case .uint8: return dg_dtype(code: UInt8(DG_DTYPE_UINT), bits: 8, lanes: 1)
        case .float16: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 16, lanes: 1)
        case .float32: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 32, lanes: 1)
        case .float64: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 64, lanes: 1)
        case .bfloat16: return dg_dtype(code: UInt8(DG_DTYPE_BFLOAT), bits: 16, lanes: 1)
        case .bool: return dg_dtype(code: UInt8(DG_DTYPE_BOOL), bits: 8, lanes: 1)
        case .float8E4M3: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT8_E4M3FN), bits: 8, lanes: 1)
        case .float8E5M2: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT8_E5M2), bits: 8, lanes: 1)
        case .ue8m0: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT8_E8M0FNU), bits: 8, lanes: 1)
        case .float4E2M1x2: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT4_E2M1FN), bits: 4, lanes: 2)
        }
    }

    /// The DLPack type a DLPack export uses: FP8 and UE8M0 as uint8, packed FP4 as int8 (what every
    /// framework imports); the caller reinterprets by ``dlpackType``.
    var dlpackExportType: dg_dtype {
        switch self {
        case .float8E4M3, .float8E5M2, .ue8m0: return dg_dtype(code: UInt8(DG_DTYPE_UINT), bits: 8, lanes: 1)
        case .float4E2M1x2: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 8, lanes: 1)
        default: return dlpackType
        }
    }
}

/// The address empty host tensors with a NULL data pointer view (nothing is read or written).
nonisolated(unsafe) private let emptyStorageAddress = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)

/// A Tensor viewing the caller's memory that `descriptor` describes, without a copy, after
/// checking the descriptor; errors name `argument`. The view must not outlive the call.
func borrowedTensor(_ descriptor: UnsafePointer<dg_tensor>?, argument: String) throws -> Tensor {
    guard let descriptor else { throw DeepGEMMError.invalidArgument(argument: argument, rule: "tensor descriptor must not be NULL") }
    let t = descriptor.pointee
    try DeepGEMMError.require(t.ndim >= 0 && t.ndim <= maxDimensions, argument, "ndim must be in 0...\(maxDimensions), got \(t.ndim)")
    let rank = Int(t.ndim)
    try DeepGEMMError.require(rank == 0 || t.shape != nil, argument, "shape must not be NULL for ndim \(rank)")
    let shape = (0..<rank).map { Int(t.shape[$0]) }
    try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 }, argument, "sizes must be non-negative, got \(shape)")
    guard let dtype = DType(dlpack: t.dtype.code, bits: t.dtype.bits, lanes: t.dtype.lanes) else {
        throw OpCallError.wrongKind(argument: argument, rule: "unsupported dtype code \(t.dtype.code) with \(t.dtype.bits) bits x \(t.dtype.lanes) lanes")
    }
    let strides = t.strides.map { pointer in (0..<rank).map { Int(pointer[$0]) } } ?? Tensor.contiguousStrides(shape)
    try DeepGEMMError.require(strides.allSatisfy { $0 >= 0 }, argument, "strides must be non-negative, got \(strides)")
    // Elements from the first to one past the last the view can touch, with overflow checks.
    var span = 1
    for (size, stride) in zip(shape, strides) where size > 0 {
        let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, overflowSum) = span.addingReportingOverflow(reach)
        try DeepGEMMError.require(!overflow && !overflowSum, argument, "shape \(shape) with strides \(strides) overflows")
        span = sum
    }
    let (bytes, overflow) = (shape.contains(0) ? 0 : span).multipliedReportingOverflow(by: dtype.size)
    try DeepGEMMError.require(!overflow, argument, "shape \(shape) with strides \(strides) overflows")
    guard let data = t.data else {
        try DeepGEMMError.require(bytes == 0, argument, "data must not be NULL for a tensor with elements (shape \(shape))")
        return try Tensor(storage: TensorStorage(wrapping: emptyStorageAddress, byteCount: 0, release: nil), dtype: dtype,
                          shape: shape, strides: strides)
    }
    let first = data + Int(t.byte_offset)
    switch t.device.device_type {
    case Int32(DG_DEVICE_CPU):
        return try Tensor(storage: TensorStorage(wrapping: first, byteCount: bytes, release: nil), dtype: dtype, shape: shape, strides: strides)
    case Int32(DG_DEVICE_CUDA):
        return try Tensor.wrappingCUDAMemory(address: UInt64(UInt(bitPattern: first)), byteCount: bytes, dtype: dtype, shape: shape,
                                             strides: strides, device: .cuda(Int(t.device.device_id)), owner: nil)
    default:
        throw DeepGEMMError.unsupported(argument: argument, rule: "device type \(t.device.device_type) (only CPU 1 and CUDA 2)")
    }
}

/// A `dg_tensor` describing `tensor`, with shape and strides in memory owned by the value; keep
/// the value alive as long as the descriptor is used.
final class TensorDescriptor {
    /// The tensor (kept alive).
    let tensor: Tensor
    /// The descriptor, pointing into ``shape`` and ``strides``.
    let descriptor: UnsafeMutablePointer<dg_tensor>
    private let shape: UnsafeMutablePointer<Int64>
    private let strides: UnsafeMutablePointer<Int64>

    /// Describes `tensor` with dtype `dtype` (its exact type by default).
    init(_ tensor: Tensor, dtype: dg_dtype? = nil) {
        self.tensor = tensor
        shape = .allocate(capacity: max(tensor.rank, 1))
        strides = .allocate(capacity: max(tensor.rank, 1))
        for dim in 0..<tensor.rank {
            shape[dim] = Int64(tensor.shape[dim])
            strides[dim] = Int64(tensor.strides[dim])
        }
        let device: dg_device
        switch tensor.device {
        case .host: device = dg_device(device_type: Int32(DG_DEVICE_CPU), device_id: 0)
        case .cuda(let ordinal): device = dg_device(device_type: Int32(DG_DEVICE_CUDA), device_id: Int32(ordinal))
        }
        descriptor = .allocate(capacity: 1)
        descriptor.initialize(to: dg_tensor(data: tensor.firstElementAddress, device: device, ndim: Int32(tensor.rank),
                                            dtype: dtype ?? tensor.dtype.dlpackType, shape: shape, strides: strides, byte_offset: 0))
    }

    deinit {
        shape.deallocate()
        strides.deallocate()
        descriptor.deallocate()
    }
}
