import DeepGEMMCore

/// The fused Mega MoE of one rank (spec/megamoe-indexer.md §1.5-1.7 and §2.2, on CPU threads):
///
/// 1. **Publish.** The rank writes, into each destination rank's region, the `token · k + slot`
///    indices of its pairs per local expert (`src_token_topk_idx[le][src][i]`) and their counts
///    (`recv_count[src][le]`). Barrier.
/// 2. **Experts.** For each local expert with pairs, in ``blocks(rows:blockRows:)`` of at most
///    ``maxBlockRows`` rows:
///    pull the rows (x, its scale words, the top-k weight) from the source ranks' input regions into
///    the L1 ring; L1 GEMM (FP8×FP4 with per-32 scales, or BF16) into a block-sized scratch; the
///    SwiGLU epilogue writes the L2 ring (FP8 with UE8M0 scales, or BF16); L2 GEMM; each result row
///    goes straight into its source rank's combine buffer at [slot][token]. Only the experts that
///    received pairs have their scales converted, and no rank ever holds the whole expanded token
///    matrix: the rings bound the memory. The rank's own thread pulls each block right before the
///    block's GEMM (the GPU overlaps the two; on CPU ranks the copies are well under 1% of the
///    time). The GEMMs, the epilogue and the combine split their tiles and rows over
///    ``MegaMoERankBuffer/threadsPerRank`` workers (all cores by default), which thread ranks take
///    from the process's one pool, so a rank with fewer pairs, or already at the barrier, leaves
///    its cores to the ranks still computing. Barrier.
/// 3. **Combine.** For each own token, a binary32 sum from +0 of the combine rows of its valid
///    slots in ascending slot order, then one RN to BF16; a token with no valid slot gets +0.
/// 4. **Stats.** Each local expert's received pair count is added to the stats.
///
/// Every value equals the unfused pipeline's bit for bit: the GEMMs are the same engine calls row
/// by row (a row's result does not depend on its block, position or thread count, as long as the
/// block takes the unfused expert's path: see ``blocks(rows:blockRows:)``), the epilogue
/// and combine use the same scalar arithmetic in the same order. Two barriers per call suffice:
/// a rank can only start writing into a peer for the next call after that peer has finished
/// reading everything of this one.
enum MegaMoEFusedRank {
    /// The most rows one expert GEMM takes at a time (fewer when the ring is smaller).
    static let maxBlockRows = 1024

    /// An expert's `rows` cut into blocks of at most `blockRows` rows of equal size (±1): the
    /// whole expert when it fits, else blocks of at least `blockRows / 2` rows. The GEMM engine
    /// computes calls with at most ``GEMMEngine/dotPathMaxRows`` rows on its dot-product path, so a
    /// block takes the unfused expert's path (and gives its bits) when `blockRows / 2` is more
    /// than that (the ring holds at least 384 rows).
    static func blocks(rows: Int, blockRows: Int) -> [Range<Int>] {
        precondition(blockRows / 2 > GEMMEngine.dotPathMaxRows, "blocks of \(blockRows) rows could split an expert into dot-path blocks")
        let count = (rows + blockRows - 1) / blockRows
        return (0..<count).map { i in (i * rows / count)..<((i + 1) * rows / count) }
    }

    /// Runs the call. Any failure marks this rank failed, so its peers stop waiting for it.
    static func run(_ call: MegaMoEFusedCall) throws {
        let group = call.buffer.group
        do {
            publishRoutes(call)
            try group.barrier()
            let received = try computeExperts(call)
            try group.barrier()
            combine(call)
            if let stats = call.stats {
                let counts = stats.dataPointer.assumingMemoryBound(to: Int32.self)
                for (expert, count) in received.enumerated() { counts[expert] &+= Int32(truncatingIfNeeded: count) }
            }
        } catch {
            group.markFailed()
            throw error
        }
    }

