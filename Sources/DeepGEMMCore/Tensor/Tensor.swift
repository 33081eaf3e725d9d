/// A strided view of typed elements in host or device memory.
///
/// `Tensor` has reference semantics for its elements, like a PyTorch tensor: copies of a value
/// and the views made from it (``transposed(_:_:)``, ``narrow(dim:start:length:)``,
/// ``select(dim:index:)``, ``reshaped(_:)``) share storage, and writing through one is seen by
/// all. Use ``clone()`` for an independent copy. Shapes and strides are counted in elements and
/// strides are never negative.
public struct Tensor: Sendable {
    /// The memory the view reads and writes.
    public let storage: TensorStorage
    /// The element type.
    public let dtype: DType
    /// The logical sizes, outermost first.
    public let shape: [Int]
    /// Element strides, one per dimension.
    public let strides: [Int]
    /// Offset of the first element from the start of ``storage``, in elements.
    public let offset: Int

    /// Creates a view after checking that every element lies inside `storage`.
    public init(storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int = 0) throws {
        try DeepGEMMError.require(shape.count == strides.count, "strides", "must have one stride per dimension (\(shape.count)), got \(strides.count)")
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 }, "shape", "sizes must be non-negative, got \(shape)")
        try DeepGEMMError.require(strides.allSatisfy { $0 >= 0 }, "strides", "must be non-negative, got \(strides)")
        try DeepGEMMError.require(offset >= 0, "offset", "must be non-negative, got \(offset)")
        let count = shape.reduce(1, *)
        if count > 0 {
            var last = offset
            for (size, stride) in zip(shape, strides) { last += (size - 1) * stride }
            try DeepGEMMError.require(
                (last + 1) * dtype.size <= storage.byteCount, "shape",
                "view \(shape) with strides \(strides) at offset \(offset) needs \((last + 1) * dtype.size) bytes, storage holds \(storage.byteCount)")
        }
        self.init(unchecked: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// Creates a view without checks; the caller guarantees the bounds.
    @usableFromInline
    init(unchecked storage: TensorStorage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous, zero-filled tensor.
    public init(zeros shape: [Int], dtype: DType) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative size in \(shape)")
        let count = shape.reduce(1, *)
        self.init(unchecked: TensorStorage(byteCount: count * dtype.size), dtype: dtype, shape: shape,
                  strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A new contiguous tensor whose contents are unspecified until written (PyTorch's
    /// `torch.empty`), for outputs that are overwritten in full.
    public static func empty(_ shape: [Int], dtype: DType) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative size in \(shape)")
        let count = shape.reduce(1, *)
        return Tensor(unchecked: TensorStorage(byteCount: count * dtype.size, zeroed: false), dtype: dtype, shape: shape,
                      strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A new contiguous tensor holding `values` in row-major order, stored as `dtype` (default
    /// `T.dtype`). A different `dtype` must have the same element size (for example `Int8` values
    /// as packed FP4, `UInt8` values as UE8M0 bytes): the bits are kept.
    public init<T: TensorElement>(_ values: [T], shape: [Int], dtype: DType? = nil) throws {
        let dtype = dtype ?? T.dtype
        try DeepGEMMError.require(dtype.size == MemoryLayout<T>.stride, "dtype", "\(dtype) has \(dtype.size)-byte elements, \(T.self) has \(MemoryLayout<T>.stride)")
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 }, "shape", "sizes must be non-negative, got \(shape)")
        try DeepGEMMError.require(shape.reduce(1, *) == values.count, "shape", "\(shape) holds \(shape.reduce(1, *)) elements, got \(values.count) values")
        self.init(zeros: shape, dtype: dtype)
        values.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.baseAddress.copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// Bytes of a contiguous tensor of `shape` (sizes non-negative) and `dtype`, or nil when they,
    /// or the row-major strides (``contiguousStrides(_:)``, which count empty dimensions as 1),
    /// overflow `Int`.
    public static func contiguousByteCount(_ shape: [Int], dtype: DType) -> Int? {
        var elements = 1
        for size in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: max(size, 1))
            if overflow { return nil }
            elements = product
        }
        if shape.contains(0) { return 0 }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        return overflow ? nil : bytes
    }

    /// Row-major strides for `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for dim in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            strides[dim] = running
            running *= max(shape[dim], 1)
        }
        return strides
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes of the logical elements (`count * dtype.size`).
    public var byteCount: Int { count * dtype.size }

    /// Where the elements live.
    public var device: Device { storage.device }

    /// The host address of the first element. Writing through it writes the shared storage. Host
    /// tensors only: a device tensor's memory is reached through its backend (ops check the device
    /// before any kernel touches memory, so this holds inside the library).
    public var dataPointer: UnsafeMutableRawPointer {
        precondition(storage.device == .host, "dataPointer of a tensor on \(storage.device)")
        return firstElementAddress
    }

    /// The address of the first element on the tensor's device (a device address for device memory).
    public var firstElementAddress: UnsafeMutableRawPointer { storage.baseAddress + offset * dtype.size }

    /// True when both views are on one device and start at the same address (DeepGEMM's aliasing
    /// test for `c is d`).
    public func sharesDataPointer(with other: Tensor) -> Bool {
        device == other.device && firstElementAddress == other.firstElementAddress
    }

    /// Size of dimension `dim`; negative values count from the end.
    public func size(_ dim: Int) -> Int { shape[normalized(dim)] }
    /// Stride of dimension `dim`; negative values count from the end.
    public func stride(_ dim: Int) -> Int { strides[normalized(dim)] }

    private func normalized(_ dim: Int) -> Int {
        let d = dim < 0 ? dim + rank : dim
        precondition(d >= 0 && d < rank, "dimension \(dim) out of range for rank \(rank)")
        return d
    }

    /// True when the elements are laid out row-major without gaps (size-1 dimensions' strides are ignored).
    public var isContiguous: Bool {
        var expected = 1
        for dim in Swift.stride(from: rank - 1, through: 0, by: -1) where shape[dim] != 1 {
            if shape[dim] == 0 { return true }
            if strides[dim] != expected { return false }
            expected *= shape[dim]
        }
        return true
    }

    /// Calls `body` with the element offset (relative to ``dataPointer``) of every element, in
    /// row-major logical order.
    public func forEachElementOffset(_ body: (Int) throws -> Void) rethrows {
        let n = count
        if n == 0 { return }
        if isContiguous {
            for i in 0..<n { try body(i) }
            return
        }
        var index = [Int](repeating: 0, count: rank)
        var position = 0
        for _ in 0..<n {
            try body(position)
            var dim = rank - 1
            while dim >= 0 {
                index[dim] += 1
                position += strides[dim]
                if index[dim] < shape[dim] { break }
                position -= strides[dim] * shape[dim]
                index[dim] = 0
                dim -= 1
            }
        }
    }
}
