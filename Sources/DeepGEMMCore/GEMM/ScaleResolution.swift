/// The scale grids of an FP8/FP4 GEMM after DeepGEMM's recipe rules: one grid per group of each
/// operand (one when the operand is not grouped), and each side's K granularity.
public struct ResolvedScales: Sendable {
    /// Grids of A, one per group (or one).
    public var a: ScaleGridGroups
    /// Grids of B, one per group (or one).
    public var b: ScaleGridGroups
    /// K granularity of A's scales.
    public var granKA: Int
    /// K granularity of B's scales.
    public var granKB: Int
}

/// The scale grids of one operand, one per group. F32 scales are used as they are; packed UE8M0
/// words are decoded into a fresh F32 grid each time a group is read, so a grouped GEMM that reads
/// only the groups with rows (once each) converts nothing for the others.
public struct ScaleGridGroups: RandomAccessCollection, Sendable {
    private enum Source: Sendable {
        case grids([ScaleGrid])
        /// Packed Int32 [rows, words] per group, the K granularity and the reduction size.
        case packed([Tensor], granK: Int, k: Int)
    }
    private let source: Source
    /// K elements sharing one scale, in every group.
    public let granK: Int

    init(grids: [ScaleGrid], granK: Int) {
        (source, self.granK) = (.grids(grids), granK)
    }

