import DeepGEMMCore

/// The CPU backend of `fp8_fp4_paged_mqa_logits` (spec §12.3).
public enum PagedMQALogitsCPU {
    /// Bytes of packed key values per kernel call: the pages of a request are packed this many
    /// bytes at a time (FP4 at 128 bytes a row: 16 pages of 64 keys), so that the kernel's
    /// per-call setup is paid once per panel while the panel stays in the L2 cache.
    static let panelBytes = 128 * 1024

    /// Computes the logits of a validated problem and returns them as DeepGEMM does: a
    /// [B·next_n, max_context_len] view of a buffer with DeepGEMM's row stride
    /// (``PagedMQALogitsProblem/rowStride``).
    ///
    /// Row t holds, for every key position `j < context_lens[t]`, the logit against the key found
    /// at page `block_table[row, j / block_kv]`, slot `j % block_kv` (row: the request's first
    /// token's row with `indices`, else the request's), and -inf at every later column. DeepGEMM
    /// leaves positions at or past a token's context length unspecified; the CPU backend writes
    /// -inf there. The arithmetic is the one of `dg_mqa.h`, identical for every `variant` and
    /// independent of `threads`.
    ///
    /// The inputs must have passed ``PagedMQALogitsProblem`` (shapes, dtypes, strides, page
    /// indices).
    public static func run(_ problem: PagedMQALogitsProblem, q: Tensor, qSF: Tensor?, kvCache: Tensor, weights: Tensor,
                           blockTable: Tensor, variant: CPUKernelVariant = .best,
                           threads: Int = CPUParallelism.threadCount) throws -> Tensor {
        let tokens = problem.tokenCount
        let logits = try MQALogitsLayout.view(rows: tokens, columns: problem.maxContextLen, bufferRows: tokens,
                                              rowStride: problem.rowStride, dtype: problem.logitsDType)
        guard tokens > 0 else { return logits }
        let kernel = MQAKernel(variant: variant, format: problem.format)
        let outBF16 = problem.logitsDType == .bfloat16, weightsBF16 = problem.weightsDType == .bfloat16
        let (heads, dim, blockKV) = (problem.numHeads, problem.headDim, problem.blockKV)
        let qRowBytes = heads * (problem.format == .fp8 ? dim : dim / 2)
        let valueBytes = problem.valueBytes, pageBytes = blockKV * (problem.valueBytes + 4)
        let pointers = (q: SendablePointer(q.dataPointer), qSF: qSF.map { SendablePointer($0.dataPointer) },
                        weights: SendablePointer(weights.dataPointer), out: SendablePointer(logits.dataPointer),
                        cache: SendablePointer(kvCache.dataPointer), table: SendablePointer(blockTable.dataPointer))
        let weightsRowBytes = weights.stride(0) * weights.dtype.size
        let outRowBytes = problem.rowStride * problem.logitsDType.size
        let tableRowStride = blockTable.stride(0)
        let requests = problem.requests
        let costs = requests.map { $0.tokenCount * ($0.contextLength * heads * dim + problem.maxContextLen) + $0.contextLength * dim }
        let panelPages = max(1, panelBytes / (blockKV * MQAKeyPanel.rowBytes(kernel: kernel, format: problem.format, dim: dim)))
        // The address of page `index` of `request`.
        let page = { @Sendable (request: PagedMQARequest, index: Int) -> UnsafeRawPointer in
            let table = pointers.table.raw.assumingMemoryBound(to: Int32.self) + request.blockTableRow * tableRowStride
            return UnsafeRawPointer(pointers.cache.raw + Int(table[index]) * problem.pageStride)
        }
        // The pages of `request`, and the page after the panel that starts at `firstPage`.
        let pageCount = { @Sendable (request: PagedMQARequest) -> Int in ceilDiv(request.contextLength, blockKV) }
        let panelEnd = { @Sendable (request: PagedMQARequest, firstPage: Int) -> Int in min(pageCount(request), firstPage + panelPages) }
        MQAWorkPartition.forEachShare(costs: costs, threads: threads) { next in
            let keys = MQAKeyPanel(kernel: kernel, format: problem.format, dim: dim, capacity: panelPages * blockKV)
            let upcoming = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: panelPages)
            defer { upcoming.deallocate() }
            var queries = [MQAQueryPanel]()
            while let share = next() {
                // The share's panels in order, (request, first page), one (empty) also for a request without keys.
                let panels = share.flatMap { index in
                    stride(from: 0, to: max(1, pageCount(requests[index])), by: panelPages).map { (index, $0) }
                }
                for (number, (index, firstPage)) in panels.enumerated() {
                    let request = requests[index]
                    if firstPage == 0 {
                        while queries.count < request.tokenCount {
                            queries.append(MQAQueryPanel(kernel: kernel, format: problem.format, heads: heads, dim: dim))
                        }
                        for (local, token) in request.tokens.enumerated() {
                            queries[local].load(q: pointers.q.raw + token * qRowBytes, qSF: pointers.qSF.map { $0.raw + token * heads * 4 })
                        }
                    }
                    let endPage = panelEnd(request, firstPage), first = firstPage * blockKV
                    for p in firstPage..<endPage {
                        let base = page(request, p), row = (p - firstPage) * blockKV
                        keys.load(rows: row..<(row + min(blockKV, request.contextLength - p * blockKV)), values: base,
                                  valueStride: valueBytes, scales: base + blockKV * valueBytes, scaleStride: 4)
                    }
                    // The pages of the share's next panel are brought in while this one is computed.
                    var aheadCount = 0
                    if number + 1 < panels.count {
                        let (aheadIndex, aheadFirst) = panels[number + 1]
                        let ahead = requests[aheadIndex]
                        aheadCount = panelEnd(ahead, aheadFirst) - aheadFirst
                        for i in 0..<aheadCount { upcoming[i] = page(ahead, aheadFirst + i) }
                    }
                    let prefetch = MQAPrefetch(starts: upcoming, count: aheadCount, bytes: pageBytes)
                    for (local, token) in request.tokens.enumerated() {
                        let lanes = 0..<max(0, min(endPage * blockKV, problem.contextLengths[token]) - first)
                        kernel.logits(query: queries[local], keys: keys, lanes: lanes,
                                      weights: pointers.weights.raw + token * weightsRowBytes, weightsBF16: weightsBF16,
                                      out: pointers.out.raw + token * outRowBytes + first * problem.logitsDType.size, outBF16: outBF16,
                                      prefetch: local == 0 ? prefetch : nil)
                    }
                    if endPage == pageCount(request) {
                        for token in request.tokens {
                            MQANegativeInfinity.fill(pointers.out.raw + token * outRowBytes,
                                                     problem.contextLengths[token]..<problem.maxContextLen, bf16: outBF16)
                        }
                    }
                }
            }
        }
        return logits
    }
}
