/// DeepGEMM's global similarity measure `1 - 2·Σxy / Σ(x² + y²)` in Double (0 when both are all
/// zero). Shapes must match; any -inf must be masked out by the caller beforehand.
public func calcDiff(_ x: Tensor, _ y: Tensor) throws -> Double {
    try DeepGEMMError.require(x.shape == y.shape, "y", "shape \(y.shape) does not match x \(x.shape)")
    return calcDiff(x.doubleValues(), y.doubleValues())
}

/// ``calcDiff(_:_:)-(Tensor,Tensor)`` on flat arrays of equal length.
public func calcDiff(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "calcDiff needs equal lengths")
    var denominator = 0.0, cross = 0.0
    for (a, b) in zip(x, y) {
        denominator += a * a + b * b
        cross += a * b
    }
    return denominator == 0 ? 0 : 1 - 2 * cross / denominator
}