    /// Step 1: the pair indices and counts of this rank, written into every destination's region.
    private static func publishRoutes(_ call: MegaMoEFusedCall) {
        let buffer = call.buffer, layout = buffer.layout
        let (ranks, localExperts, capacity, me) = (buffer.numRanks, buffer.numLocalExperts, buffer.numRanks * buffer.numMaxTokensPerRank, buffer.rank)
        for destination in 0..<ranks {
            let region = buffer.region(of: destination)
            let counts = (region + layout.recvCount.offset).assumingMemoryBound(to: UInt64.self)
            let lists = (region + layout.sourceTokenTopkIndex.offset).assumingMemoryBound(to: UInt32.self)
            for expert in 0..<localExperts {
                let route = call.routes[destination * localExperts + expert]
                route.withUnsafeBufferPointer { pairs in
                    guard let pairs = pairs.baseAddress else { return }
                    (lists + (expert * ranks + me) * capacity).update(from: pairs, count: route.count)
                }
                counts[me * localExperts + expert] = UInt64(route.count)
            }
        }
    }

    /// Step 2; returns the pairs each local expert received.
    private static func computeExperts(_ call: MegaMoEFusedCall) throws -> [Int] {
        let buffer = call.buffer, layout = buffer.layout
        let (ranks, localExperts, tokens, topk) = (buffer.numRanks, buffer.numLocalExperts, buffer.numMaxTokensPerRank, buffer.numTopk)
        let capacity = ranks * tokens
        let own = buffer.region(of: buffer.rank)
        let counts = (own + layout.recvCount.offset).assumingMemoryBound(to: UInt64.self)
        let lists = (own + layout.sourceTokenTopkIndex.offset).assumingMemoryBound(to: UInt32.self)
        let blockRows = min(layout.ringTokens, maxBlockRows)
        let engine = try MegaMoEFusedExperts(call: call, blockRows: blockRows)
        var received = [Int](repeating: 0, count: localExperts)
        var sources: [MegaMoEFusedExperts.Source] = []
        for expert in 0..<localExperts {
            sources.removeAll(keepingCapacity: true)
            for source in 0..<ranks {
                let count = counts[source * localExperts + expert]
                guard count <= UInt64(capacity) else { throw buffer.group.memory.control.publish(.peerFailed(rank: source)) }
                let list = lists + (expert * ranks + source) * capacity
                for i in 0..<Int(count) {
                    let pair = Int(list[i])
                    guard pair < tokens * topk else { throw buffer.group.memory.control.publish(.peerFailed(rank: source)) }
                    sources.append(.init(rank: source, token: pair / topk, slot: pair % topk))
                }
            }
            received[expert] = sources.count
            guard !sources.isEmpty else { continue }
            try engine.prepareWeights(expert: expert)
            for block in blocks(rows: sources.count, blockRows: blockRows) {
                try engine.run(sources[block])
                buffer.group.heartbeat()
            }
        }
        return received
    }

    /// Step 3: y of this rank's tokens from its combine buffer.
    static func combine(_ call: MegaMoEFusedCall) {
        let buffer = call.buffer, layout = buffer.layout
        let (hidden, topk, capacity) = (buffer.hidden, buffer.numTopk, buffer.numMaxTokensPerRank)
        let own = buffer.region(of: buffer.rank)
        let rows = SendablePointer(own + layout.combine.offset)
        let indices = SendablePointer(buffer.inputs.topkIdx.dataPointer)
        let output = SendablePointer(call.y.dataPointer), (rowStride, columnStride) = (call.y.stride(0), call.y.stride(1))
        CPUParallelism.forEachChunk(call.numTokens, grain: max(1, 16384 / hidden), threads: buffer.threadsPerRank) { range in
            let combineRows = rows.raw.assumingMemoryBound(to: UInt16.self), slots = indices.raw.assumingMemoryBound(to: Int64.self)
            let y = output.raw.assumingMemoryBound(to: UInt16.self)
            var acc = [Float](repeating: 0, count: hidden)
            for token in range {
                for h in 0..<hidden { acc[h] = 0 }
                for slot in 0..<topk where slots[token * topk + slot] >= 0 {
                    let row = combineRows + (slot * capacity + token) * hidden
                    for h in 0..<hidden { acc[h] += BFloat16(bitPattern: row[h]).floatValue }
                }
                for h in 0..<hidden { y[token * rowStride + h * columnStride] = BFloat16(acc[h]).bitPattern }
            }
        }
    }
}
