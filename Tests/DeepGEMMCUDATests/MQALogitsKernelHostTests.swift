import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

@Suite("SM90 MQA logits kernel arithmetic (host C++)")
struct MQALogitsKernelHostTests {
    @Test("the kernel's shared-memory layout is the plan's size and fits an SM90 CTA", arguments: [32, 64], [32, 64, 128])
    func sharedMemory(heads: Int, dim: Int) throws {
        let family = SM90FP8MQALogitsFamily()
        let config = try family.config(for: MQALogitsKernelProblem(seqLen: 1, seqLenKV: 1, numHeads: heads, headDim: dim, numSMs: 132))
        let kernel = dg_host_sm90_mqa_logits_smem_bytes(UInt32(heads), UInt32(dim), UInt32(128 / heads), 256, 3, 3)
        #expect(Int(kernel) == config.sharedMemoryBytes)
        #expect(config.sharedMemoryBytes <= 232_448)
    }

    @Test("every query block loads whole KV blocks covering each of its queries' clamped windows, and writes stay in the row")
    func keySpans() {
        var rng = SplitMix(state: 0x51ab)
        for trial in 0..<200 {
            let heads = Bool.random(using: &rng) ? 32 : 64
            let blockQ = 128 / heads
            let seqLen = Int.random(in: 1...40, using: &rng)
            let seqLenKV = Int.random(in: 1...1200, using: &rng)
            var ks: [UInt32] = [], ke: [UInt32] = []
            for _ in 0..<seqLen {
                let start = Int.random(in: 0...(seqLenKV + 40), using: &rng)
                ks.append(UInt32(start))
                ke.append(UInt32(start + Int.random(in: 0...700, using: &rng)))
            }
            let rowStride = MQALogitsLayout.rowStride(seqLenKV: seqLenKV, dtype: .float32)
            for block in 0..<((seqLen + blockQ - 1) / blockQ) {
                var start: UInt32 = 0, blocks: UInt32 = 0
                dg_host_mqa_key_span(ks, ke, UInt32(block), UInt32(blockQ), UInt32(seqLen), UInt32(seqLenKV), 256, &start, &blocks)
                let span = Int(start)..<(Int(start) + 256 * Int(blocks))
                #expect(start % 4 == 0, "trial \(trial) block \(block)")
                #expect(span.upperBound <= rowStride, "trial \(trial) block \(block): span \(span) past the row stride \(rowStride)")
                var unionEnd = 0
                for query in (block * blockQ)..<min((block + 1) * blockQ, seqLen) {
                    let window = min(Int(ks[query]), seqLenKV)..<min(Int(ke[query]), seqLenKV)
                    unionEnd = max(unionEnd, window.upperBound)
                    #expect(window.isEmpty || (span.lowerBound <= window.lowerBound && window.upperBound <= span.upperBound),
                            "trial \(trial) query \(query): window \(window) outside span \(span)")
                }
                #expect(blocks == 0 || span.upperBound - 256 < unionEnd, "trial \(trial) block \(block): a KV block past every window")
            }
        }
    }
}

@Suite("SM90 paged MQA kernel arithmetic (host C++)")
struct PagedMQAKernelHostTests {
    /// Random context lengths [B, next_n] (non-decreasing within a request, some zero).
    static func contextLens(batch: Int, nextN: Int, using rng: inout SplitMix) -> [Int32] {
        var lens: [Int32] = []
        for _ in 0..<batch {
            let last = Int.random(in: 0...4, using: &rng) == 0 ? 0 : Int.random(in: 1...3000, using: &rng)
            for n in 0..<nextN { lens.append(Int32(max(0, last - (nextN - 1 - n)))) }
        }
        return lens
    }

    @Test("the kernel's shared-memory layout is the plan's size and fits an SM90 CTA", arguments: [1, 2], [32, 64])
    func sharedMemory(nextN: Int, heads: Int) throws {
        for dim in [32, 64, 128] {
            let problem = PagedMQAKernelProblem(batchSize: 1, nextN: nextN, numHeads: heads, headDim: dim, numBlocks: 1, maxContextLen: 64, numSMs: 8)
            let config = try SM90FP8PagedMQALogitsFamily().config(for: problem)
            #expect(Int(dg_host_sm90_paged_mqa_logits_smem_bytes(UInt32(nextN), UInt32(heads), UInt32(dim), 64, 3, 3)) == config.sharedMemoryBytes)
            #expect(config.sharedMemoryBytes <= 232_448)
        }
    }

    @Test("the metadata kernel's rows are the CPU schedule's, bit for bit")
    func scheduleMatchesCPU() {
        var rng = SplitMix(state: 0x90)
        for trial in 0..<300 {
            let batch = Int.random(in: 0...70, using: &rng)
            let nextN = Int.random(in: 1...4, using: &rng)
            let numSMs = [1, 3, 8, 33, 132].randomElement(using: &rng)!
            let lens = Self.contextLens(batch: batch, nextN: nextN, using: &rng)
            let cpu = PagedMQASchedule.sm90Rows(contextLens: lens, batchSize: batch, nextN: nextN, indices: nil, numSMs: numSMs)
            var kernel = [UInt32](repeating: 0, count: 2 * (numSMs + 1))
            lens.map { UInt32(bitPattern: $0) }.withUnsafeBufferPointer { lensBuffer in
                dg_host_sm90_paged_schedule(lensBuffer.baseAddress, UInt32(batch), UInt32(nextN), UInt32(numSMs), &kernel)
            }
            #expect(kernel.map { Int32(bitPattern: $0) } == cpu, "trial \(trial): B \(batch) next_n \(nextN) SMs \(numSMs)")
        }
    }

    @Test("the SMs' walks over the schedule take every split of every request exactly once")
    func walksCoverEverySplit() {
        var rng = SplitMix(state: 0x91)
        for trial in 0..<300 {
            let batch = Int.random(in: 1...50, using: &rng)
            let nextN = Int.random(in: 1...2, using: &rng)
            let numSMs = [1, 4, 7, 32, 132].randomElement(using: &rng)!
            let lens = Self.contextLens(batch: batch, nextN: nextN, using: &rng)
            let rows = PagedMQASchedule.sm90Rows(contextLens: lens, batchSize: batch, nextN: nextN, indices: nil, numSMs: numSMs).map { UInt32(bitPattern: $0) }
            let lensU = lens.map { UInt32(bitPattern: $0) }
            var tasks = [dg_host_paged_task](repeating: dg_host_paged_task(), count: 20_000)
            let count = dg_host_paged_task_walk(rows, UInt32(numSMs), lensU, UInt32(nextN), &tasks, tasks.count)
            #expect(count <= tasks.count, "trial \(trial)")
            var seen: [Int: [Int]] = [:]
            for task in tasks.prefix(count) { seen[Int(task.request), default: []].append(Int(task.page)) }
            for request in 0..<batch {
                let splits = (Int(lens[request * nextN + nextN - 1]) + 255) / 256
                let pages = (seen[request] ?? []).sorted()
                // A request without keys takes at most one (masked) task when a walk passes it
                let expected = splits == 0 ? (pages.isEmpty ? [] : [0]) : (0..<splits).map { $0 * 4 }
                #expect(pages == expected, "trial \(trial) request \(request): pages \(pages), splits \(splits)")
            }
        }
    }
}
