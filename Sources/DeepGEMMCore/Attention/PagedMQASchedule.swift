/// `get_paged_mqa_logits_metadata` (spec §12.2): the per-SM schedule DeepGEMM's paged indexer
/// kernels read, an int32 `[num_sms + 1, 2]` tensor of `(q_token_start, kv_split_start)` rows.
///
/// The CPU backend does not need a schedule, but computes the same rows so that metadata is
/// interchangeable with DeepGEMM's, and ``PagedMQALogitsProblem`` checks that the metadata passed
/// to the logits op matches its inputs.
public enum PagedMQASchedule {
    /// The SM count the CPU backend uses when none is given: 132, the count of an H800/H100/H200
    /// SXM GPU (`deepgemm run ... --set num_sms=N` overrides it).
    public static let defaultNumSMs = 132
    /// KV tokens per unit of work.
    public static let splitKV = 256
    /// Shared memory of one SM90 or SM100 block (bytes), which bounds the metadata kernels' batch.
    public static let sharedMemoryCapacity = 232_448

    /// Checks the arguments and returns the schedule of `settings.arch`.
    ///
    /// Rules (DeepGEMM's): `contextLens` int32 [batch_size, next_n], 2-D and contiguous; `blockKV`
    /// 32 or 64 (64 under SM90); varlen `indices` int32 [batch_size], contiguous, with
    /// `next_n == 1`, SM100 only. Also required here: `numSMs >= 1` and non-negative context
    /// lengths. With `strictArch`, the batch must also fit the shared memory of DeepGEMM's
    /// metadata kernel for that architecture.
    ///
    /// The rows follow ``sm100Rows(requests:totalTokens:numSMs:)`` under SM100 and
    /// ``sm90Rows(contextLens:batchSize:nextN:indices:numSMs:)`` under SM90 (which also has a
    /// varlen form, used when the union of rules lets `indices` through).
    public static func metadata(contextLens: Tensor, blockKV: Int, numSMs: Int, indices: Tensor?,
                                settings: DeepGEMMSettings, strictArch: Bool) throws -> Tensor {
        let rules = MQARules(settings: settings, strictArch: strictArch)
        try DeepGEMMError.require(contextLens.rank == 2, "context_lens", "must be 2-D [batch_size, next_n] (1-D context lengths are not supported), got shape \(contextLens.shape)")
        let (batchSize, nextN) = (contextLens.size(0), contextLens.size(1))
        try DeepGEMMError.require(contextLens.dtype == .int32, "context_lens", "must be int32, got \(contextLens.dtype)")
        try MQAArgumentChecks.contiguous(contextLens, "context_lens")
        try DeepGEMMError.require(numSMs >= 1, "num_sms", "must be at least 1, got \(numSMs)")
        var indexValues: [Int32]?
        if let indices {
            try rules.checkVarlen(nextN: nextN)
            try rules.checkBlockKV(blockKV, argument: "block_kv")
            indexValues = try MQAArgumentChecks.int32Vector(indices, "indices", count: batchSize, countName: "batch_size")
        } else {
            try rules.checkBlockKV(blockKV, argument: "block_kv")
        }
        let lengths = try contextLens.elements(as: Int32.self)
        if let (position, length) = lengths.enumerated().first(where: { $0.element < 0 }) {
            throw DeepGEMMError.invalidArgument(argument: "context_lens", rule: "entries must be non-negative, got \(length) at flat position \(position)")
        }
        if let arch = rules.arch { try checkSharedMemory(batchSize: batchSize, varlen: indices != nil, arch: arch) }

        let rows: [Int32]
        switch settings.arch {
        case .sm100:
            let requests = PagedMQARequest.requests(contextLens: lengths, batchSize: batchSize, nextN: nextN, indices: indexValues)
            rows = sm100Rows(requests: requests, totalTokens: batchSize * nextN, numSMs: numSMs)
        case .sm90:
            rows = sm90Rows(contextLens: lengths, batchSize: batchSize, nextN: nextN, indices: indexValues, numSMs: numSMs)
        }
        return try Tensor(rows, shape: [numSMs + 1, 2])
    }

    /// The SM100 schedule, flattened: request r holds `work_r = ceil(ctx_r / 256) · tokens_r`
    /// units; with P the inclusive prefix sum of the work, W its total, `q = W / numSMs` and
    /// `rem = W % numSMs`, row s (for s = 0...numSMs) starts at unit `w = s·q + min(s, rem)`: the
    /// first request r with `P[r] > w` gives `(first token of r, (w − P[r−1]) / tokens_r)`, and
    /// when there is none the row is `(totalTokens, 0)`.
    public static func sm100Rows(requests: [PagedMQARequest], totalTokens: Int, numSMs: Int) -> [Int32] {
        var prefix = [Int]()
        prefix.reserveCapacity(requests.count)
        var running = 0
        for request in requests {
            running += ceilDiv(request.contextLength, splitKV) * request.tokenCount
            prefix.append(running)
        }
        let (q, rem) = (running / numSMs, running % numSMs)
        var rows = [Int32]()
        rows.reserveCapacity(2 * (numSMs + 1))
        for sm in 0...numSMs {
            let w = sm * q + min(sm, rem)
            let r = firstIndex(in: prefix, above: w)
            if r < requests.count {
                let before = r == 0 ? 0 : prefix[r - 1]
                rows.append(Int32(requests[r].firstToken))
                rows.append(Int32((w - before) / requests[r].tokenCount))
            } else {
                rows.append(Int32(totalTokens))
                rows.append(0)
            }
        }
        return rows
    }

