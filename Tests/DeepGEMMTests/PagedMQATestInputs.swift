import DeepGEMM

/// Inputs of one paged-indexer case: a quantized KV cache in DeepGEMM's page layout, a shuffled
/// block table, 2-D context lengths and the dequantized values the FP64 reference uses.
struct PagedMQAInputs {
    let format: MQAInputFormat
    let batch: Int, nextN: Int, h: Int, d: Int, blockKV: Int
    /// q (and q_sf for FP4) [batch, next_n, H, ...].
    let q: Tensor, qSF: Tensor?
    /// uint8 [blocks, block_kv, 1, bytes per token], pages `pageStride` bytes apart.
    let kvCache: Tensor
    let weights: Tensor
    /// int32 [batch, next_n], [batch, max_blocks], and [batch] varlen indices.
    let contextLens: Tensor, blockTable: Tensor, indices: Tensor?
    let maxContextLen: Int
    /// Per-token lengths, dequantized q [tokens·H·D] and keys per page [blocks·block_kv·D], and the
    /// unquantized BF16 values of both.
    let lengths: [Int], qDeq: [Double], keyDeq: [Double], qRaw: [Double], keyRaw: [Double], w: [Double], table: [Int32]
    /// The block-table row each token reads.
    let tableRow: [Int]

