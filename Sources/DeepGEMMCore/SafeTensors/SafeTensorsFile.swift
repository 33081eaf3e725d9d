/// A parsed safetensors file whose tensors are zero-copy views of one block of memory: the file's
/// bytes read into memory, or, for a file larger than the mapping threshold, a private memory
/// mapping of it.
///
/// The whole file is checked when it is parsed: the header must be strict JSON with unique keys,
/// every entry must have a known dtype and a byte range that matches its shape, and the ranges
/// must tile the data area exactly. A tensor whose first byte is not a multiple of its element
/// size from the start of the file cannot be a view (``Tensor`` offsets count whole elements), so
/// it alone is copied into its own aligned storage. The data is read as little-endian, the
/// byte order safetensors prescribes and every supported host uses.
///
/// Views are writable; writes are private to this process and never reach the file. The memory
/// stays alive while any view or its storage does.
///
/// Files that change on disk: a file read into memory (at most ``defaultMappingThreshold`` bytes
/// unless `open` is told otherwise) keeps the contents it had when opened, whatever happens to the
/// file afterwards. A mapped file is only as stable as the file: replacing it by a rename (as
/// ``SafeTensorsWriter/write(_:metadata:to:)`` does) is harmless, since the mapping keeps the old
/// file alive, but truncating it in place makes the pages past its new end raise SIGBUS when
/// touched. So ``tensor(_:)`` checks the mapped file's size and modification time (`fstat` on the
/// descriptor kept with the mapping) and throws ``SafeTensorsError/modified(path:reason:)`` instead
/// of handing out a view of a file that changed. Views already handed out are not protected: keep
/// a large file unchanged while its tensors are in use, or pass a larger `mappingThreshold`.
public struct SafeTensorsFile: Sendable {
    /// Files of at most this many bytes (64 MiB) are read into memory by ``open(path:mappingThreshold:)``;
    /// larger ones are mapped.
    public static let defaultMappingThreshold = 64 << 20

    /// The largest header length accepted, in bytes (the reference implementation's limit).
    /// Longer headers are ``SafeTensorsError/headerTooLarge(length:)``.
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// The `__metadata__` object of the header (empty if absent).
    public let metadata: [String: String]
    /// The tensor names in ascending data-offset order.
    public let names: [String]
    private let tensors: [String: Tensor]
    /// The mapped file, checked before views are handed out; nil for bytes held in memory.
    private let mapping: MappedFile?

    /// Reads (at most `mappingThreshold` bytes) or maps the file at `path` and parses it. Missing
    /// files, directories and other unreadable paths are ``SafeTensorsError/io(path:reason:)``;
    /// files shorter than 8 bytes are ``SafeTensorsError/truncated(reason:)``; a file that changes
    /// while it is read is ``SafeTensorsError/modified(path:reason:)``.
    public static func open(path: String, mappingThreshold: Int = defaultMappingThreshold) throws -> SafeTensorsFile {
        let (storage, mapping) = try FileContents.load(path: path, mappingThreshold: mappingThreshold)
        return try SafeTensorsFile(storage: storage, mapping: mapping)
    }

    /// Whether the tensors view a memory mapping of the file (else a copy of its bytes).
    public var isMapped: Bool { mapping != nil }

    /// Parses a safetensors file held in memory; the bytes are copied into one ``TensorStorage``
    /// that the tensors view.
    public init(bytes: [UInt8]) throws {
        let storage = TensorStorage(byteCount: bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.baseAddress.copyMemory(from: base, byteCount: source.count) }
        }
        try self.init(storage: storage, mapping: nil)
    }

    private init(storage: TensorStorage, mapping: MappedFile?) throws(SafeTensorsError) {
        let header = try SafeTensorsHeader(file: UnsafeRawBufferPointer(start: storage.baseAddress, count: storage.byteCount))
        var tensors: [String: Tensor] = [:]
        for entry in header.entries {
            tensors[entry.name] = Self.view(of: entry, in: storage, dataStart: header.dataStart)
        }
        self.metadata = header.metadata
        self.names = header.entries.map(\.name)
        self.tensors = tensors
        self.mapping = mapping
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

    /// The tensor called `name` (contiguous, with the header's dtype and shape), or nil. For a
    /// mapped file, throws ``SafeTensorsError/modified(path:reason:)`` when the file's size or
    /// modification time changed since it was opened.
    public func tensor(_ name: String) throws(SafeTensorsError) -> Tensor? {
        try mapping?.verify()
        return tensors[name]
    }

    /// The tensor called `name`, or nil; as ``tensor(_:)``.
    public subscript(name: String) -> Tensor? {
        get throws(SafeTensorsError) { try tensor(name) }
    }
}
