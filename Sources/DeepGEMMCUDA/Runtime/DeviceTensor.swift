import DeepGEMMCore

/// A strided view of typed elements in device memory: the device counterpart of ``Tensor``, with
/// the same shape/stride conventions (element units, non-negative strides) and reference semantics.
public struct DeviceTensor: Sendable {
    /// The memory the view reads and writes.
    public let buffer: DeviceBuffer
    /// The element type.
    public let dtype: DType
    /// The logical sizes, outermost first.
    public let shape: [Int]
    /// Element strides, one per dimension.
    public let strides: [Int]
    /// Offset of the first element from the start of ``buffer``, in elements.
    public let offset: Int

    /// A view of `buffer`, checked to lie inside it.
    public init(buffer: DeviceBuffer, dtype: DType, shape: [Int], strides: [Int], offset: Int = 0) throws {
        try DeepGEMMError.require(shape.count == strides.count, "strides", "must have one stride per dimension (\(shape.count)), got \(strides.count)")
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 } && strides.allSatisfy { $0 >= 0 } && offset >= 0,
                                  "shape", "sizes, strides and offset must be non-negative")
        let span = DeviceTensor.elementSpan(shape: shape, strides: strides)
        try DeepGEMMError.require((offset + span) * dtype.size <= buffer.byteCount, "shape",
                                  "view \(shape) with strides \(strides) at offset \(offset) exceeds the \(buffer.byteCount)-byte buffer")
        self.buffer = buffer
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor with unspecified contents.
    public static func empty(_ shape: [Int], dtype: DType, device: CUDADevice) throws -> DeviceTensor {
        let count = shape.reduce(1, *)
        let buffer = try DeviceBuffer(device: device, byteCount: count * dtype.size)
        return try DeviceTensor(buffer: buffer, dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    /// A device copy of `host` with the same strides: the memory span the view covers is copied, so
    /// an MN-major (transposed) view stays MN-major.
    public init(copying host: Tensor, to device: CUDADevice, stream: CUDAStream) throws {
        let span = DeviceTensor.elementSpan(shape: host.shape, strides: host.strides)
        let buffer = try DeviceBuffer(device: device, byteCount: span * host.dtype.size)
        try self.init(buffer: buffer, dtype: host.dtype, shape: host.shape, strides: host.strides)
        try device.makeCurrent()
        try device.driver.check(device.driver.memcpyHostToDevice(address, host.dataPointer, span * host.dtype.size, stream.handle), "cuMemcpyHtoDAsync")
        try stream.synchronize()
    }

    /// Copies the elements to a new host tensor with the same shape and strides.
    public func toHost(stream: CUDAStream) throws -> Tensor {
        let span = DeviceTensor.elementSpan(shape: shape, strides: strides)
        let storage = TensorStorage(byteCount: span * dtype.size, zeroed: false)
        try buffer.device.makeCurrent()
        try buffer.device.driver.check(buffer.device.driver.memcpyDeviceToHost(storage.baseAddress, address, span * dtype.size, stream.handle), "cuMemcpyDtoHAsync")
        try stream.synchronize()
        return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides)
    }

    /// Copies `source`'s span into this tensor's span; both must have the same dtype, shape and strides.
    public func copy(from source: DeviceTensor, stream: CUDAStream) throws {
        try DeepGEMMError.require(source.dtype == dtype && source.shape == shape && source.strides == strides, "c",
                                  "must match d in dtype, shape and strides (\(source.dtype) \(source.shape) \(source.strides) vs \(dtype) \(shape) \(strides))")
        try buffer.device.makeCurrent()
        let bytes = DeviceTensor.elementSpan(shape: shape, strides: strides) * dtype.size
        try buffer.device.driver.check(buffer.device.driver.memcpyDeviceToDevice(address, source.address, bytes, stream.handle), "cuMemcpyDtoDAsync")
    }

    /// Sets every byte of the covered span to zero.
    public func zero(stream: CUDAStream) throws {
        try buffer.device.makeCurrent()
        let bytes = DeviceTensor.elementSpan(shape: shape, strides: strides) * dtype.size
        try buffer.device.driver.check(buffer.device.driver.memsetD8(address, 0, bytes, stream.handle), "cuMemsetD8Async")
    }

    /// The device address of the first element.
    public var address: UInt64 { buffer.address + UInt64(offset * dtype.size) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int { shape[dim < 0 ? dim + rank : dim] }
    /// Stride of dimension `dim` (negative counts from the end).
    public func stride(_ dim: Int) -> Int { strides[dim < 0 ? dim + rank : dim] }

    /// The view with dimensions `first` and `second` swapped.
    public func transposed(_ first: Int, _ second: Int) throws -> DeviceTensor {
        var shape = self.shape, strides = self.strides
        shape.swapAt(first, second)
        strides.swapAt(first, second)
        return try DeviceTensor(buffer: buffer, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// Elements from the first to one past the last element a view can touch (0 when empty).
    static func elementSpan(shape: [Int], strides: [Int]) -> Int {
        guard !shape.contains(0) else { return 0 }
        return zip(shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
    }
}
