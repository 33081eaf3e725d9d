import DeepGEMM

/// Benchmarks of the lightning-indexer ops (spec §12), in GFLOPS counted as DeepGEMM's test does:
/// `2·H·D` per (query, key) pair inside the windows (prefill: causal windows `ks = 0`,
/// `ke[i] = i + SKV − S`; paged: every position below each token's context length).
enum MQABenchmark {
    /// Ops `deepgemm bench` can time as indexer logits: FP8 and FP4 (q and kv in packed E2M1)
    /// prefill, FP8 and FP4 paged.
    static let ops = ["fp8_mqa_logits", "fp8_fp4_mqa_logits", "fp8_paged_mqa_logits", "fp8_fp4_paged_mqa_logits"]

    /// Times `op` on random inputs and returns a table (or one JSON object with `json`). Prefill
    /// ops use S = `s`, SKV = `skv`; paged ops use `batch` requests of `nextN` tokens, every token
    /// with context length `context`, in pages of 64 tokens laid out in a shuffled block table.
    static func run(op: String, s: Int, skv: Int, h: Int, d: Int, batch: Int, nextN: Int, context: Int, json: Bool) throws -> String {
        guard ops.contains(op) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "no indexer benchmark for '\(op)'; available: \(ops.joined(separator: ", "))")
        }
        let fp4 = op.hasPrefix("fp8_fp4")
        let result: MQABenchmarkResult
        if op.contains("paged") {
            try DeepGEMMError.require(batch > 0 && nextN > 0 && context > 0, "--batch", "batch, next_n and context must be positive")
            result = try paged(fp4: fp4, batch: batch, nextN: nextN, context: context, h: h, d: d, op: op)
        } else {
            try DeepGEMMError.require(s > 0 && skv >= s, "--s", "needs 0 < S <= SKV for causal windows, got S = \(s), SKV = \(skv)")
            result = try prefill(fp4: fp4, s: s, skv: skv, h: h, d: d, op: op)
        }
        return json ? result.json : result.table
    }

    /// Prefill logits with causal windows.
    private static func prefill(fp4: Bool, s: Int, skv: Int, h: Int, d: Int, op: String) throws -> MQABenchmarkResult {
        let q = try MQABenchmarkData.values(count: s * h * d, fp4: fp4, seed: 1, shape: [s, h, fp4 ? d / 2 : d])
        let kv = try MQABenchmarkData.values(count: skv * d, fp4: fp4, seed: 2, shape: [skv, fp4 ? d / 2 : d])
        let qSF = fp4 ? try MQABenchmarkData.scales(count: s * h, fp4: true, seed: 3, shape: [s, h]) : nil
        let kvSF = try MQABenchmarkData.scales(count: skv, fp4: fp4, seed: 4, shape: [skv])
        let weights = Tensor.randn([s, h], dtype: .float32, seed: 5)
        let ks = Tensor(zeros: [s], dtype: .int32)
        let ke = try Tensor((0..<s).map { Int32($0 + skv - s) }, shape: [s])
        let call = {
            try fp8FP4MQALogits(q: (q, qSF), kv: (kv, kvSF), weights: weights, cuSeqLenKStart: ks, cuSeqLenKEnd: ke)
        }
        let pairs = (0..<s).reduce(0) { $0 + $1 + skv - s }
        let seconds = try Timing.median { _ = try call() }
        return MQABenchmarkResult(op: op, shape: "S=\(s) SKV=\(skv) H=\(h) D=\(d) causal", seconds: seconds, flops: 2 * pairs * h * d)
    }

    /// Paged logits of `batch` requests of `nextN` tokens, all of length `context`.
    private static func paged(fp4: Bool, batch: Int, nextN: Int, context: Int, h: Int, d: Int, op: String) throws -> MQABenchmarkResult {
        let blockKV = 64
        let pages = ceilDiv(context, blockKV)
        let blocks = batch * pages
        let rowBytes = (fp4 ? d / 2 : d) + 4
        let cache = try MQABenchmarkData.pagedCache(blocks: blocks, blockKV: blockKV, d: d, fp4: fp4, seed: 6)
        var generator = SeededGenerator(seed: 7)
        var order = (0..<blocks).map(Int32.init)
        for i in stride(from: blocks - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        let blockTable = try Tensor(order, shape: [batch, pages])
        let tokens = batch * nextN
        let q = try MQABenchmarkData.values(count: tokens * h * d, fp4: fp4, seed: 8, shape: [batch, nextN, h, fp4 ? d / 2 : d])
        let qSF = fp4 ? try MQABenchmarkData.scales(count: tokens * h, fp4: true, seed: 9, shape: [batch, nextN, h]) : nil
        let weights = Tensor.randn([tokens, h], dtype: .float32, seed: 10)
        let contextLens = try Tensor([Int32](repeating: Int32(context), count: tokens), shape: [batch, nextN])
        let meta = try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: blockKV)
        precondition(cache.size(3) == rowBytes, "cache layout")
        let call = {
            try fp8FP4PagedMQALogits(q: (q, qSF), kvCache: cache, weights: weights, contextLens: contextLens, blockTable: blockTable,
                                     scheduleMeta: meta, maxContextLen: context)
        }
        let seconds = try Timing.median { _ = try call() }
        return MQABenchmarkResult(op: op, shape: "B=\(batch) next_n=\(nextN) context=\(context) H=\(h) D=\(d) block_kv=\(blockKV)",
                                  seconds: seconds, flops: 2 * tokens * context * h * d)
    }
}

