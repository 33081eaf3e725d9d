/// A block of host memory that one or more ``Tensor`` views share.
///
/// Memory the library allocates (through ``HostAllocator``) is aligned to 64 bytes and
/// zero-filled unless asked otherwise. Memory that comes from
/// elsewhere (a memory-mapped file) is released by the closure given at creation, when the last
/// view goes away.
public final class TensorStorage: @unchecked Sendable {
    /// Alignment of every allocation the library makes, in bytes.
    public static let alignment = 64

    /// First byte of the block.
    public let baseAddress: UnsafeMutableRawPointer
    /// Size of the block in bytes.
    public let byteCount: Int
    private let release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?

    /// Allocates `byteCount` bytes aligned to ``alignment``, zero-filled unless `zeroed` is false
    /// (then the contents are unspecified until written).
    public init(byteCount: Int, zeroed: Bool = true) {
        precondition(byteCount >= 0, "negative allocation")
        let pointer = HostAllocator.allocate(byteCount: byteCount)
        if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1)) }
        self.baseAddress = pointer
        self.byteCount = byteCount
        self.release = { pointer, count in HostAllocator.release(pointer, byteCount: count) }
    }

    /// Wraps memory owned elsewhere; `release` runs once when the storage is destroyed.
    public init(
        wrapping baseAddress: UnsafeMutableRawPointer, byteCount: Int,
        release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?
    ) {
        self.baseAddress = baseAddress
        self.byteCount = byteCount
        self.release = release
    }

    deinit { release?(baseAddress, byteCount) }
}
