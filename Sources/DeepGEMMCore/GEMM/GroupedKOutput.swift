/// The output shape of a k-grouped GEMM (spec §8): D is [G, M, N].
public struct GroupedKOutputShape: Sendable, Hashable {
    /// The number of groups G.
    public var groups: Int
    /// M.
    public var m: Int
    /// N.
    public var n: Int
}

/// The k-grouped GEMMs' own rules on D and C (spec §8), before the common ones of spec §4
/// (``checkGEMMOutput(m:n:k:d:c:)``): d is 3-D [G, M, N], float32 and contiguous, and c must be
/// given (DeepGEMM's signature defaults it to None, but its checks then fail) and contiguous.
public func checkKGroupedOutput(d: Tensor, c: Tensor?) throws -> GroupedKOutputShape {
    try DeepGEMMError.require(d.rank == 3, "d", "must be 3-D [G, M, N], got shape \(d.shape)")
    try DeepGEMMError.require(d.dtype == .float32, "d", "must be float32, got \(d.dtype)")
    try DeepGEMMError.require(d.isContiguous, "d", "must be contiguous, got strides \(d.strides) for shape \(d.shape)")
    guard let c else { throw DeepGEMMError.invalidArgument(argument: "c", rule: "is required by k-grouped GEMMs (usually c is d)") }
    try DeepGEMMError.require(c.isContiguous, "c", "must be contiguous, got strides \(c.strides) for shape \(c.shape)")
    return GroupedKOutputShape(groups: d.size(0), m: d.size(1), n: d.size(2))
}
