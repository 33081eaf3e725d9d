/// A block of memory that one or more ``Tensor`` views share, on the host or on a device.
///
/// Host memory the library allocates (through ``HostAllocator``) is aligned to 64 bytes and
/// zero-filled unless asked otherwise. Memory that comes from elsewhere (a memory-mapped file, a
/// PyTorch or NumPy tensor, a CUDA allocation) is released by the closure given at creation, when
/// the last view goes away. For device memory ``baseAddress`` holds the device address: only the
/// backend that owns it (``deviceMemory``) may use it.
public final class TensorStorage: @unchecked Sendable {
    /// Alignment of every allocation the library makes, in bytes.
    public static let alignment = 64

    /// First byte of the block.
    public let baseAddress: UnsafeMutableRawPointer
    /// Size of the block in bytes.
    public let byteCount: Int
    /// Where the memory lives.
    public let device: Device
    /// Copies and fills for device memory; nil for host memory.
    public let deviceMemory: (any DeviceMemoryOperations)?
    private let release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?

    /// Allocates `byteCount` bytes aligned to ``alignment``, zero-filled unless `zeroed` is false
    /// (then the contents are unspecified until written).
    public init(byteCount: Int, zeroed: Bool = true) {
        precondition(byteCount >= 0, "negative allocation")
        let pointer = HostAllocator.allocate(byteCount: byteCount)
        if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1)) }
        self.baseAddress = pointer
        self.byteCount = byteCount
        self.device = .host
        self.deviceMemory = nil
        self.release = { pointer, count in HostAllocator.release(pointer, byteCount: count) }
    }

    /// Wraps host memory owned elsewhere, without a copy; `release` runs once when the storage is
    /// destroyed (capture the owner in it to keep the memory alive as long as any view).
    public init(
        wrapping baseAddress: UnsafeMutableRawPointer, byteCount: Int,
        release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?
    ) {
        self.baseAddress = baseAddress
        self.byteCount = byteCount
        self.device = .host
        self.deviceMemory = nil
        self.release = release
    }

    /// Wraps device memory at `address` on `device`, managed by `operations`; `release` runs once
    /// when the storage is destroyed. Backends call this; users reach it through their backend's
    /// wrapping functions.
    public init(
        wrappingDevice address: UnsafeMutableRawPointer, byteCount: Int, device: Device, operations: any DeviceMemoryOperations,
        release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?
    ) {
        precondition(device != .host, "device storage needs a device")
        self.baseAddress = address
        self.byteCount = byteCount
        self.device = device
        self.deviceMemory = operations
        self.release = release
    }

    deinit { release?(baseAddress, byteCount) }
}
