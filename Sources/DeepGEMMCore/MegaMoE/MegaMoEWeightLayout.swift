/// The row permutations `transform_weights_for_mega_moe` applies per expert (spec/megamoe-indexer.md
/// §1.3), as maps from a new row to the old row it takes, and the argument rules of the transform.
public enum MegaMoEWeightLayout {
    /// Gate and up rows alternate in runs of this many rows after the L1 interleave.
    public static let interleaveGranularity = 8
    /// Rows per UTCCP transpose group.
    public static let utccpRows = 128

    /// The old L1 row of new row `row` after the gate/up interleave of an L1 weight with
    /// `2 * intermediate` rows: new row 16b + r holds gate row 8b + r for r < 8, else up row
    /// I + 8b + (r - 8). So every 16 new rows hold 8 gate rows and their matching up rows.
    @inlinable
    public static func interleavedSourceRow(_ row: Int, intermediate: Int) -> Int {
        let run = 2 * interleaveGranularity
        let (block, r) = (row / run, row % run)
        return r < interleaveGranularity ? interleaveGranularity * block + r
                                         : intermediate + interleaveGranularity * block + r - interleaveGranularity
    }

    /// The old row of new row `row` after the UTCCP transpose of scale-factor rows: within each
    /// 128-row group, new row 4i + j (i < 32, j < 4) takes old row 32j + i.
    @inlinable
    public static func utccpSourceRow(_ row: Int) -> Int {
        let (group, within) = (row / utccpRows, row % utccpRows)
        return group * utccpRows + 32 * (within % 4) + within / 4
    }

    /// The new row of old row `row` under the UTCCP transpose, the inverse of
    /// ``utccpSourceRow(_:)``: within each 128-row group, old row 32j + i goes to new row 4i + j.
    @inlinable
    public static func utccpDestinationRow(_ row: Int) -> Int {
        (row & ~(utccpRows - 1)) + 4 * (row & 31) + ((row >> 5) & 3)
    }

    /// Checks `activation` (only `swiglu` exists).
    public static func checkActivation(_ activation: String) throws {
        try DeepGEMMError.require(activation == "swiglu", "activation", "only 'swiglu' is supported, got '\(activation)'")
    }

    /// Checks an L1 weight (data) tensor [G, 2I, K] and returns (G, 2I): 3-D, K-major (stride(-1) == 1,
    /// so packed FP4 is packed along K), 2I a positive multiple of 16 (whole interleave runs).
    public static func checkL1Data(_ data: Tensor, name: String) throws -> (groups: Int, rows: Int) {
        try DeepGEMMError.require(data.rank == 3, name, "must be 3-D [num_experts_per_rank, 2 * intermediate, k], got shape \(data.shape)")
        try DeepGEMMError.require(data.size(-1) <= 1 || data.stride(-1) == 1, name, "must be K-major (stride(-1) == 1), got strides \(data.strides)")
        let rows = data.size(1), run = 2 * interleaveGranularity
        try DeepGEMMError.require(rows > 0 && rows % run == 0, name, "must have 2 * intermediate rows, a positive multiple of \(run), got \(rows)")
        return (data.size(0), rows)
    }

    /// Checks a scale-factor tensor of weight `name` with `groups` experts and `rows` rows: Int32
    /// (packed UE8M0) [G, rows, k'] with rows a multiple of 128 (whole UTCCP groups).
    public static func checkScales(_ sf: Tensor, name: String, groups: Int, rows: Int) throws {
        try DeepGEMMError.require(sf.rank == 3 && sf.size(0) == groups && sf.size(1) == rows, name,
                                  "scale factors must be [\(groups), \(rows), k / 128] to match the weights, got shape \(sf.shape)")
        try DeepGEMMError.require(sf.dtype == .int32, name, "scale factors must be packed UE8M0 int32, got \(sf.dtype)")
        try DeepGEMMError.require(rows % utccpRows == 0, name, "rows (\(rows)) must be a multiple of \(utccpRows) for the UTCCP transpose")
    }
}
