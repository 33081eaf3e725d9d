import DeepGEMMCore

extension Device {
    /// The CUDA device this value names; throws when it names the host, a device this version
    /// does not drive (only ordinal 0 so far), or CUDA is unavailable here.
    func cudaDevice(argument: String) throws -> CUDADevice {
        guard case .cuda(let ordinal) = self else {
            throw DeepGEMMError.invalidArgument(argument: argument, rule: "must be a CUDA device, got \(self)")
        }
        let device = try CUDADevice.current()
        try DeepGEMMError.require(ordinal == 0, argument, "the CUDA backend drives device 0 only in this version, got \(self)")
        return device
    }
}

extension Tensor {
    /// A new contiguous tensor with unspecified contents on `device` (host memory, or device
    /// memory from `cuMemAlloc` freed with the last view).
    public static func empty(_ shape: [Int], dtype: DType, device: Device) throws -> Tensor {
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 }, "shape", "sizes must be non-negative, got \(shape)")
        guard device != .host else { return Tensor.empty(shape, dtype: dtype) }
        let buffer = try DeviceBuffer(device: try device.cudaDevice(argument: "device"), byteCount: shape.reduce(1, *) * dtype.size)
        return try Tensor(storage: buffer.storage(device: device), dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    /// Wraps CUDA memory owned elsewhere (a PyTorch tensor's `data_ptr()`, say) without a copy:
    /// `address` is the first element, `owner` is kept alive as long as any view.
    public static func wrappingCUDAMemory(
        address: UInt64, byteCount: Int, dtype: DType, shape: [Int], strides: [Int], device: Device, owner: (any Sendable)?
    ) throws -> Tensor {
        let cuda = try device.cudaDevice(argument: "device")
        guard let pointer = UnsafeMutableRawPointer(bitPattern: UInt(address)) else {
            throw DeepGEMMError.invalidArgument(argument: "address", rule: "must not be null")
        }
        let storage = TensorStorage(wrappingDevice: pointer, byteCount: byteCount, device: device,
                                    operations: CUDAMemoryOperations(device: cuda)) { _, _ in _ = owner }
        return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides)
    }

    /// A copy of this tensor on `device` with the same shape and strides (the span of memory the
    /// view covers is copied, so an MN-major view stays MN-major), or `self` when it is already
    /// there. Copies run on the current stream and are complete when this returns.
    public func to(_ device: Device) throws -> Tensor {
        if device == self.device { return self }
        let span = elementSpan
        let storage: TensorStorage
        if device == .host {
            storage = TensorStorage(byteCount: span * dtype.size, zeroed: false)
        } else {
            storage = try DeviceBuffer(device: try device.cudaDevice(argument: "device"), byteCount: span * dtype.size).storage(device: device)
        }
        let copy = try Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides)
        let spanView = try Tensor(storage: self.storage, dtype: dtype, shape: [span], strides: [1], offset: offset)
        try Tensor(storage: storage, dtype: dtype, shape: [span], strides: [1]).copy(from: spanView)
        return copy
    }

    /// The device address of the first element (CUDA tensors).
    public var deviceAddress: UInt64 { UInt64(UInt(bitPattern: firstElementAddress)) }

    /// The view's layout, from which TMA descriptors and major-ness are computed.
    public var layout: StridedLayout { StridedLayout(address: deviceAddress, dtype: dtype, shape: shape, strides: strides) }

    /// Elements from the first to one past the last element the view can touch (0 when empty).
    var elementSpan: Int {
        guard !shape.contains(0) else { return 0 }
        return zip(shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
    }
}

extension DeviceBuffer {
    /// Storage for tensors on `device` over this buffer, keeping it alive.
    func storage(device: Device) -> TensorStorage {
        TensorStorage(wrappingDevice: UnsafeMutableRawPointer(bitPattern: UInt(max(address, 1)))!, byteCount: byteCount, device: device,
                      operations: CUDAMemoryOperations(device: self.device)) { [self] _, _ in _ = self }
    }
}
