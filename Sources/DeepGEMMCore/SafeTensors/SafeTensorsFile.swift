/// A parsed safetensors file whose tensors are zero-copy views of one memory mapping (or of an in-memory buffer).
///
/// The whole file is checked when it is parsed: the header must be strict JSON with unique keys,
/// every entry must have a known dtype and a byte range that matches its shape, and the ranges
/// must tile the data area exactly. A tensor whose first byte is not a multiple of its element
/// size from the start of the file cannot be a view (``Tensor`` offsets count whole elements), so
/// it alone is copied into its own aligned storage. The data is read as little-endian, the
/// byte order safetensors prescribes and every supported host uses.
///
/// Views of a mapped file are writable; writes are private to this process and never reach the
/// file. The mapping stays alive while any view or its storage does.
public struct SafeTensorsFile: Sendable {
    /// The largest header length accepted, in bytes (the reference implementation's limit).
    /// Longer headers are ``SafeTensorsError/headerTooLarge(length:)``.
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// The `__metadata__` object of the header (empty if absent).
    public let metadata: [String: String]
    /// The tensor names in ascending data-offset order.
    public let names: [String]
    private let tensors: [String: Tensor]

    /// Maps the file at `path` and parses it. Missing files, directories and other unreadable
    /// paths are ``SafeTensorsError/io(path:reason:)``; files shorter than 8 bytes are
    /// ``SafeTensorsError/truncated(reason:)``.
    public static func open(path: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(storage: MemoryMapping.map(path: path))
    }

    /// Parses a safetensors file held in memory; the bytes are copied into one ``TensorStorage``
    /// that the tensors view.
    public init(bytes: [UInt8]) throws {
        let storage = TensorStorage(byteCount: bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.baseAddress.copyMemory(from: base, byteCount: source.count) }
        }
        try self.init(storage: storage)
    }

    private init(storage: TensorStorage) throws(SafeTensorsError) {
        let header = try SafeTensorsHeader(file: UnsafeRawBufferPointer(start: storage.baseAddress, count: storage.byteCount))
        var tensors: [String: Tensor] = [:]
        for entry in header.entries {
            tensors[entry.name] = Self.view(of: entry, in: storage, dataStart: header.dataStart)
        }
        self.metadata = header.metadata
        self.names = header.entries.map(\.name)
        self.tensors = tensors
    }

    /// The contiguous tensor for a validated entry: a view of `storage` when its start is a whole
    /// number of elements from the base, otherwise an aligned copy.
    private static func view(of entry: SafeTensorsEntry, in storage: TensorStorage, dataStart: Int) -> Tensor {
        let start = dataStart + entry.begin, size = entry.dtype.size
        let strides = Tensor.contiguousStrides(entry.shape)
        if start % size == 0 {
            return Tensor(unchecked: storage, dtype: entry.dtype, shape: entry.shape, strides: strides, offset: start / size)
        }
        let copy = TensorStorage(byteCount: entry.end - entry.begin)
        copy.baseAddress.copyMemory(from: storage.baseAddress + start, byteCount: entry.end - entry.begin)
        return Tensor(unchecked: copy, dtype: entry.dtype, shape: entry.shape, strides: strides, offset: 0)
    }

    /// The tensor called `name` (contiguous, with the header's dtype and shape), or nil.
    public func tensor(_ name: String) -> Tensor? { tensors[name] }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> Tensor? { tensors[name] }
}