/// Figures of one indexer benchmark.
struct MQABenchmarkResult {
    let op: String
    let shape: String
    let seconds: Double
    let flops: Int

    var gflops: Double { Double(flops) / seconds / 1e9 }

    var table: String {
        """
        \(op) \(shape)  threads=\(CPUParallelism.threadCount) kernel=\(CPUKernelVariant.best.rawValue)
          \(op): \(String(format: "%.3f", seconds * 1e3)) ms  \(String(format: "%.1f", gflops)) GFLOPS (2*H*D per pair, \(flops) flops)
        """
    }

    var json: String {
        """
        {"op":"\(op)","shape":"\(shape)","threads":\(CPUParallelism.threadCount),"kernel":"\(CPUKernelVariant.best.rawValue)",\
        "seconds":\(seconds),"flops":\(flops),"gflops":\(gflops)}
        """
    }
}

/// Random quantized inputs for the indexer benchmarks, made from random bytes (fast at large sizes).
enum MQABenchmarkData {
    /// Random FP8 E4M3 values (NaN codes avoided) or packed E2M1 bytes, `count` logical elements.
    static func values(count: Int, fp4: Bool, seed: UInt64, shape: [Int]) throws -> Tensor {
        let bytes = fp4 ? count / 2 : count
        let tensor = Tensor(zeros: [bytes], dtype: fp4 ? .int8 : .float8E4M3)
        fill(tensor.dataPointer.assumingMemoryBound(to: UInt8.self), count: bytes, seed: seed, fp8: !fp4)
        return try tensor.reshaped(shape)
    }

    /// Scales: FP8 per-token floats in [0.5, 1.5); FP4 packed UE8M0 words of exponents near 127.
    static func scales(count: Int, fp4: Bool, seed: UInt64, shape: [Int]) throws -> Tensor {
        var generator = SeededGenerator(seed: seed)
        if fp4 {
            let words = (0..<count).map { _ in
                UE8M0.pack(UInt8(125 + generator.next() % 4), UInt8(125 + generator.next() % 4), UInt8(125 + generator.next() % 4),
                           UInt8(125 + generator.next() % 4))
            }
            return try Tensor(words, shape: shape)
        }
        return try Tensor((0..<count).map { _ in Float(0.5 + generator.nextUnit()) }, shape: shape)
    }

    /// A uint8 [blocks, blockKV, 1, bytes + 4] cache: random values, then valid scales, per page.
    static func pagedCache(blocks: Int, blockKV: Int, d: Int, fp4: Bool, seed: UInt64) throws -> Tensor {
        let valueBytes = fp4 ? d / 2 : d
        let cache = Tensor(zeros: [blocks, blockKV, 1, valueBytes + 4], dtype: .uint8)
        let base = cache.dataPointer.assumingMemoryBound(to: UInt8.self)
        let pageBytes = blockKV * (valueBytes + 4)
        let pageScales = try scales(count: blockKV, fp4: fp4, seed: seed &+ 1, shape: [blockKV])
        for page in 0..<blocks {
            let start = base + page * pageBytes
            fill(start, count: blockKV * valueBytes, seed: seed &+ UInt64(page), fp8: !fp4)
            (start + blockKV * valueBytes).update(from: pageScales.dataPointer.assumingMemoryBound(to: UInt8.self), count: 4 * blockKV)
        }
        return cache
    }

    /// Random bytes; FP8 NaN codes (0x7F, 0xFF) become 0x7E / 0xFE.
    private static func fill(_ pointer: UnsafeMutablePointer<UInt8>, count: Int, seed: UInt64, fp8: Bool) {
        var generator = SeededGenerator(seed: seed)
        var i = 0
        while i < count {
            var word = generator.next()
            for _ in 0..<min(8, count - i) {
                let byte = UInt8(truncatingIfNeeded: word)
                pointer[i] = fp8 && byte & 0x7F == 0x7F ? byte &- 1 : byte
                word >>= 8
                i += 1
            }
        }
    }
}
