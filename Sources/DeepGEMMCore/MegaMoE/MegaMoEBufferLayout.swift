/// The byte layout of Mega MoE's symmetric buffer, identical on every rank
/// (spec/megamoe-indexer.md §1.4), and the ring-size rules of `get_symm_buffer_for_mega_moe` (§1.1).
public struct MegaMoEBufferLayout: Sendable, Equatable {
    /// The element kinds the expert GEMMs multiply.
    public enum MMAType: String, Sendable, CaseIterable {
        /// FP8 activations (UE8M0 scales per 32) times packed FP4 weights.
        case fp8xfp4
        /// BF16 activations and weights, no scale factors.
        case bf16xbf16

        /// Bytes per activation element.
        public var elementBytes: Int { self == .fp8xfp4 ? 1 : 2 }
        /// Whether activations carry UE8M0 scale factors.
        public var hasScaleFactors: Bool { self == .fp8xfp4 }
    }

    /// One region of the buffer: its byte offset from the buffer start and its size.
    public struct Region: Sendable, Equatable {
        /// Byte offset from the start of the buffer.
        public var offset: Int
        /// Size in bytes (0 for regions the MMA type does not use).
        public var byteCount: Int
        /// The first byte after the region.
        public var end: Int { offset + byteCount }

        /// A region of `byteCount` bytes at `offset`.
        public init(offset: Int, byteCount: Int) {
            self.offset = offset
            self.byteCount = byteCount
        }
    }

    /// The block-M sizes the kernel may choose from.
    public static let candidateBlockM = [8, 16, 32, 64, 96, 128, 192]
    /// The smallest and largest candidate block M.
    public static let (minBlockM, maxBlockM) = (8, 192)
    /// Their least common multiple: token counts and ring sizes are multiples of it.
    public static let tokenAlignment = 384
    /// Bytes of barrier words at the start of the workspace.
    public static let barrierBytes = 32
    /// Bytes of one `{rank, token, topk}` source record.
    public static let sourceMetadataBytes = 12

    /// Workspace (barriers, counters, dispatch indices, source records), 16-byte aligned.
    public let workspace: Region
    /// `recv_count[R][E_l]` (UInt64) inside the workspace: entry [s][le] is the number of (token,
    /// slot) pairs source rank s sends to local expert le of this rank.
    public let recvCount: Region
    /// `src_token_topk_idx[E_l][R][R·T]` (UInt32) inside the workspace: entry [le][s][i] is
    /// `token · k + slot` of the i-th pair source rank s sends to local expert le of this rank.
    public let sourceTokenTopkIndex: Region
    /// `x` [T, H], `x_sf` [T, H/128] Int32 (K-major), `topk_idx` [T, k] Int64, `topk_weights` [T, k] F32.
    public let x: Region, xSF: Region, topkIdx: Region, topkWeights: Region
    /// L1 ring: tokens [ring, H], SF (MN-major, sf_ring rows), per-row weight [ring] F32.
    public let l1Tokens: Region, l1SF: Region, l1TopkWeights: Region
    /// L2 ring: tokens [ring, I] and SF (MN-major, sf_ring rows).
    public let l2Tokens: Region, l2SF: Region
    /// Combine buffer, BF16 [k][T][H].
    public let combine: Region
    /// The ring size in tokens and the SF ring size in rows.
    public let ringTokens: Int, sfRingTokens: Int
    /// The whole buffer, in bytes.
    public var totalBytes: Int { combine.end }

    /// `align(n, 384)`, the per-rank token capacity the buffer is built for.
    public static func alignedMaxTokens(_ numMaxTokensPerRank: Int) -> Int { align(numMaxTokensPerRank, tokenAlignment) }

    /// Pool tokens of a wave of `expertsPerWave` local experts: R·T for one expert, else
    /// `min(R·T·w, align(R·T·k + w·(BM-1), BM))`.
    public static func wavePoolTokens(ranks: Int, topk: Int, maxTokensPerRank: Int, expertsPerWave: Int, blockM: Int) -> Int {
        let all = maxTokensPerRank * ranks
        if expertsPerWave == 1 { return all }
        return min(all * expertsPerWave, align(all * topk + expertsPerWave * (blockM - 1), blockM))
    }

    /// The ring bounds [pool(1), pool(E_l)] with BM = 384.
    public static func ringLimits(maxTokensPerRank: Int, expertsPerRank: Int, topk: Int, ranks: Int) -> ClosedRange<Int> {
        let pool = { (w: Int) in wavePoolTokens(ranks: ranks, topk: topk, maxTokensPerRank: maxTokensPerRank, expertsPerWave: w, blockM: tokenAlignment) }
        return pool(1)...max(pool(1), pool(expertsPerRank))
    }

    /// The ring `get_symm_buffer_for_mega_moe` picks for an aligned T: align(768Ki, 384) when
    /// T ≥ 6144, else the largest ring of the EP72 reference (6 experts per rank, k = 6, T = 4224),
    /// clamped into ``ringLimits(maxTokensPerRank:expertsPerRank:topk:ranks:)``.
    public static func defaultRingTokens(maxTokensPerRank: Int, expertsPerRank: Int, topk: Int, ranks: Int) -> Int {
        let raw = maxTokensPerRank >= 6144
            ? align(768 * 1024, tokenAlignment)
            : ringLimits(maxTokensPerRank: alignedMaxTokens(4096), expertsPerRank: 432 / 72, topk: 6, ranks: 72).upperBound
        let limits = ringLimits(maxTokensPerRank: maxTokensPerRank, expertsPerRank: expertsPerRank, topk: topk, ranks: ranks)
        return min(max(raw, limits.lowerBound), limits.upperBound)
    }

