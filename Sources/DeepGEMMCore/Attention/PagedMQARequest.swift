/// One request of the paged indexer (spec §12.2, §12.3): consecutive query tokens that share a
/// block-table row and a KV extent.
///
/// Without `indices`, request `b` is the `next_n` tokens `[b·next_n, (b+1)·next_n)`. With varlen
/// `indices` (`next_n == 1`), a request is a maximal run of equal consecutive `indices`. Either
/// way the request reads the block-table row of its first token (row `b` without `indices`) and
/// its KV extent is the context length of its last token.
public struct PagedMQARequest: Sendable, Hashable {
    /// The first query token (row of q, weights and logits, flattened over `next_n`).
    public var firstToken: Int
    /// The number of query tokens.
    public var tokenCount: Int
    /// The context length of the last token: the KV extent of the request.
    public var contextLength: Int
    /// The block-table row the request reads.
    public var blockTableRow: Int

    /// The tokens of the request.
    public var tokens: Range<Int> { firstToken..<(firstToken + tokenCount) }

    /// The requests of `contextLens` (one length per token, `batchSize · nextN` of them, row-major
    /// [batch_size, next_n]) with optional varlen `indices` (one per token, `nextN == 1`).
    public static func requests(contextLens: [Int32], batchSize: Int, nextN: Int, indices: [Int32]?) -> [PagedMQARequest] {
        guard let indices else {
            return (0..<batchSize).map { b in
                PagedMQARequest(firstToken: b * nextN, tokenCount: nextN,
                                contextLength: Int(contextLens[b * nextN + nextN - 1]), blockTableRow: b)
            }
        }
        var result = [PagedMQARequest]()
        var start = 0
        while start < indices.count {
            var end = start + 1
            while end < indices.count && indices[end] == indices[start] { end += 1 }
            result.append(PagedMQARequest(firstToken: start, tokenCount: end - start,
                                          contextLength: Int(contextLens[end - 1]), blockTableRow: start))
            start = end
        }
        return result
    }
}
