/// Which dimension of an A/B operand is contiguous (DeepGEMM's `get_major_type_ab`).
public enum GEMMMajor: String, Sendable, Hashable {
    /// `stride(-1) == 1`: K is contiguous.
    case k
    /// `stride(-2) == 1` (and not K-major): M or N is contiguous.
    case mn
}

extension GEMMMajor {
    /// The one major-ness rule of an A/B operand (DeepGEMM's `get_major_type_ab`) on a view's last
    /// two dimensions: K-major when `stride(-1) == 1`, else MN-major when `stride(-2) == 1`. A
    /// dimension of size 1 has no meaningful stride (PyTorch leaves any value there), so it counts
    /// as contiguous: a [MN, 1] view is K-major and a [1, K] view with any K stride is MN-major. A
    /// stride of 0 over more than one element (a broadcast view) is neither. Throws naming `name`.
    public init(shape: [Int], strides: [Int], name: String) throws {
        precondition(shape.count >= 2 && shape.count == strides.count, "a GEMM operand has at least two dimensions")
        let (rows, k) = (shape[shape.count - 2], shape[shape.count - 1])
        let (rowStride, kStride) = (strides[strides.count - 2], strides[strides.count - 1])
        if kStride == 1 || k == 1 {
            self = .k
            return
        }
        try DeepGEMMError.require(rowStride == 1 || rows == 1, name,
                                  "must be K-major (stride(-1) == 1) or MN-major (stride(-2) == 1), got shape \(shape) with strides \(strides)")
        self = .mn
    }
}

/// The major-ness of an A/B operand (spec §0): `tensor` must be 2-D or 3-D, a 3-D one must have
/// compact batches (`stride(0) == size(-2)·size(-1)`), and the rule of
/// ``GEMMMajor/init(shape:strides:name:)`` applies. Errors name `name`.
public func checkABMajor(_ tensor: Tensor, name: String) throws -> GEMMMajor {
    try checkGEMMMatrixRank(tensor, name: name)
    return try GEMMMajor(shape: tensor.shape, strides: tensor.strides, name: name)
}

/// DeepGEMM's `check_major_type_cd`: a C or D tensor must be 2-D or 3-D with compact batches
/// (`stride(0) == size(-2)·size(-1)` when 3-D) and row-major (`stride(-1) == 1`). Errors name `name`.
public func checkCDMajor(_ tensor: Tensor, name: String) throws {
    try checkGEMMMatrixRank(tensor, name: name)
    try DeepGEMMError.require(tensor.stride(-1) == 1, name, "must be row-major (stride(-1) == 1), got strides \(tensor.strides)")
}

/// The rank and batch-compactness half of DeepGEMM's major checks.
private func checkGEMMMatrixRank(_ tensor: Tensor, name: String) throws {
    try DeepGEMMError.require(tensor.rank == 2 || tensor.rank == 3, name, "must be 2-D or 3-D, got shape \(tensor.shape)")
    if tensor.rank == 3 {
        try DeepGEMMError.require(tensor.stride(0) == tensor.size(-2) * tensor.size(-1), name,
                                  "3-D operands need compact batches: stride(0) must be size(-2)·size(-1) = \(tensor.size(-2) * tensor.size(-1)), got \(tensor.stride(0))")
    }
}

/// What spec §4 (DeepGEMM's `early_return`) leaves to do once a GEMM's output arguments are checked.
public enum GEMMOutputAction: Equatable, Sendable {
    /// `m == 0` or `n == 0`: nothing is read or written.
    case nothing
    /// `k == 0`: D becomes C (copied unless C is D) or zero; there is no product.
    case fillWithC
    /// Run the product; with `accumulate`, D holds C before the product is added to it.
    case compute(accumulate: Bool)
}

/// Checks D and the optional C of a GEMM with problem size `m × n × k` as spec §4 does, in its
/// order, and says what is left to do. Nothing is written: callers finish their own checks (scale
/// factors, architecture rules) and then call ``prepareGEMMOutput(_:d:c:)``, so that a rejected
/// call never leaves D half-written.
///
/// 1. `m == 0` or `n == 0`: ``GEMMOutputAction/nothing`` (C and D are not checked further).
/// 2. C aliases D (same data pointer): equal sizes and strides are required.
/// 3. D is BF16 or F32; a given C is row-major (``checkCDMajor(_:name:)``) with D's dtype and shape.
/// 4. `k == 0`: ``GEMMOutputAction/fillWithC``; otherwise ``GEMMOutputAction/compute(accumulate:)``
///    with `accumulate` true exactly when C is given.
public func checkGEMMOutput(m: Int, n: Int, k: Int, d: Tensor, c: Tensor?) throws -> GEMMOutputAction {
    if m == 0 || n == 0 { return .nothing }
    if let c, c.sharesDataPointer(with: d) {
        try DeepGEMMError.require(c.shape == d.shape && c.strides == d.strides, "c",
                                  "aliases d, so it needs d's sizes and strides (\(d.shape), \(d.strides)), got (\(c.shape), \(c.strides))")
    }
    try requireGEMMOutputType(d)
    if let c {
        try checkCDMajor(c, name: "c")
        try DeepGEMMError.require(c.dtype == d.dtype, "c", "must have d's dtype \(d.dtype), got \(c.dtype)")
        try DeepGEMMError.require(c.shape == d.shape, "c", "must have d's shape \(d.shape), got \(c.shape)")
    }
    return k == 0 ? .fillWithC : .compute(accumulate: c != nil)
}

/// Performs the writes of spec §4 for `action` (from ``checkGEMMOutput(m:n:k:d:c:)``):
/// ``GEMMOutputAction/fillWithC`` sets D to C (no copy when C is D) or to zero;
/// ``GEMMOutputAction/compute(accumulate:)`` copies a C that is not D into D. Returns whether a
/// product still has to be computed, and then whether it is added to D.
public func prepareGEMMOutput(_ action: GEMMOutputAction, d: Tensor, c: Tensor?) throws -> (run: Bool, accumulate: Bool) {
    let aliased = c.map { $0.sharesDataPointer(with: d) } ?? false
    switch action {
    case .nothing:
        return (false, false)
    case .fillWithC:
        if let c {
            if !aliased { try d.copy(from: c) }
        } else {
            try d.zero()
        }
        return (false, false)
    case .compute(let accumulate):
        if let c, !aliased { try d.copy(from: c) }
        return (true, accumulate)
    }
}

/// The dtype rule of a GEMM's D (and so of its C): BF16 or F32. Errors name `d`.
public func requireGEMMOutputType(_ d: Tensor) throws {
    try DeepGEMMError.require(d.dtype == .bfloat16 || d.dtype == .float32, "d", "must be bfloat16 or float32, got \(d.dtype)")
}
