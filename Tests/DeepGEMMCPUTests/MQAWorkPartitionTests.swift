import Testing
import DeepGEMMCore
@testable import DeepGEMMCPU

/// The indexer's split of query rows over threads: the thread-count stability tests compare 1
/// thread with 2 or more, which only means something if 2 threads really get 2 shares.
@Suite struct MQAWorkPartitionTests {
    @Test(arguments: [1, 2, 3, 5])
    func sharesAreContiguousNonEmptyAndOnePerThread(parts: Int) {
        // Causal windows of 40 queries over 200 keys (the shape of the stability tests).
        let costs = (0..<40).map { (160 + $0 + 1) * 64 * 128 + 200 }
        let shares = MQAWorkPartition.ranges(costs: costs, parts: parts)
        #expect(shares.count == parts)
        #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == costs.count)
        #expect(shares.allSatisfy { !$0.isEmpty })
        #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    }

    /// The workers of forEachShare together take every item once, in contiguous shares, and at
    /// most `threads` workers run.
    @Test(arguments: [1, 2, 3])
    func workersTakeEveryItemOnce(threads: Int) {
        let costs = (0..<300).map { 1 + $0 % 7 }
        let taken = Locked<[Range<Int>]>([]), workers = Locked(0)
        MQAWorkPartition.forEachShare(costs: costs, threads: threads) { next in
            workers.withLock { $0 += 1 }
            while let share = next() { taken.withLock { $0.append(share) } }
        }
        let shares = taken.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(workers.withLock { $0 } == threads)
        #expect(shares.count == threads * MQAWorkPartition.sharesPerThread)
        #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == costs.count)
        #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
    }

    @Test func degenerateInputsGiveOneOrNoShare() {
        #expect(MQAWorkPartition.ranges(costs: [], parts: 4).isEmpty)
        #expect(MQAWorkPartition.ranges(costs: [7], parts: 4) == [0..<1])
        #expect(MQAWorkPartition.ranges(costs: [0, 0, 0], parts: 2) == [0..<3])
    }
}
