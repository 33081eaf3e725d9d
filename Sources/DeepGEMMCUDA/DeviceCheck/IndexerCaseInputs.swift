import DeepGEMMCore

/// A deterministic generator for the indexer cases' windows, lengths and page tables.
struct IndexerRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// One `fp8_mqa_logits` case of the GPU tests and the device check, and its host inputs: FP8 q
/// [S, H, D] and kv [SKV, D], kv scales in [0.5, 1.5], float32 weights, and windows. Causal windows
/// are DeepGEMM's non-CP ones (`ks = 0`, `ke = i + SKV - S`); otherwise random windows, some past
/// SKV and some empty (compressed: at most `maxSeqlenK` keys).
public struct MQAPrefillCase: Sendable, CustomStringConvertible {
    /// Query tokens, key tokens, heads, head dimension.
    public var s: Int, skv: Int, h: Int, d: Int
    /// 0 for full-width logits, else the compressed row length.
    public var maxSeqlenK: Int
    /// float32 or bfloat16 logits.
    public var logitsDType: DType
    /// DeepGEMM's non-CP windows instead of random ones.
    public var causal: Bool

    /// Creates a case.
    public init(s: Int, skv: Int, h: Int, d: Int, maxSeqlenK: Int = 0, logitsDType: DType = .float32, causal: Bool = false) {
        (self.s, self.skv, self.h, self.d, self.maxSeqlenK, self.logitsDType, self.causal) = (s, skv, h, d, maxSeqlenK, logitsDType, causal)
    }

    /// `fp8_mqa_logits S=.. SKV=.. H=.. D=..` and the mode.
    public var description: String {
        "fp8_mqa_logits S=\(s) SKV=\(skv) H=\(h) D=\(d)" + (maxSeqlenK > 0 ? " max_seqlen_k=\(maxSeqlenK)" : "")
            + (logitsDType == .bfloat16 ? " bf16" : "") + (causal ? " causal" : "")
    }

    /// The host inputs: (q, kv, kv scales, weights, ks, ke).
    public func inputs(seed: UInt64 = 1) throws -> (q: Tensor, kv: Tensor, kvSF: Tensor, weights: Tensor, ks: Tensor, ke: Tensor) {
        var rng = IndexerRandom(state: seed)
        var starts: [Double] = [], ends: [Double] = []
        for i in 0..<s {
            if causal {
                starts.append(0)
                ends.append(Double(max(0, i + skv - s)))
                continue
            }
            let start = i % 7 == 3 ? skv + 5 : Int.random(in: 0..<max(skv, 1), using: &rng)
            let limit = maxSeqlenK > 0 ? maxSeqlenK : skv
            let length = i % 5 == 1 ? 0 : Int.random(in: 0...limit, using: &rng)
            starts.append(Double(start))
            ends.append(Double(maxSeqlenK > 0 ? max(start, min(start + length, skv)) : start + length))
        }
        let q = Tensor.randn([s, h, d], dtype: .bfloat16, seed: seed &+ 1).converted(to: .float8E4M3)
        let kv = Tensor.randn([skv, d], dtype: .bfloat16, seed: seed &+ 2).converted(to: .float8E4M3)
        let kvSF = try Tensor(converting: (0..<skv).map { _ in Double(Float.random(in: 0.5...1.5, using: &rng)) }, shape: [skv], dtype: .float32)
        let weights = Tensor.randn([s, h], dtype: .float32, seed: seed &+ 3)
        return (q, kv, kvSF, weights, try Tensor(converting: starts, shape: [s], dtype: .int32), try Tensor(converting: ends, shape: [s], dtype: .int32))
    }

    /// 2 · H · D flops per (query, key) pair inside the windows `ks`, `ke` (clamped to SKV).
    public func flops(ks: Tensor, ke: Tensor) throws -> Double {
        let pairs = zip(try ks.elements(as: Int32.self), try ke.elements(as: Int32.self)).reduce(0) { $0 + max(0, min(Int($1.1), skv) - min(Int($1.0), skv)) }
        return 2 * Double(pairs) * Double(h * d)
    }
}

