import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// One fused Mega MoE call on thread ranks, small enough to run under ThreadSanitizer
/// (scripts/sanitizers.sh tsan): the ranks write each other's rings and combine buffers
/// concurrently, and a second call on the same buffer must give the same bits and stats.
@Suite struct MegaMoEThreadRankTests {
    @Test(arguments: [2, 4])
    func repeatedFusedCallsAgreeBitwise(ranks: Int) throws {
        let c = try MegaMoEAPITests.FP8Case(ranks: ranks)
        let localExperts = MegaMoEAPITests.experts / ranks
        let (first, second) = (c.outputs, c.outputs)
        let stats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        try c.run(y: first, stats: stats)
        let once = try stats.map { try $0.elements(as: Int32.self) }
        try c.run(y: second, stats: stats)
        for rank in 0..<ranks {
            #expect(bitwiseMismatch(first[rank], second[rank]) == nil, "rank \(rank)")
            #expect(try stats[rank].elements(as: Int32.self) == once[rank].map { 2 * $0 }, "rank \(rank) stats")
        }
        #expect(once.joined().contains { $0 > 0 })
    }
}