    /// `align(R·T·min(k, E_l) + E_l·191, 384)`: the pool rows the source records cover.
    public static func maxPoolTokens(ranks: Int, maxTokensPerRank: Int, topk: Int, expertsPerRank: Int) -> Int {
        align(ranks * maxTokensPerRank * min(topk, expertsPerRank) + expertsPerRank * (maxBlockM - 1), tokenAlignment)
    }

    /// SF ring rows: the largest `(ring / BM) · align(BM, 128)` over the candidate BMs.
    public static func sfRingTokens(ringTokens: Int) -> Int {
        candidateBlockM.map { (ringTokens / $0) * align($0, 128) }.max() ?? 0
    }

    /// The SF ring row of token `index` of ring block `block` for block size `blockM` (spec §1.3):
    /// each block owns align(BM, 128) rows, and within each 128 tokens token 32j + i goes to row
    /// 4i + j, the UTCCP order the weight scales are transposed into.
    public static func activationSFRow(block: Int, blockM: Int, index: Int) -> Int {
        block * align(blockM, 128) + MegaMoEWeightLayout.utccpDestinationRow(index)
    }

    /// Lays the buffer out. `numMaxTokensPerRank` must already be aligned to 384 and `numRingTokens`
    /// a multiple of 384 within the ring limits; E % R == 0; each TMA-loaded row (H and I elements,
    /// and H/32 and I/32 SF bytes with FP8) must be a whole number of 16-byte units; FP8 needs H and
    /// I multiples of 128.
    public init(ranks: Int, numExperts: Int, numMaxTokensPerRank: Int, topk: Int, hidden: Int, intermediateHidden: Int,
                mmaType: MMAType, numRingTokens: Int) throws {
        try DeepGEMMError.require(ranks > 0 && ranks <= 72, "num_ranks", "must be in 1...72, got \(ranks)")
        try DeepGEMMError.require(numExperts > 0 && numExperts % ranks == 0, "num_experts",
                                  "must be a positive multiple of the number of ranks (\(ranks)), got \(numExperts)")
        try DeepGEMMError.require(numMaxTokensPerRank > 0 && numMaxTokensPerRank % Self.tokenAlignment == 0, "num_max_tokens_per_rank",
                                  "must be a positive multiple of \(Self.tokenAlignment), got \(numMaxTokensPerRank)")
        try DeepGEMMError.require(topk > 0 && topk <= 32, "num_topk", "must be in 1...32, got \(topk)")
        let (t, localExperts, bytes) = (numMaxTokensPerRank, numExperts / ranks, mmaType.elementBytes)
        let sf = mmaType.hasScaleFactors
        for (name, size) in [("hidden", hidden), ("intermediate_hidden", intermediateHidden)] {
            try DeepGEMMError.require(size > 0 && size * bytes % 16 == 0, name, "rows of \(size) elements must be a positive multiple of 16 bytes")
            if sf {
                try DeepGEMMError.require(size % 128 == 0, name, "must be a multiple of 128 with FP8 activations, got \(size)")
                try DeepGEMMError.require(size / 32 % 16 == 0, name, "its \(size / 32) SF bytes per row must be a multiple of 16 (TMA)")
            }
        }
        let limits = Self.ringLimits(maxTokensPerRank: t, expertsPerRank: localExperts, topk: topk, ranks: ranks)
        try DeepGEMMError.require(numRingTokens % Self.tokenAlignment == 0 && limits.contains(numRingTokens), "num_ring_tokens",
                                  "must be a multiple of \(Self.tokenAlignment) in \(limits), got \(numRingTokens)")
        let ring = numRingTokens, sfRing = sf ? Self.sfRingTokens(ringTokens: numRingTokens) : 0
        let recvCountOffset = Self.barrierBytes + numExperts * 8
        var bytesSoFar = Self.barrierBytes + numExperts * 8 * 2 + localExperts * 8 + 4 * (ring / Self.minBlockM) * 4
        recvCount = Region(offset: recvCountOffset, byteCount: ranks * localExperts * 8)
        sourceTokenTopkIndex = Region(offset: bytesSoFar, byteCount: localExperts * ranks * (ranks * t) * 4)
        bytesSoFar += sourceTokenTopkIndex.byteCount
        bytesSoFar += Self.maxPoolTokens(ranks: ranks, maxTokensPerRank: t, topk: topk, expertsPerRank: localExperts) * Self.sourceMetadataBytes
        var cursor = 0
        func next(_ byteCount: Int) -> Region {
            defer { cursor += byteCount }
            return Region(offset: cursor, byteCount: byteCount)
        }
        workspace = next(align(bytesSoFar, 16))
        x = next(t * hidden * bytes)
        xSF = next(sf ? t * hidden / 32 : 0)
        topkIdx = next(t * topk * 8)
        topkWeights = next(t * topk * 4)
        l1Tokens = next(ring * hidden * bytes)
        l1SF = next(sfRing * hidden / 32)
        l1TopkWeights = next(ring * 4)
        l2Tokens = next(ring * intermediateHidden * bytes)
        l2SF = next(sfRing * intermediateHidden / 32)
        combine = next(topk * t * hidden * 2)
        (ringTokens, sfRingTokens) = (ring, sfRing)
    }
}
