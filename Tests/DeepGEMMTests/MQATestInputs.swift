import DeepGEMM

/// Inputs of one lightning-indexer prefill case: quantized tensors as the op takes them, plus the
/// unquantized and dequantized values the references use.
struct MQAPrefillInputs {
    let format: MQAInputFormat
    let s: Int, skv: Int, h: Int, d: Int
    /// q data and q_sf (FP4).
    let q: Tensor, qSF: Tensor?
    /// kv data and kv_sf.
    let kv: Tensor, kvSF: Tensor
    /// weights as passed to the op (F32 or BF16).
    let weights: Tensor
    /// cu_seq_len_k_start / cu_seq_len_k_end.
    let ks: Tensor, ke: Tensor
    /// Unquantized BF16 q [S·H·D], kv [SKV·D] and the weights as F32 values.
    let qRaw: [Double], kvRaw: [Double], w: [Double]
    /// Dequantized q [S·H·D] and kv [SKV·D] (kv scale folded in).
    let qDeq: [Double], kvDeq: [Double]

    /// Random inputs; windows from `windows` (ks, ke per query).
    init(format: MQAInputFormat, s: Int, skv: Int, h: Int, d: Int, weightsBF16: Bool = false, windows: [(Int32, Int32)], seed: UInt64) throws {
        (self.format, self.s, self.skv, self.h, self.d) = (format, s, skv, h, d)
        let qBF16 = Tensor.randn([s * h, d], dtype: .bfloat16, seed: seed)
        let kvBF16 = Tensor.randn([skv, d], dtype: .bfloat16, seed: seed &+ 1)
        let wF32 = Tensor.randn([s, h], dtype: .float32, seed: seed &+ 2)
        weights = weightsBF16 ? wF32.converted(to: .bfloat16) : wF32
        w = weights.doubleValues()
        qRaw = qBF16.doubleValues()
        kvRaw = kvBF16.doubleValues()
        if format == .fp8 {
            let q8 = qBF16.converted(to: .float8E4M3)
            q = try q8.reshaped([s, h, d])
            qSF = nil
            let cast = try perCustomDimsCastToFP8(kvBF16, dims: [0], useUE8M0: false)
            (kv, kvSF) = (cast.data, cast.sf)
            qDeq = q8.doubleValues()
            let scales = cast.sf.doubleValues()
            kvDeq = cast.data.doubleValues().enumerated().map { $0.element * scales[$0.offset / d] }
        } else {
            let q4 = try perTokenCastToFP4(qBF16, useUE8M0: true, granK: 32, usePackedUE8M0: true)
            q = try q4.data.viewing(as: .int8).reshaped([s, h, d / 2])
            qSF = try q4.sf.reshaped([s, h])
            let kv4 = try perTokenCastToFP4(kvBF16, useUE8M0: true, granK: 32, usePackedUE8M0: true)
            kv = try kv4.data.viewing(as: .int8)
            kvSF = try kv4.sf.reshaped([skv])
            qDeq = try castBackFromFP4(q4.data, sf: q4.sf, granK: 32, usePackedUE8M0: true).doubleValues()
            kvDeq = try castBackFromFP4(kv4.data, sf: kv4.sf, granK: 32, usePackedUE8M0: true).doubleValues()
        }
        ks = try Tensor(windows.map(\.0), shape: [s])
        ke = try Tensor(windows.map(\.1), shape: [s])
    }

    /// The key window of query i, clamped to SKV.
    func window(_ i: Int) throws -> Range<Int> {
        let starts = try ks.elements(as: Int32.self), ends = try ke.elements(as: Int32.self)
        return min(Int(starts[i]), skv)..<min(Int(ends[i]), skv)
    }

    /// The FP64 logits [S·SKV] of `qValues`/`kvValues` (row-major), -inf outside the windows.
    func reference(q qValues: [Double], kv kvValues: [Double]) throws -> [Double] {
        var result = [Double](repeating: -.infinity, count: s * skv)
        for i in 0..<s {
            for j in try window(i) {
                var logit = 0.0
                for head in 0..<h {
                    var dot = 0.0
                    for e in 0..<d { dot += qValues[(i * h + head) * d + e] * kvValues[j * d + e] }
                    logit += max(dot, 0) * w[i * h + head]
                }
                result[i * skv + j] = logit
            }
        }
        return result
    }

    /// Logits [S, SKV] as Doubles, re-expanded from compressed output (-inf outside the windows).
    func expanded(_ logits: Tensor, compressed: Bool) throws -> [Double] {
        let values = logits.doubleValues(), columns = logits.size(1)
        guard compressed else { return values }
        var result = [Double](repeating: -.infinity, count: s * skv)
        for i in 0..<s {
            let range = try window(i)
            for (t, j) in range.enumerated() { result[i * skv + j] = values[i * columns + t] }
        }
        return result
    }

    /// Causal windows as in DeepGEMM's test: ks = 0, ke = i + SKV - S.
    static func causal(s: Int, skv: Int) -> [(Int32, Int32)] {
        (0..<s).map { (0, Int32($0 + skv - s)) }
    }

    /// DeepGEMM's context-parallel windows (S even, SKV a multiple of S).
    static func contextParallel(s: Int, skv: Int) -> [(Int32, Int32)] {
        let chunk = s / 2, cp = skv / s, id = cp / 3
        var ends = [Int32](repeating: 0, count: s)
        for i in 0..<chunk {
            ends[i] = Int32(id * chunk + i)
            ends[i + chunk] = Int32((2 * cp - 1 - id) * chunk + i)
        }
        return ends.map { (0, $0) }
    }

    /// Random windows with empty rows and ends past SKV.
    static func random(s: Int, skv: Int, seed: UInt64) -> [(Int32, Int32)] {
        var generator = SeededGenerator(seed: seed)
        return (0..<s).map { _ in
            let start = Int(generator.next() % UInt64(skv + 4))
            let length = generator.next() % 4 == 0 ? 0 : Int(generator.next() % UInt64(skv))
            return (Int32(start), Int32(start + length))
        }
    }
}

/// Whether two logit arrays have -inf at exactly the same positions, and `calcDiff` of the rest
/// (positions that are -inf in either are set to 0 in both).
func maskedDiff(_ actual: [Double], _ expected: [Double]) -> (masksEqual: Bool, diff: Double) {
    var a = actual, e = expected
    var masksEqual = true
    for i in a.indices {
        let infA = a[i] == -.infinity, infE = e[i] == -.infinity
        if infA != infE { masksEqual = false }
        if infA || infE { (a[i], e[i]) = (0, 0) }
    }
    return (masksEqual, calcDiff(a, e))
}
