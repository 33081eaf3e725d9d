import Testing
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

    @Test func degenerateInputsGiveOneOrNoShare() {
        #expect(MQAWorkPartition.ranges(costs: [], parts: 4).isEmpty)
        #expect(MQAWorkPartition.ranges(costs: [7], parts: 4) == [0..<1])
        #expect(MQAWorkPartition.ranges(costs: [0, 0, 0], parts: 2) == [0..<3])
    }
}
