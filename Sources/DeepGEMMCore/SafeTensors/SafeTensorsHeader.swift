/// One tensor's description in a safetensors header.
struct SafeTensorsEntry {
    /// The tensor's name (the JSON key).
    let name: String
    /// The element type from the `dtype` tag.
    let dtype: DType
    /// The logical sizes, outermost first (`[]` for a scalar).
    let shape: [Int]
    /// First byte of the tensor, relative to the start of the data area.
    let begin: Int
    /// One past the last byte, relative to the start of the data area.
    let end: Int
}

/// A validated safetensors header: the length prefix, the JSON, and a byte layout in which the
/// tensors' ranges exactly tile the data area.
struct SafeTensorsHeader {
    /// The `__metadata__` object (empty if absent).
    let metadata: [String: String]
    /// The tensors in ascending data-offset order (ties keep header order).
    let entries: [SafeTensorsEntry]
    /// Offset of the data area from the start of the file: 8 plus the header length.
    let dataStart: Int

    /// Checks the whole of `file` (length prefix, header and data area) and describes its tensors.
    init(file: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        guard file.count >= 8 else {
            throw .truncated(reason: "\(file.count) bytes is shorter than the 8-byte header length")
        }
        let length = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard length <= SafeTensorsFile.maxHeaderLength else { throw .headerTooLarge(length: length) }
        let headerLength = Int(length)
        guard headerLength <= file.count - 8 else {
            throw .truncated(reason: "header of \(headerLength) bytes runs past the end of \(file.count) bytes")
        }
        let json = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: file[8..<8 + headerLength]))
        guard case .object(let members) = json else {
            throw .invalidHeader(reason: "the top level must be an object, got \(json.kindName)")
        }
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try Self.metadata(value)
            } else {
                entries.append(try Self.entry(named: key, value))
            }
        }
        let dataSize = file.count - 8 - headerLength
        for entry in entries { try Self.checkRange(entry, dataSize: dataSize) }
        let sorted = entries.enumerated().sorted { a, b in
            (a.element.begin, a.element.end, a.offset) < (b.element.begin, b.element.end, b.offset)
        }.map(\.element)
        try Self.checkTiling(sorted, dataSize: dataSize)
        self.metadata = metadata
        self.entries = sorted
        self.dataStart = 8 + headerLength
    }

    private static func metadata(_ value: JSONValue) throws(SafeTensorsError) -> [String: String] {
        guard case .object(let members) = value else {
            throw .invalidHeader(reason: "__metadata__ must be an object, got \(value.kindName)")
        }
        var metadata: [String: String] = [:]
        for (key, member) in members {
            guard case .string(let text) = member else {
                throw .invalidHeader(reason: "__metadata__ value for '\(key)' must be a string, got \(member.kindName)")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func entry(named name: String, _ value: JSONValue) throws(SafeTensorsError) -> SafeTensorsEntry {
        guard !name.isEmpty else { throw .invalidName(name) }
        guard case .object(let members) = value else {
            throw .invalidHeader(reason: "entry '\(name)' must be an object, got \(value.kindName)")
        }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (key, member) in members {
            switch key {
            case "dtype": dtypeValue = member
            case "shape": shapeValue = member
            case "data_offsets": offsetsValue = member
            default: throw .invalidHeader(reason: "entry '\(name)' has unknown field '\(key)'")
            }
        }
        guard let dtypeValue, let shapeValue, let offsetsValue else {
            let missing = [("dtype", dtypeValue), ("shape", shapeValue), ("data_offsets", offsetsValue)]
                .filter { $0.1 == nil }.map(\.0)
            throw .invalidHeader(reason: "entry '\(name)' lacks \(missing.joined(separator: ", "))")
        }
        guard case .string(let tag) = dtypeValue else {
            throw .invalidHeader(reason: "dtype of '\(name)' must be a string, got \(dtypeValue.kindName)")
        }
        guard let dtype = DType(safetensorsName: tag) else { throw .unknownDType(tensor: name, dtype: tag) }
        let shape = try integers(shapeValue, field: "shape", of: name)
        let offsets = try integers(offsetsValue, field: "data_offsets", of: name)
        guard offsets.count == 2 else {
            throw .invalidHeader(reason: "data_offsets of '\(name)' must hold 2 integers, got \(offsets.count)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// The elements of an array of non-negative integers no larger than `Int.max`.
    private static func integers(_ value: JSONValue, field: String, of name: String) throws(SafeTensorsError) -> [Int] {
        guard case .array(let elements) = value else {
            throw .invalidHeader(reason: "\(field) of '\(name)' must be an array, got \(value.kindName)")
        }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let integer = element.integer, integer >= 0 else {
                throw .invalidHeader(reason: "\(field) of '\(name)' must hold non-negative integers up to \(Int.max), got \(element.kindName)")
            }
            result.append(integer)
        }
        return result
    }

    /// Checks that the entry's range lies in the data area and matches its shape and dtype. The
    /// product of the shape's sizes (zeros counted as ones) must fit in `Int`, so that no later
    /// element-count or stride computation on the tensor can overflow.
    private static func checkRange(_ entry: SafeTensorsEntry, dataSize: Int) throws(SafeTensorsError) {
        guard entry.begin <= entry.end else {
            throw .offsetsOutOfRange(tensor: entry.name, reason: "begin \(entry.begin) is after end \(entry.end)")
        }
        guard entry.end <= dataSize else {
            throw .offsetsOutOfRange(tensor: entry.name, reason: "end \(entry.end) is past the \(dataSize)-byte data area")
        }
        guard let byteCount = Tensor.contiguousByteCount(entry.shape, dtype: entry.dtype) else {
            throw .sizeMismatch(tensor: entry.name, reason: "the byte count of shape \(entry.shape) overflows")
        }
        guard byteCount == entry.end - entry.begin else {
            throw .sizeMismatch(tensor: entry.name, reason: "shape \(entry.shape) of \(entry.dtype.safetensorsName) needs \(byteCount) bytes, data_offsets [\(entry.begin), \(entry.end)] hold \(entry.end - entry.begin)")
        }
    }

    /// Checks that `sorted` (by begin, then end) covers `0..<dataSize` with no overlap and no gap.
    private static func checkTiling(_ sorted: [SafeTensorsEntry], dataSize: Int) throws(SafeTensorsError) {
        var covered = 0
        var previous: String?
        for entry in sorted {
            if entry.begin < covered, let previous { throw .overlapping(first: previous, second: entry.name) }
            if entry.begin > covered { throw .gap(reason: "no tensor covers bytes \(covered)..<\(entry.begin) of the data area") }
            covered = entry.end
            previous = entry.name
        }
        if covered < dataSize {
            throw .gap(reason: "the tensors cover \(covered) of the \(dataSize) bytes of the data area")
        }
    }
}
