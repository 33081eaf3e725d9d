import DeepGEMMCore

/// Contiguous shares of work for the lightning-indexer drivers. Each output element is computed by
/// one thread with a fixed arithmetic order, so the split changes speed, never results.
enum MQAWorkPartition {
    /// Splits `0..<costs.count` into at most `parts` contiguous, non-empty ranges whose summed
    /// costs are about equal.
    static func ranges(costs: [Int], parts: Int) -> [Range<Int>] {
        let total = costs.reduce(0, +)
        guard parts > 1, costs.count > 1, total > 0 else { return costs.isEmpty ? [] : [0..<costs.count] }
        var result = [Range<Int>]()
        var start = 0, running = 0
        for (index, cost) in costs.enumerated() {
            running += cost
            let target = total * (result.count + 1) / parts
            if running >= target && result.count < parts - 1 && index + 1 < costs.count {
                result.append(start..<(index + 1))
                start = index + 1
            }
        }
        result.append(start..<costs.count)
        return result
    }

    /// Shares per worker that ``forEachShare(costs:threads:_:)`` makes.
    static let sharesPerThread = 8

    /// Runs `worker` once on each of `threads` threads (one thread: on the caller's). Each worker
    /// calls the `next` it is given for contiguous ranges of `0..<costs.count` until it returns
    /// nil; the ranges are ``ranges(costs:parts:)`` of about `threads · sharesPerThread` parts,
    /// handed out in order to whichever worker asks first. A worker that the machine's other load
    /// slows down takes fewer shares, so the call no longer waits for a fixed half of the work on
    /// the slowest thread. Which worker computes an item never changes its result.
    static func forEachShare(costs: [Int], threads: Int, _ worker: @Sendable (_ next: () -> Range<Int>?) -> Void) {
        let shares = ranges(costs: costs, parts: max(1, threads) * sharesPerThread)
        guard !shares.isEmpty else { return }
        let taken = Locked(0)
        CPUParallelism.forEachChunk(min(max(1, threads), shares.count), threads: threads) { _ in
            worker {
                let index = taken.withLock { count -> Int in
                    defer { count += 1 }
                    return count
                }
                return index < shares.count ? shares[index] : nil
            }
        }
    }
}

/// Writes of -inf into logits rows.
enum MQANegativeInfinity {
    /// Sets elements `range` of the row at `row` to -inf (Float, or BF16 0xFF80).
    static func fill(_ row: UnsafeMutableRawPointer, _ range: Range<Int>, bf16: Bool) {
        guard !range.isEmpty else { return }
        if bf16 {
            (row.assumingMemoryBound(to: UInt16.self) + range.lowerBound).update(repeating: 0xFF80, count: range.count)
        } else {
            (row.assumingMemoryBound(to: Float.self) + range.lowerBound).update(repeating: -.infinity, count: range.count)
        }
    }
}
