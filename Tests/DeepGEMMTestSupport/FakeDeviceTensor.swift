import DeepGEMMCore
import Synchronization

/// Device memory that is never dereferenced: placement tests build "CUDA tensors" on it to check
/// dispatch without a GPU. Every copy or fill is counted and refused.
public final class FakeDeviceMemory: DeviceMemoryOperations {
    /// Copies and fills asked for so far.
    public var requests: Int { counter.load(ordering: .relaxed) }
    private let counter = Atomic<Int>(0)

    /// A new counter.
    public init() {}

    public func copy(into destination: Tensor, from source: Tensor) throws {
        counter.add(1, ordering: .relaxed)
        throw DeepGEMMError.unsupported(argument: "device", rule: "fake device memory cannot be copied")
    }

    public func zero(_ tensor: Tensor) throws {
        counter.add(1, ordering: .relaxed)
        throw DeepGEMMError.unsupported(argument: "device", rule: "fake device memory cannot be filled")
    }

    /// A contiguous tensor of `shape` "on" `device`, backed by this fake memory.
    public func tensor(_ shape: [Int], dtype: DType, device: Device = .cuda(0)) -> Tensor {
        let bytes = max(shape.reduce(1, *) * dtype.size, 1)
        let storage = TensorStorage(wrappingDevice: UnsafeMutableRawPointer(bitPattern: 0x1000)!, byteCount: bytes, device: device,
                                    operations: self, release: nil)
        // The shape always fits the storage made for it.
        return try! Tensor(storage: storage, dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape))
    }
}
