#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DeepGEMM
import DeepGEMMTestSupport

/// How a rank's work is spread over threads: every rank takes all of the backend's threads by
/// default, any thread count gives the unfused pipeline's bits, and a rank that dies while its peer
/// computes on several threads is still named by that peer in time.
struct MegaMoEThreadingTests {
    static let (experts, hidden, intermediate, topk, maxTokens) = (MegaMoEAPITests.experts, MegaMoEAPITests.hidden,
                                                                   MegaMoEAPITests.intermediate, MegaMoEAPITests.topk, MegaMoEAPITests.maxTokens)

    /// A thread-rank buffer of the test shape for `ranks` ranks and `threadsPerRank` threads.
    static func buffer(ranks: Int, threadsPerRank: Int?) throws -> MegaMoESymmetricBuffer {
        try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                    intermediateHidden: intermediate, numRanks: ranks, threadsPerRank: threadsPerRank)
    }

    @Test func ranksTakeEveryBackendThreadByDefault() throws {
        for ranks in [1, 2, 8] {
            #expect(try Self.buffer(ranks: ranks, threadsPerRank: nil).ranks.allSatisfy { $0.threadsPerRank == CPUParallelism.threadCount })
        }
        #expect(try Self.buffer(ranks: 2, threadsPerRank: 3).ranks.allSatisfy { $0.threadsPerRank == 3 })
        #expect(MegaMoEWeightTransformTests.argument { _ = try Self.buffer(ranks: 2, threadsPerRank: 0) } == "threads_per_rank")
        #expect(MegaMoEWeightTransformTests.argument {
            _ = try getSymmBufferForMegaMoE(rankEnvironment: RankEnvironment(rank: 0, rankCount: 2, jobID: RankRuntimeTests.uniqueJobID("threads0")),
                                            numExperts: Self.experts, numMaxTokensPerRank: Self.maxTokens, numTopk: Self.topk,
                                            hidden: Self.hidden, intermediateHidden: Self.intermediate, threadsPerRank: -1)
        } == "threads_per_rank")
    }

    @Test("1, 2 and 3 threads per rank give the unfused pipeline's bits", arguments: [1, 2, 4])
    func threadCountsGiveIdenticalBits(ranks: Int) throws {
        let localExperts = Self.experts / ranks
        let expectedStats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        let fp8 = try MegaMoEAPITests.FP8Case(ranks: ranks)
        let expected = try fp8FP4MegaMoEUnfused(inputs: fp8.inputs, weights: fp8.weights, numExperts: Self.experts,
                                                cumulativeLocalExpertRecvStats: expectedStats, activationClamp: 4)
        let bf16 = try MegaMoEAPITests.BF16Case(ranks: ranks)
        let expectedBF16 = try bf16MegaMoEUnfused(inputs: bf16.inputs, l1Weights: bf16.l1, l2Weights: bf16.l2, numExperts: Self.experts)
        for threads in [1, 2, 3] {
            let c = try MegaMoEAPITests.FP8Case(ranks: ranks, threadsPerRank: threads)
            let y = c.outputs, stats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
            try c.run(y: y, stats: stats)
            let b = try MegaMoEAPITests.BF16Case(ranks: ranks, threadsPerRank: threads)
            let bf16Y = (0..<ranks).map { Tensor(zeros: [MegaMoEAPITests.tokens[$0], Self.hidden], dtype: .bfloat16) }
            try bf16MegaMoE(y: bf16Y, l1Weights: b.transformed, l2Weights: b.l2, buffer: b.buffer)
            for rank in 0..<ranks {
                #expect(bitwiseMismatch(y[rank], expected[rank]) == nil, "fp8, \(threads) threads, rank \(rank)")
                #expect(bitwiseMismatch(stats[rank], expectedStats[rank]) == nil, "stats, \(threads) threads, rank \(rank)")
                #expect(bitwiseMismatch(bf16Y[rank], expectedBF16[rank]) == nil, "bf16, \(threads) threads, rank \(rank)")
            }
        }
    }

    @Test func aRankKilledDuringCallsIsNamedByItsPeerComputingOnThreeThreads() async {
        let jobID = RankRuntimeTests.uniqueJobID("killed-threads")
        async let survivor = #expect(processExitsWith: .exitCode(42)) { [jobID = jobID as String] in
            _exit(try MegaMoEThreadingTests.callUntilPeerDies(jobID: jobID))
        }
        async let victim = #expect(processExitsWith: .signal(SIGKILL)) { [jobID = jobID as String] in
            try MegaMoEThreadingTests.callThenDie(jobID: jobID)
        }
        _ = await (survivor, victim)
    }

    /// Rank 0 of ``aRankKilledDuringCallsIsNamedByItsPeerComputingOnThreeThreads()``: calls the
    /// fused op on 3 threads until a call fails; 42 when it fails naming the dead rank 1 within
    /// 10 s of the call's start, 43 when later, 2 when no call failed within a minute.
    static func callUntilPeerDies(jobID: String) throws -> Int32 {
        let c = try MegaMoEAPITests.FP8Case(ranks: 2)
        let buffer = try MegaMoEFusedTests.join(jobID: jobID, rank: 0, threadsPerRank: 3)
        try MegaMoEAPITests.copyInputs(c.buffer.inputs[0], into: buffer.inputs)
        let start = RankClock.now()
        while RankRuntimeTests.elapsedSeconds(since: start) < 60 {
            let callStart = RankClock.now()
            do {
                try fp8FP4MegaMoE(y: c.outputs[0], l1Weights: c.transformed[0].l1, l2Weights: c.transformed[0].l2, buffer: buffer)
            } catch RankFailure.peerDied(rank: 1) {
                return RankRuntimeTests.elapsedSeconds(since: callStart) < 10 ? 42 : 43
            }
        }
        return 2
    }

    /// Rank 1: one whole call, then calls on a second thread until this thread kills the process
    /// 50 ms later, in the middle of the calls.
    static func callThenDie(jobID: String) throws {
        let c = try MegaMoEAPITests.FP8Case(ranks: 2)
        let buffer = try MegaMoEFusedTests.join(jobID: jobID, rank: 1, threadsPerRank: 2)
        try MegaMoEAPITests.copyInputs(c.buffer.inputs[1], into: buffer.inputs)
        let call = { try fp8FP4MegaMoE(y: c.outputs[1], l1Weights: c.transformed[1].l1, l2Weights: c.transformed[1].l2, buffer: buffer) }
        try call()
        let shared = UncheckedSendable(call)
        _ = try RankThread.start { while (try? shared.value()) != nil {} }
        usleep(50_000)
        kill(getpid(), SIGKILL)
    }
}

/// A value handed to another thread that only that thread uses from then on.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