    /// Random inputs. Without `runs`, `batch` requests of `nextN` tokens whose last length is
    /// drawn from `lengthRange` and earlier ones are shorter. With `runs` (varlen, next_n 1),
    /// run r has runs[r] tokens of increasing lengths, reading the first token's table row.
    init(format: MQAInputFormat, batch: Int, nextN: Int = 1, runs: [Int]? = nil, h: Int, d: Int, blockKV: Int,
         lengthRange: ClosedRange<Int>, weightsBF16: Bool = false, pagePadding: Int = 0, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let tokens = runs.map { $0.reduce(0, +) } ?? batch * nextN
        (self.format, self.nextN, self.h, self.d, self.blockKV) = (format, runs == nil ? nextN : 1, h, d, blockKV)
        self.batch = runs == nil ? batch : tokens
        var lengths = [Int](repeating: 0, count: tokens), tableRow = [Int](repeating: 0, count: tokens)
        var requestTokens = [Range<Int>]()
        var start = 0
        for r in 0..<(runs?.count ?? batch) {
            let count = runs?[r] ?? nextN
            let last = lengthRange.lowerBound + Int(generator.next() % UInt64(lengthRange.count))
            for t in 0..<count {
                let token = start + t
                tableRow[token] = runs == nil ? r : start
                if t == count - 1 { lengths[token] = last } else if runs != nil { lengths[token] = max(0, last - (count - 1 - t)) }
                else { lengths[token] = Int(generator.next() % UInt64(last + 1)) }
            }
            requestTokens.append(start..<(start + count))
            start += count
        }
        self.lengths = lengths
        self.tableRow = tableRow
        maxContextLen = (lengths.max() ?? 0) + 3

        // Pages: each request owns ceil(last / block_kv) pages, shuffled over the cache.
        let pagesPerRequest = requestTokens.map { ceilDiv(lengths[$0.upperBound - 1], blockKV) }
        let blocks = pagesPerRequest.reduce(0, +) + 2
        var order = Array(0..<blocks)
        for i in stride(from: blocks - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        let columns = (pagesPerRequest.max() ?? 0) + 1
        var table = [Int32](repeating: -1, count: self.batch * columns)
        var next = 0
        for (r, tokensOfRequest) in requestTokens.enumerated() {
            for page in 0..<pagesPerRequest[r] {
                table[tableRow[tokensOfRequest.lowerBound] * columns + page] = Int32(order[next])
                next += 1
            }
        }
        self.table = table
        blockTable = try Tensor(table, shape: [self.batch, columns])

        let raw = Tensor.randn([blocks * blockKV, d], dtype: .bfloat16, seed: seed &+ 1)
        keyRaw = raw.doubleValues()
        let valueBytes = format == .fp8 ? d : d / 2
        let pageBytes = blockKV * (valueBytes + 4), pageStride = pageBytes + pagePadding
        let storage = TensorStorage(byteCount: blocks * pageStride)
        let bytes = storage.baseAddress
        if format == .fp8 {
            let cast = try perCustomDimsCastToFP8(raw, dims: [0], useUE8M0: false)
            let values = try cast.data.elements(as: UInt8.self), scales = try cast.sf.elements(as: Float.self)
            for row in 0..<(blocks * blockKV) {
                let (page, slot) = (row / blockKV, row % blockKV)
                for e in 0..<d { bytes.storeBytes(of: values[row * d + e], toByteOffset: page * pageStride + slot * d + e, as: UInt8.self) }
                bytes.storeBytes(of: scales[row], toByteOffset: page * pageStride + blockKV * d + 4 * slot, as: Float.self)
            }
            keyDeq = cast.data.doubleValues().enumerated().map { $0.element * Double(scales[$0.offset / d]) }
        } else {
            let cast = try perTokenCastToFP4(raw, useUE8M0: true, granK: 32, usePackedUE8M0: true)
            let values = try cast.data.elements(as: UInt8.self), scales = try cast.sf.elements(as: Int32.self)
            for row in 0..<(blocks * blockKV) {
                let (page, slot) = (row / blockKV, row % blockKV)
                for e in 0..<(d / 2) {
                    bytes.storeBytes(of: values[row * d / 2 + e], toByteOffset: page * pageStride + slot * d / 2 + e, as: UInt8.self)
                }
                bytes.storeBytes(of: scales[row], toByteOffset: page * pageStride + blockKV * d / 2 + 4 * slot, as: Int32.self)
            }
            keyDeq = try castBackFromFP4(cast.data, sf: cast.sf, granK: 32, usePackedUE8M0: true).doubleValues()
        }
        kvCache = try Tensor(storage: storage, dtype: .uint8, shape: [blocks, blockKV, 1, valueBytes + 4],
                             strides: [pageStride, valueBytes + 4, valueBytes + 4, 1])

        let qBF16 = Tensor.randn([tokens * h, d], dtype: .bfloat16, seed: seed &+ 2)
        qRaw = qBF16.doubleValues()
        if format == .fp8 {
            let q8 = qBF16.converted(to: .float8E4M3)
            q = try q8.reshaped([self.batch, self.nextN, h, d])
            qSF = nil
            qDeq = q8.doubleValues()
        } else {
            let q4 = try perTokenCastToFP4(qBF16, useUE8M0: true, granK: 32, usePackedUE8M0: true)
            q = try q4.data.viewing(as: .int8).reshaped([self.batch, self.nextN, h, d / 2])
            qSF = try q4.sf.reshaped([self.batch, self.nextN, h])
            qDeq = try castBackFromFP4(q4.data, sf: q4.sf, granK: 32, usePackedUE8M0: true).doubleValues()
        }
        let wF32 = Tensor.randn([tokens, h], dtype: .float32, seed: seed &+ 3)
        weights = weightsBF16 ? wF32.converted(to: .bfloat16) : wF32
        w = weights.doubleValues()
        contextLens = try Tensor(lengths.map { Int32($0) }, shape: [self.batch, self.nextN])
        if let runs {
            indices = try Tensor(runs.enumerated().flatMap { [Int32](repeating: Int32($0.offset * 7 % 5 + $0.offset), count: $0.element) },
                                 shape: [tokens])
        } else {
            indices = nil
        }
    }

    /// The FP64 logits [tokens · max_context_len] of `qValues` and `keyValues` (the dequantized
    /// inputs by default), -inf at and past each token's length.
    func reference(q qValues: [Double]? = nil, keys keyValues: [Double]? = nil) -> [Double] {
        let (qDeq, keyDeq) = (qValues ?? self.qDeq, keyValues ?? self.keyDeq)
        let tokens = lengths.count, columns = table.count / max(batch, 1)
        var result = [Double](repeating: -.infinity, count: tokens * maxContextLen)
        for t in 0..<tokens {
            for j in 0..<lengths[t] {
                let page = Int(table[tableRow[t] * columns + j / blockKV]), key = (page * blockKV + j % blockKV) * d
                var logit = 0.0
                for head in 0..<h {
                    var dot = 0.0
                    for e in 0..<d { dot += qDeq[(t * h + head) * d + e] * keyDeq[key + e] }
                    logit += max(dot, 0) * w[t * h + head]
                }
                result[t * maxContextLen + j] = logit
            }
        }
        return result
    }

    /// The schedule metadata for these inputs.
    func metadata(numSMs: Int = PagedMQASchedule.defaultNumSMs, settings: DeepGEMMSettings = .default) throws -> Tensor {
        try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: blockKV, numSMs: numSMs, indices: indices, settings: settings)
    }

    /// Runs the op with these inputs.
    func run(logits: DType = .float32, settings: DeepGEMMSettings = .default) throws -> Tensor {
        try fp8FP4PagedMQALogits(q: (q, qSF), kvCache: kvCache, weights: weights, contextLens: contextLens, blockTable: blockTable,
                                 scheduleMeta: metadata(settings: settings), maxContextLen: maxContextLen, logitsDType: logits,
                                 indices: indices, settings: settings)
    }
}
