extension Tensor {
    /// A contiguous copy with its own storage.
    public func clone() -> Tensor {
        let result = Tensor(zeros: shape, dtype: dtype)
        result.copyElements(from: self)
        return result
    }

    /// `self` when already contiguous, otherwise a contiguous copy.
    public func contiguous() -> Tensor { isContiguous ? self : clone() }

    /// Copies every element of `source` into this view. Shapes and dtypes must match; either side
    /// may be device memory (its backend copies).
    public func copy(from source: Tensor) throws {
        try DeepGEMMError.require(source.dtype == dtype, "source", "dtype \(source.dtype) does not match destination \(dtype)")
        try DeepGEMMError.require(source.shape == shape, "source", "shape \(source.shape) does not match destination \(shape)")
        if let operations = storage.deviceMemory ?? source.storage.deviceMemory {
            try operations.copy(into: self, from: source)
            return
        }
        copyElements(from: source)
    }

    /// Element copy for equal shapes and dtypes.
    func copyElements(from source: Tensor) {
        let size = dtype.size
        if isContiguous && source.isContiguous {
            dataPointer.copyMemory(from: source.dataPointer, byteCount: byteCount)
            return
        }
        var destinationOffsets = [Int]()
        destinationOffsets.reserveCapacity(count)
        forEachElementOffset { destinationOffsets.append($0) }
        var i = 0
        let from = source.dataPointer, to = dataPointer
        source.forEachElementOffset { offset in
            (to + destinationOffsets[i] * size).copyMemory(from: from + offset * size, byteCount: size)
            i += 1
        }
    }

    /// Sets every byte of every element to zero (on the tensor's device).
    public func zero() throws {
        if let operations = storage.deviceMemory {
            try operations.zero(self)
            return
        }
        let size = dtype.size
        if isContiguous {
            dataPointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
            return
        }
        let base = dataPointer
        forEachElementOffset { (base + $0 * size).initializeMemory(as: UInt8.self, repeating: 0, count: size) }
    }

    /// True when both tensors have the same dtype and shape and the same bytes in every element
    /// (strides may differ). NaN payloads are compared bit for bit.
    public func bitwiseEqual(_ other: Tensor) -> Bool {
        guard dtype == other.dtype, shape == other.shape else { return false }
        let a = contiguous(), b = other.contiguous()
        return memcmp(a.dataPointer, b.dataPointer, byteCount) == 0
    }

    /// The elements in row-major order as `T`, whose size must equal the dtype's element size
    /// (the bits are reinterpreted).
    public func elements<T: BitwiseCopyable>(as type: T.Type = T.self) throws -> [T] {
        try DeepGEMMError.require(MemoryLayout<T>.stride == dtype.size, "type", "\(T.self) does not have \(dtype)'s \(dtype.size)-byte elements")
        let source = contiguous()
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source.dataPointer, byteCount: byteCount)
            }
            initialized = count
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
