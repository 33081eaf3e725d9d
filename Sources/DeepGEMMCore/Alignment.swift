/// `ceil(a / b)` for non-negative `a` and positive `b`, as DeepGEMM's `ceil_div`. Exact for every
/// `a` up to `Int.max` (no `a + b - 1` that could overflow).
@inlinable
public func ceilDiv(_ a: Int, _ b: Int) -> Int {
    precondition(b > 0, "ceilDiv divisor must be positive")
    let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
    return remainder > 0 ? quotient + 1 : quotient
}

/// `a` rounded up to a multiple of `b`, as DeepGEMM's `align`.
@inlinable
public func align(_ a: Int, _ b: Int) -> Int {
    ceilDiv(a, b) * b
}
