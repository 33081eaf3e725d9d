/// `ceil(a / b)` for non-negative `a` and positive `b`, as DeepGEMM's `ceil_div`.
@inlinable
public func ceilDiv(_ a: Int, _ b: Int) -> Int {
    precondition(b > 0, "ceilDiv divisor must be positive")
    return (a + b - 1) / b
}

/// `a` rounded up to a multiple of `b`, as DeepGEMM's `align`.
@inlinable
public func align(_ a: Int, _ b: Int) -> Int {
    ceilDiv(a, b) * b
}