/// One `fp8_paged_mqa_logits` case and its host inputs: FP8 q [B, next_n, H, D], the fused cache
/// [num_blocks, 64, 1, D + 4] (64 rows of FP8 values, then 64 float32 scales in [0.5, 1.5], per
/// page), float32 weights, context lengths (request 0 at the maximum, request 1 empty when B > 1)
/// and a random block table.
public struct PagedMQACase: Sendable, CustomStringConvertible {
    /// Requests, tokens per request, heads, head dimension, columns of the logits.
    public var batch: Int, nextN: Int, h: Int, d: Int, maxContextLen: Int

    /// Creates a case.
    public init(batch: Int, nextN: Int, h: Int, d: Int, maxContextLen: Int) {
        (self.batch, self.nextN, self.h, self.d, self.maxContextLen) = (batch, nextN, h, d, maxContextLen)
    }

    /// `fp8_paged_mqa_logits B=.. next_n=.. H=.. D=.. max_context_len=..`.
    public var description: String { "fp8_paged_mqa_logits B=\(batch) next_n=\(nextN) H=\(h) D=\(d) max_context_len=\(maxContextLen)" }

    /// The host inputs: (q, kv cache, weights, context lengths, block table).
    public func inputs(seed: UInt64 = 1) throws -> (q: Tensor, kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor) {
        var rng = IndexerRandom(state: seed)
        let pagesPerRequest = (maxContextLen + 63) / 64, numBlocks = batch * pagesPerRequest + 3
        var lens: [Double] = [], table: [Double] = []
        for b in 0..<batch {
            let last = b == 1 ? 0 : (b == 0 ? maxContextLen : Int.random(in: 1...max(maxContextLen, 1), using: &rng))
            for n in 0..<nextN { lens.append(Double(max(0, last - (nextN - 1 - n)))) }
            table += (0..<pagesPerRequest).map { _ in Double(Int.random(in: 0..<numBlocks, using: &rng)) }
        }
        let values = try Tensor.randn([numBlocks * 64, d], dtype: .bfloat16, seed: seed &+ 1).converted(to: .float8E4M3).elements(as: UInt8.self)
        var bytes: [Double] = []
        bytes.reserveCapacity(numBlocks * 64 * (d + 4))
        for page in 0..<numBlocks {
            bytes += values[(page * 64 * d)..<((page + 1) * 64 * d)].map(Double.init)
            for _ in 0..<64 { withUnsafeBytes(of: Float.random(in: 0.5...1.5, using: &rng)) { bytes += $0.map(Double.init) } }
        }
        return (Tensor.randn([batch, nextN, h, d], dtype: .bfloat16, seed: seed &+ 2).converted(to: .float8E4M3),
                try Tensor(converting: bytes, shape: [numBlocks, 64, 1, d + 4], dtype: .uint8),
                Tensor.randn([batch * nextN, h], dtype: .float32, seed: seed &+ 3),
                try Tensor(converting: lens, shape: [batch, nextN], dtype: .int32),
                try Tensor(converting: table, shape: [batch, pagesPerRequest], dtype: .int32))
    }

    /// 2 · H · D flops per (token, key) pair below the token's context length.
    public func flops(contextLens: Tensor) throws -> Double {
        2 * Double(try contextLens.elements(as: Int32.self).reduce(0) { $0 + Int($1) }) * Double(h * d)
    }
}

/// DeepGEMM's calc_diff between two logits tensors over the positions `expected` holds finitely,
/// and whether both have -inf at exactly the same positions.
public func logitsDifference(_ result: Tensor, _ expected: Tensor) throws -> (difference: Double, masksMatch: Bool) {
    let (x, y) = (try result.to(.host).doubleValues(), try expected.to(.host).doubleValues())
    let masksMatch = x.count == y.count && zip(x, y).allSatisfy { ($0.0 == -.infinity) == ($0.1 == -.infinity) }
    let values = zip(x, y).filter { $0.1 != -.infinity }
    return (calcDiff(values.map(\.0), values.map(\.1)), masksMatch)
}
