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
