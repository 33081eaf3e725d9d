/// Bytes a TMA (Tensor Memory Accelerator) stride must be a multiple of.
let tmaAlignmentBytes = 16

/// DeepGEMM's `get_tma_aligned_size` (spec §3.1): `x` rounded up so that `x` elements of
/// `elementSize` bytes fill whole 16-byte units, i.e. `align(x, 16 / elementSize)`.
///
/// `elementSize` must be a positive divisor of 16 and `x` must be non-negative, and small enough
/// that the result is an `Int`.
public func getTMAAlignedSize(_ x: Int, elementSize: Int) throws -> Int {
    try DeepGEMMError.require(elementSize > 0 && tmaAlignmentBytes % elementSize == 0, "element_size",
                              "must divide \(tmaAlignmentBytes) (1, 2, 4, 8 or 16), got \(elementSize)")
    try DeepGEMMError.require(x >= 0, "x", "must be non-negative, got \(x)")
    let alignment = tmaAlignmentBytes / elementSize, largest = Int.max / alignment * alignment
    try DeepGEMMError.require(x <= largest, "x", "must be at most \(largest) so that it rounds up to a multiple of \(alignment), got \(x)")
    return align(x, alignment)
}

/// The TMA-aligned MN extent of a 4-byte (f32 or int32) scale-factor tensor: `align(mn, 4)`.
func tmaAlignedMN(_ mn: Int) -> Int {
    align(mn, tmaAlignmentBytes / 4)
}