    /// The SM90 schedule, flattened. Work is counted in 256-token segments of each item's last
    /// context length; the first `numSMs − total % numSMs` SMs take `total / numSMs` segments and
    /// the others one more.
    /// - Without `indices`, an item is a request of `next_n` tokens, split into `ceil(next_n / 2)`
    ///   atoms of 2 tokens (1 when `next_n == 1`) that each take all of the request's segments;
    ///   row s is `(atom index, segment within the atom)` of its first segment, and the last row
    ///   is `(batch_size · atoms, 0)`.
    /// - With `indices`, an item is one token, or two consecutive tokens with equal `indices`
    ///   (extent: the second one's length); row s is `(first token of the item, segment offset)`,
    ///   and past the last item `(batch_size, offset past the last item)`.
    public static func sm90Rows(contextLens: [Int32], batchSize: Int, nextN: Int, indices: [Int32]?, numSMs: Int) -> [Int32] {
        var rows = [Int32]()
        rows.reserveCapacity(2 * (numSMs + 1))
        if let indices {
            var starts = [Int](), prefix = [Int]()
            var token = 0, running = 0
            while token < batchSize {
                let paired = token + 1 < batchSize && indices[token] == indices[token + 1]
                starts.append(token)
                running += ceilDiv(Int(contextLens[paired ? token + 1 : token]), splitKV)
                prefix.append(running)
                token += paired ? 2 : 1
            }
            let (q, r) = (running / numSMs, running % numSMs)
            let pivot = numSMs - r
            for sm in 0...numSMs {
                let segment = sm * q + (sm > pivot ? sm - pivot : 0)
                let item = firstIndex(in: prefix, above: segment)
                rows.append(Int32(item < starts.count ? starts[item] : batchSize))
                rows.append(Int32(item == 0 ? segment : segment - prefix[item - 1]))
            }
            return rows
        }
        let atomTokens = nextN >= 2 ? 2 : 1
        let atoms = ceilDiv(nextN, atomTokens)
        var prefix = [Int]()
        prefix.reserveCapacity(batchSize)
        var running = 0
        for b in 0..<batchSize {
            running += ceilDiv(Int(contextLens[b * nextN + nextN - 1]), splitKV)
            prefix.append(running)
        }
        let total = running * atoms
        let (q, r) = (total / numSMs, total % numSMs)
        let pivot = numSMs - r
        for sm in 0..<numSMs {
            let segment = sm * q + (sm > pivot ? sm - pivot : 0)
            var low = 0, high = batchSize
            while low < high {
                let mid = (low + high) / 2
                if prefix[mid] * atoms <= segment { low = mid + 1 } else { high = mid }
            }
            let request = low
            let before = request == 0 ? 0 : prefix[request - 1] * atoms
            let segments = request < batchSize ? prefix[request] - (request == 0 ? 0 : prefix[request - 1]) : 0
            let offset = segment - before
            rows.append(Int32(request * atoms + (segments > 0 ? offset / segments : 0)))
            rows.append(Int32(segments > 0 ? offset % segments : 0))
        }
        rows.append(Int32(batchSize * atoms))
        rows.append(0)
        return rows
    }

    /// The first index whose value exceeds `value` in the non-decreasing `prefix`, or its count.
    private static func firstIndex(in prefix: [Int], above value: Int) -> Int {
        var low = 0, high = prefix.count
        while low < high {
            let mid = (low + high) / 2
            if prefix[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// DeepGEMM's metadata kernels keep per-request arrays in shared memory: SM100 two int32 per
    /// row of `context_lens`, SM90 one (three plus one with `indices`) per row rounded up to 32.
    private static func checkSharedMemory(batchSize: Int, varlen: Bool, arch: ArchPersonality) throws {
        let bytes: Int
        switch arch {
        case .sm100: bytes = 2 * batchSize * 4
        case .sm90: bytes = (varlen ? 3 * align(batchSize, 32) + 1 : align(batchSize, 32)) * 4
        }
        if bytes > sharedMemoryCapacity {
            throw DeepGEMMError.unsupported(argument: "context_lens", rule: "batch_size \(batchSize) needs \(bytes) bytes of shared memory in the \(arch.rawValue) metadata kernel, more than \(sharedMemoryCapacity)")
        }
    }
}
