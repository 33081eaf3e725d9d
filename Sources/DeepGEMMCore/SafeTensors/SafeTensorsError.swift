/// Errors for malformed safetensors data. Each case names the tensor (when there is one) and the rule.
///
/// A header length above ``SafeTensorsFile/maxHeaderLength`` is always ``headerTooLarge(length:)``;
/// a smaller length that runs past the end of the data is ``truncated(reason:)``.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be opened, inspected, mapped, written or renamed.
    case io(path: String, reason: String)
    /// A file changed while it was being read or while it was mapped (it shrank, grew or was
    /// rewritten in place), so its tensors cannot be trusted.
    case modified(path: String, reason: String)
    /// The data ends early: fewer than 8 bytes, or a header that runs past the end.
    case truncated(reason: String)
    /// The 8-byte header length is above ``SafeTensorsFile/maxHeaderLength``.
    case headerTooLarge(length: UInt64)
    /// The header is not JSON: not UTF-8, a syntax error, trailing garbage, or nesting too deep.
    case invalidJSON(reason: String)
    /// The header is JSON of the wrong structure: the top level or an entry is not an object, a
    /// field is missing, unknown or of the wrong type, a number is not a non-negative integer, or
    /// `__metadata__` is not an object of strings.
    case invalidHeader(reason: String)
    /// The same key appears twice in one JSON object.
    case duplicateName(String)
    /// A tensor's dtype tag is not one ``DType/init(safetensorsName:)`` knows.
    case unknownDType(tensor: String, dtype: String)
    /// A tensor's shape times its element size is not its byte range, or the product overflows.
    case sizeMismatch(tensor: String, reason: String)
    /// A tensor's byte range starts after it ends or ends past the data area.
    case offsetsOutOfRange(tensor: String, reason: String)
    /// Two tensors' byte ranges overlap (`first` starts before `second`).
    case overlapping(first: String, second: String)
    /// The byte ranges leave part of the data area uncovered.
    case gap(reason: String)
    /// A tensor name is empty, reserved (`__metadata__`), or given twice to the writer.
    case invalidName(String)

    /// A one-line, human-readable message.
    public var description: String {
        switch self {
        case .io(let path, let reason): return "safetensors I/O error on '\(path)': \(reason)"
        case .modified(let path, let reason): return "safetensors file '\(path)' changed on disk: \(reason)"
        case .truncated(let reason): return "truncated safetensors data: \(reason)"
        case .headerTooLarge(let length):
            return "safetensors header length \(length) exceeds the limit of \(SafeTensorsFile.maxHeaderLength) bytes"
        case .invalidJSON(let reason): return "safetensors header is not valid JSON: \(reason)"
        case .invalidHeader(let reason): return "invalid safetensors header: \(reason)"
        case .duplicateName(let name): return "safetensors header repeats the key '\(name)'"
        case .unknownDType(let tensor, let dtype): return "tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case .sizeMismatch(let tensor, let reason): return "tensor '\(tensor)' size mismatch: \(reason)"
        case .offsetsOutOfRange(let tensor, let reason): return "tensor '\(tensor)' offsets out of range: \(reason)"
        case .overlapping(let first, let second): return "tensors '\(first)' and '\(second)' have overlapping byte ranges"
        case .gap(let reason): return "safetensors data area is not fully covered: \(reason)"
        case .invalidName(let name): return "invalid tensor name '\(name)'"
        }
    }
}