    init(packed: [Tensor], granK: Int, k: Int) {
        (source, self.granK) = (.packed(packed, granK: granK, k: k), granK)
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of groups.
    public var endIndex: Int {
        switch source {
        case .grids(let grids): grids.count
        case .packed(let words, _, _): words.count
        }
    }

    /// Group `position`'s grid (decoded now for packed scales).
    public subscript(position: Int) -> ScaleGrid {
        switch source {
        case .grids(let grids): grids[position]
        case .packed(let words, let granK, let k): decodedUE8M0Grid(words[position], granK: granK, k: k)
        }
    }
}

/// Resolves the scale factors of an FP8/FP4 GEMM as DeepGEMM's `transform_sf_pair_into_required_layout`
/// does, and returns them as dense F32 grids for the CPU kernels (packed UE8M0 groups are decoded
/// when read: ``ScaleGridGroups``).
///
/// - `recipe` (3 ints: gran_m, gran_n, gran_k) or both `recipeA`/`recipeB` (2 ints: gran_mn, gran_k),
///   never both; with neither, the default is (1,1,128) when `sfb` is packed Int32 and (1,128,128)
///   otherwise.
/// - Each side goes through ``transformSFIntoRequiredLayout(_:mn:k:recipe:numGroups:isSFA:disableUE8M0Cast:psumLayout:settings:)``:
///   shapes are checked, F32 scales are kept (SM90 rules) or must be powers of two and are packed
///   to UE8M0 (SM100 rules), Int32 scales must already be packed UE8M0, MN-major, TMA-aligned.
/// - `strictArch` true follows `settings.arch` only. False (the default) accepts what either
///   architecture accepts: the SM90 rules are tried first, then the SM100 rules, and the SM100
///   error is reported when both reject. Both give the same scale values where both accept.
/// - `numGroupsA`/`numGroupsB`: the SF is 3-D [G, ...] and one grid per group comes back.
/// - `psumLayout` applies to A only (m-grouped psum layouts).
/// - Errors about a scale tensor name it `a_sf` or `b_sf`.
public func resolveGEMMScales(
    sfa: Tensor, sfb: Tensor, m: Int, n: Int, k: Int, recipe: [Int]?, recipeA: [Int]?, recipeB: [Int]?,
    numGroupsA: Int? = nil, numGroupsB: Int? = nil, disableUE8M0Cast: Bool = false, psumLayout: Tensor? = nil,
    settings: DeepGEMMSettings, strictArch: Bool = false
) throws -> ResolvedScales {
    try DeepGEMMError.require((recipeA == nil) == (recipeB == nil), recipeA == nil ? "recipe_a" : "recipe_b",
                              "recipe_a and recipe_b must be given together")
    if let recipe { try DeepGEMMError.require(recipe.count == 3, "recipe", "must have 3 entries (gran_m, gran_n, gran_k), got \(recipe)") }
    for (name, pair) in [("recipe_a", recipeA), ("recipe_b", recipeB)] {
        if let pair { try DeepGEMMError.require(pair.count == 2, name, "must have 2 entries (gran_mn, gran_k), got \(pair)") }
    }
    try DeepGEMMError.require(recipe == nil || recipeA == nil, "recipe", "give either recipe or recipe_a and recipe_b, not both")
    let shared = recipe ?? (recipeA == nil ? (sfb.dtype == .int32 ? [1, 1, 128] : [1, 128, 128]) : nil)
    let recipeOfA: ScaleRecipe = shared.map { .shared(granM: $0[0], granN: $0[1], granK: $0[2]) } ?? .operand(granMN: recipeA![0], granK: recipeA![1])
    let recipeOfB: ScaleRecipe = shared.map { .shared(granM: $0[0], granN: $0[1], granK: $0[2]) } ?? .operand(granMN: recipeB![0], granK: recipeB![1])

    func resolve(_ sf: Tensor, mn: Int, recipe: ScaleRecipe, isSFA: Bool, groups: Int?, psum: Tensor?) throws -> ScaleGridGroups {
        let flag: Bool? = shared == nil ? nil : isSFA
        let (granMN, granK) = try recipe.granularities(isSFA: flag)
        let personalities: [ArchPersonality] = strictArch ? [settings.arch] : [.sm90, .sm100]
        var lastError: Error?
        for arch in personalities {
            var rules = settings
            rules.arch = arch
            do {
                let transformation = try SFTransformation(sf, mn: mn, k: k, recipe: recipe, numGroups: groups, isSFA: flag,
                                                          disableUE8M0Cast: disableUE8M0Cast, settings: rules)
                // F32 scales the transform would pack to UE8M0 decode back to their own values (+0
                // to 2^-127): check them for the packing and use them in place.
                if case .packedUE8M0(let rows) = transformation, psum == nil {
                    _ = try rows.packedRowRanges(psumLayout: nil, settings: rules)  // the packing's layout rules
                    return try ue8m0ScaleGrids(rows, granK: granK)
                }
                let transformed = try transformSFIntoRequiredLayout(sf, mn: mn, k: k, recipe: recipe, numGroups: groups, isSFA: flag,
                                                                    disableUE8M0Cast: disableUE8M0Cast, psumLayout: psum, settings: rules)
                return try scaleGrids(transformed, granMN: granMN, granK: granK, k: k)
            } catch {
                lastError = error
            }
        }
        let side = isSFA ? "a_sf" : "b_sf"
        // Errors about the transform's `sf` name the GEMM's own argument.
        switch lastError {
        case DeepGEMMError.invalidArgument("sf", let rule)?: throw DeepGEMMError.invalidArgument(argument: side, rule: rule)
        case DeepGEMMError.unsupported("sf", let rule)?: throw DeepGEMMError.unsupported(argument: side, rule: rule)
        case let error?: throw error
        case nil: throw DeepGEMMError.invalidArgument(argument: side, rule: "no architecture accepts these scales")
        }
    }

    let a = try resolve(sfa, mn: m, recipe: recipeOfA, isSFA: true, groups: numGroupsA, psum: psumLayout)
    let b = try resolve(sfb, mn: n, recipe: recipeOfB, isSFA: false, groups: numGroupsB, psum: nil)
    return ResolvedScales(a: a, b: b, granKA: a.granK, granKB: b.granK)
}

/// Dense F32 grids from a transformed SF: F32 values are used as they are (granularity of the
/// recipe; SM100 broadcasts rows before packing, so packed results have row granularity 1); packed
/// UE8M0 Int32 words decode to 2^(e-127) per byte (byte 0 is 2^-127, as the hardware reads it).
private func scaleGrids(_ transformed: Tensor, granMN: Int, granK: Int, k: Int) throws -> ScaleGridGroups {
    let batches = transformed.rank == 3 ? try (0..<transformed.size(0)).map { try transformed.select(dim: 0, index: $0) } : [transformed]
    if transformed.dtype == .float32 {
        return ScaleGridGroups(grids: try batches.map { try ScaleGrid(values: $0, granRows: granMN, granK: granK) }, granK: granK)
    }
    return ScaleGridGroups(packed: batches, granK: granK, k: k)
}

/// The grids an F32 scale tensor packed to UE8M0 and decoded back would give, one per batch,
/// without packing: every value must pack (+0 or a finite positive power of two; the error names
/// the first that does not, as the packing would), a batch without +0 is used as it is and one with
/// +0 is copied with 2^-127 (UE8M0 byte 0 as the hardware reads it) in its place. Row-broadcast
/// views keep their row granularity.
private func ue8m0ScaleGrids(_ rows: ScaleFactorBatches, granK: Int) throws -> ScaleGridGroups {
    let tensorRows = ceilDiv(rows.mn, rows.rowDivisor)
    var grids: [ScaleGrid] = []
    for batch in 0..<rows.batches {
        let values = rows.isBatched ? try rows.tensor.select(dim: 0, index: batch) : rows.tensor
        let base = UnsafeRawPointer(values.dataPointer)
        // Lane-wise ORs of the checks over four columns at a time, reduced once per row.
        var zeros = SIMD4<UInt32>(repeating: 0)
        for row in 0..<tensorRows {
            let line = base + 4 &* row &* rows.mnStride
            var unpackable = SIMD4<UInt32>(repeating: 0)
            var column = 0
            if rows.kStride == 1 {
                while column + 4 <= rows.sfK {
                    let bits = line.loadUnaligned(fromByteOffset: 4 &* column, as: SIMD4<UInt32>.self)
                    unpackable |= ue8m0Unpackable(scaleBits: bits)
                    zeros |= SIMD4(repeating: 0).replacing(with: 1, where: bits .== 0)
                    column += 4
                }
            }
            for c in column..<rows.sfK {
                let bits = line.loadUnaligned(fromByteOffset: 4 &* c &* rows.kStride, as: UInt32.self)
                unpackable[0] |= ue8m0Unpackable(scaleBits: bits)
                zeros[0] |= bits == 0 ? 1 : 0
            }
            if unpackable.max() != 0 { try rows.requirePackable(batch: batch, row: row) }
        }
        var grid = values
        if zeros.max() != 0 {
            grid = values.clone()
            let words = grid.dataPointer.assumingMemoryBound(to: UInt32.self)
            for i in 0..<grid.count where words[i] == 0 { words[i] = UE8M0.scaleValueBits(0) }
        }
        grids.append(ScaleGrid(ue8m0Decoded: grid, granRows: rows.rowDivisor, granK: granK))
    }
    return ScaleGridGroups(grids: grids, granK: granK)
}

/// The F32 grid [rows, ceil(k / granK)] of packed UE8M0 words `sf` (Int32 [rows, words], any strides).
private func decodedUE8M0Grid(_ sf: Tensor, granK: Int, k: Int) -> ScaleGrid {
    let rows = sf.size(0), blocks = ceilDiv(k, granK)
    let grid = Tensor.empty([rows, blocks], dtype: .float32)
    let output = grid.dataPointer.assumingMemoryBound(to: Float.self)
    let words = UnsafeRawPointer(sf.dataPointer).assumingMemoryBound(to: Int32.self)
    let (rowStride, wordStride) = (sf.stride(0), sf.stride(1))
    // Sixteen rows at a time: MN-major words of one row lie a TMA-aligned row count apart, often a
    // multiple of 4 KiB, so a row-at-a-time pass would read every word of a row from one cache set.
    for first in stride(from: 0, to: rows, by: 16) {
        for j in 0..<ceilDiv(blocks, 4) {
            let count = min(4, blocks &- 4 &* j)
            for r in first..<min(first + 16, rows) {
                UE8M0.storeScaleValues(of: words[r &* rowStride &+ j &* wordStride], count: count, to: output + (r &* blocks &+ 4 &* j))
            }
        }
    }
    return ScaleGrid(ue8m0Decoded: grid, granK: granK)
}
