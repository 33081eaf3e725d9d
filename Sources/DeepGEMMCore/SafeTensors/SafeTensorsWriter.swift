/// Writes tensors in the safetensors format, readable by the Python `safetensors` package.
///
/// Tensors are stored in the given order, back to back, each row-major contiguous whatever its
/// strides, little-endian, tagged with ``DType/safetensorsName`` (packed FP4 as `I8`, UE8M0 as
/// `U8`). The header is compact JSON padded with spaces to a multiple of 8 bytes, so the data area
/// starts 8-byte aligned; `__metadata__` is written only when `metadata` is not empty.
public enum SafeTensorsWriter {
    /// Serializes tensors (any strides; written row-major contiguous) in the given order, with
    /// optional metadata. Names must be non-empty, unique and not `__metadata__` (else
    /// ``SafeTensorsError/invalidName(_:)``). A header longer than
    /// ``SafeTensorsFile/maxHeaderLength`` is ``SafeTensorsError/headerTooLarge(length:)``.
    public static func serialize(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var result = try header(for: tensors, metadata: metadata)
        result.reserveCapacity(result.count + tensors.reduce(0) { $0 + $1.tensor.byteCount })
        for (_, tensor) in tensors {
            let data = tensor.contiguous()
            result.append(contentsOf: UnsafeRawBufferPointer(start: data.dataPointer, count: data.byteCount))
        }
        return result
    }

    /// Writes atomically: to a temporary file in the same directory, fsync, then rename over
    /// `path`. On any failure no new file is left at `path` (an existing one is untouched) and the
    /// temporary file is removed. Validation is as in ``serialize(_:metadata:)``; file-system
    /// failures are ``SafeTensorsError/io(path:reason:)``.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        let headerBytes = try header(for: tensors, metadata: metadata)
        try AtomicFile.write(to: path) { sink in
            try headerBytes.withUnsafeBytes { try sink.append($0) }
            for (_, tensor) in tensors {
                let data = tensor.contiguous()
                try sink.append(UnsafeRawBufferPointer(start: data.dataPointer, count: data.byteCount))
            }
        }
    }

    /// The 8-byte length prefix and the padded JSON header for `tensors` laid out back to back.
    private static func header(for tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws(SafeTensorsError) -> [UInt8] {
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { JSONValue.quoted($0.key) + ":" + JSONValue.quoted($0.value) }
            members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var seen = Set<String>()
        var offset = 0
        for (name, tensor) in tensors {
            guard !name.isEmpty, name != "__metadata__", seen.insert(name).inserted else { throw .invalidName(name) }
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append(JSONValue.quoted(name) + ":{\"dtype\":\"\(tensor.dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array(("{" + members.joined(separator: ",") + "}").utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        let length = UInt64(json.count)
        guard length <= SafeTensorsFile.maxHeaderLength else { throw .headerTooLarge(length: length) }
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json
    }
}
