import DeepGEMMCore

/// Nil when `actual` and `expected` have the same dtype, shape and bytes in every element
/// (strides may differ); otherwise a description of the first difference.
public func bitwiseMismatch(_ actual: Tensor, _ expected: Tensor) -> String? {
    if actual.dtype != expected.dtype { return "dtype \(actual.dtype) != expected \(expected.dtype)" }
    if actual.shape != expected.shape { return "shape \(actual.shape) != expected \(expected.shape)" }
    let a = actual.contiguous(), b = expected.contiguous()
    let size = actual.dtype.size
    let left = UnsafeRawPointer(a.dataPointer), right = UnsafeRawPointer(b.dataPointer)
    for element in 0..<actual.count {
        for byte in 0..<size where left.load(fromByteOffset: element * size + byte, as: UInt8.self)
            != right.load(fromByteOffset: element * size + byte, as: UInt8.self) {
            return "element \(multiIndex(element, in: actual.shape)) is \(actual.dtype.decodeDouble(left + element * size))"
                + ", expected \(expected.dtype.decodeDouble(right + element * size)) (first of the differences)"
        }
    }
    return nil
}

/// A copy of `tensor` laid out with `strides` in new zero-filled storage just large enough for them.
public func stridedCopy(of tensor: Tensor, strides: [Int]) throws -> Tensor {
    let span = zip(tensor.shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
    let storage = TensorStorage(byteCount: tensor.count == 0 ? 0 : span * tensor.dtype.size)
    let copy = try Tensor(storage: storage, dtype: tensor.dtype, shape: tensor.shape, strides: strides)
    try copy.copy(from: tensor)
    return copy
}

/// The row-major multi-index of flat position `flat` in `shape`.
private func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for dim in shape.indices.reversed() where shape[dim] > 0 {
        index[dim] = rest % shape[dim]
        rest /= shape[dim]
    }
    return index
}

/// True when `error` is ``DeepGEMMError/backendUnavailable(backend:reason:)`` for `backend`.
public func isBackendUnavailable(_ error: any Error, backend: String = "cuda") -> Bool {
    if case .backendUnavailable(let name, _)? = error as? DeepGEMMError { return name == backend }
    return false
}

/// Whether `error` is the typed error of a broken argument rule naming `argument`:
/// ``DeepGEMMError/unsupported(argument:rule:)`` when `unsupported` (an architecture restriction),
/// else ``DeepGEMMError/invalidArgument(argument:rule:)``.
public func namesArgument(_ error: any Error, _ argument: String, unsupported: Bool = false) -> Bool {
    switch error as? DeepGEMMError {
    case .invalidArgument(let name, _)?: return !unsupported && name == argument
    case .unsupported(let name, _)?: return unsupported && name == argument
    default: return false
    }
}
