/// Kernel parameters packed for `cuLaunchKernelEx`: each value is copied at its natural alignment
/// into one buffer, and the launch gets an array of pointers into it, alive for the whole call.
public struct KernelArguments: Sendable {
    /// The packed bytes.
    public private(set) var bytes: [UInt8] = []
    /// Byte offset of each argument in ``bytes``.
    public private(set) var offsets: [Int] = []
    /// The largest alignment of any argument.
    public private(set) var alignment = 1

    /// An empty argument list.
    public init() {}

    /// Appends `value` (a trivially copyable kernel parameter: integer, pointer, `CUtensorMap`).
    public mutating func append<T: BitwiseCopyable>(_ value: T) {
        let align = MemoryLayout<T>.alignment
        let offset = (bytes.count + align - 1) / align * align
        bytes.append(contentsOf: repeatElement(0, count: offset - bytes.count))
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
        offsets.append(offset)
        alignment = max(alignment, align)
    }

    /// Calls `body` with the `void**` parameter array the driver expects.
    func withParameterArray<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> R) rethrows -> R {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: alignment)
        defer { storage.deallocate() }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.copyMemory(from: base, byteCount: source.count) }
        }
        let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(offsets.count, 1))
        defer { pointers.deallocate() }
        for (index, offset) in offsets.enumerated() { pointers[index] = storage + offset }
        return try body(pointers)
    }
}
