import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// The unfused FP8×FP4 Mega MoE over simulated ranks: agreement with the FP64 reference, the
/// combine and stats contracts, and the argument rules.
struct MegaMoEUnfusedTests {
    /// Small inputs: R = 2, E = 4 (E_l = 2), H = I = 128, k = 3, T = [6, 4], some slots masked.
    struct Case {
        static let (ranks, experts, hidden, intermediate, topk) = (2, 4, 128, 128, 3)
        static let tokens = [6, 4]
        var inputs: [MegaMoERankInput] = []
        var weights: [MegaMoERankWeights] = []
        var topkIdx: [[[Int]]] = []
        var topkWeights: [[[Double]]] = []
        var l1Decoded: [[MegaMoEUnfusedReference.Matrix]] = []
        var l2Decoded: [[MegaMoEUnfusedReference.Matrix]] = []

        init() throws {
            let localExperts = Self.experts / Self.ranks
            for rank in 0..<Self.ranks {
                let t = Self.tokens[rank]
                let x = try perTokenCastToFP8(Tensor.randn([t, Self.hidden], dtype: .bfloat16, seed: UInt64(10 + rank)),
                                              useUE8M0: true, granK: 32, usePackedUE8M0: true)
                let idx: [[Int]] = (0..<t).map { token in Self.experts(rank: rank, token: token) }
                let w: [[Double]] = (0..<t).map { token in Self.routingWeights(token: token) }
                topkIdx.append(idx)
                topkWeights.append(w)
                inputs.append(MegaMoERankInput(x: x, topkIdx: try Tensor(idx.flatMap { $0.map(Int64.init) }, shape: [t, Self.topk]),
                                               topkWeights: try Tensor(w.flatMap { $0.map(Float.init) }, shape: [t, Self.topk])))
                let (l1, d1) = try Self.fp4Weights(experts: localExperts, n: 2 * Self.intermediate, k: Self.hidden, seed: UInt64(100 + rank))
                let (l2, d2) = try Self.fp4Weights(experts: localExperts, n: Self.hidden, k: Self.intermediate, seed: UInt64(200 + rank))
                weights.append(MegaMoERankWeights(l1: l1, l2: l2))
                l1Decoded.append(d1)
                l2Decoded.append(d2)
            }
        }

        /// The top-k experts of one token: rank 1's token 0 is fully masked; elsewhere slots with
        /// (token + slot) % 4 == 3 are masked and the rest spread over all experts and both ranks.
        static func experts(rank: Int, token: Int) -> [Int] {
            if rank == 1 && token == 0 { return [-1, -1, -1] }
            return (0..<topk).map { slot -> Int in
                if (token + slot) % 4 == 3 { return -1 }
                return (token * 3 + slot * 5 + rank) % experts
            }
        }

        /// The top-k weights of one token, in [0.25, 0.75].
        static func routingWeights(token: Int) -> [Double] {
            (0..<topk).map { slot -> Double in
                let step = Double((token + 2 * slot) % 5)
                return 0.25 + 0.125 * step
            }
        }

        /// FP4 weights [E_l, n, k] quantized from normal values of standard deviation `scale`, with
        /// per-32 UE8M0 scales in the SM100 required layout, and their decoded values.
        static func fp4Weights(experts: Int, n: Int, k: Int, seed: UInt64, scale: Double = 1) throws -> (QuantizedTensor, [MegaMoEUnfusedReference.Matrix]) {
            let data = Tensor(zeros: [experts, n, k / 2], dtype: .int8)
            let sf = Tensor(zeros: [experts, n, k / 32], dtype: .float32)
            var decoded = [MegaMoEUnfusedReference.Matrix]()
            for e in 0..<experts {
                let q = try perTokenCastToFP4(Tensor.randn([n, k], dtype: .bfloat16, seed: seed + UInt64(e), scale: scale), useUE8M0: true, granK: 32)
                try data.select(dim: 0, index: e).copy(from: q.data.viewing(as: .int8))
                try sf.select(dim: 0, index: e).copy(from: q.sf)
                decoded.append(try MegaMoEUnfusedReference.decodeFP4(data: q.data, sf: q.sf.floatValues(), k: k))
            }
            let packed = try transformSFIntoRequiredLayout(sf, mn: n, k: k, recipe: .operand(granMN: 1, granK: 32), numGroups: experts)
            return (QuantizedTensor(data: data, sf: packed), decoded)
        }

        func reference(clamp: Double?) throws -> [MegaMoEUnfusedReference.Matrix] {
            MegaMoEUnfusedReference.run(x: try inputs.map { try MegaMoEUnfusedReference.decodeFP8($0.x) }, topkIdx: topkIdx,
                                        topkWeights: topkWeights, l1: l1Decoded, l2: l2Decoded,
                                        numLocalExperts: Self.experts / Self.ranks, clamp: clamp)
        }
    }

    @Test(arguments: [nil, 6.0] as [Double?])
    func matchesTheFP64Reference(clamp: Double?) throws {
        let c = try Case()
        let y = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: Case.experts,
                                         activationClamp: clamp, fastMath: false)
        let expected = try c.reference(clamp: clamp)
        for rank in 0..<Case.ranks {
            #expect(y[rank].shape == [Case.tokens[rank], Case.hidden] && y[rank].dtype == .bfloat16)
            let reference = try Tensor(converting: expected[rank].flatMap { $0 }, shape: [Case.tokens[rank], Case.hidden], dtype: .float64)
            let diff = try calcDiff(y[rank], reference)
            #expect(diff < 1e-4, "rank \(rank): calc_diff \(diff)")
        }
        // A token whose slots are all masked gives +0 everywhere.
        #expect(try y[1].select(dim: 0, index: 0).elements(as: UInt16.self).allSatisfy { $0 == 0 })
    }

    @Test func resultDoesNotDependOnPoolPlacement() throws {
        // Spec §1.7: a row's value cannot depend on its pool position, so y is bitwise the same for
        // any group alignment.
        let c = try Case()
        let base = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: Case.experts, activationClamp: 3)
        for alignment in [8, 64] {
            let y = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: Case.experts, activationClamp: 3,
                                             settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: alignment))
            for rank in 0..<Case.ranks { #expect(bitwiseMismatch(y[rank], base[rank]) == nil, "alignment \(alignment), rank \(rank)") }
        }
    }

    @Test func fastMathStaysCloseAndStatsAccumulate() throws {
        let c = try Case()
        let stats = [try Tensor([Int32(5), 7], shape: [2]), try Tensor([Int32(0), Int32.max], shape: [2])]
        let y = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: Case.experts,
                                         cumulativeLocalExpertRecvStats: stats, fastMath: true)
        let expected = try c.reference(clamp: nil)
        let reference = try Tensor(converting: expected[0].flatMap { $0 }, shape: [Case.tokens[0], Case.hidden], dtype: .float64)
        #expect(try calcDiff(y[0], reference) < 1e-4)
        // Received (token, slot) pairs per global expert, counted independently; int32 wraps.
        var received = [Int](repeating: 0, count: Case.experts)
        for e in c.topkIdx.flatMap({ $0.flatMap { $0 } }) where e >= 0 { received[e] += 1 }
        #expect(try stats[0].elements(as: Int32.self) == [Int32(5 + received[0]), Int32(7 + received[1])])
        #expect(try stats[1].elements(as: Int32.self) == [Int32(received[2]), Int32.max &+ Int32(received[3])])
    }

    @Test func bf16MatchesTheFP64Reference() throws {
        let c = try Case()
        let (hidden, intermediate, localExperts) = (128, 64, Case.experts / Case.ranks)
        let inputs = c.inputs.enumerated().map { rank, input in
            MegaMoEBF16RankInput(x: Tensor.randn([Case.tokens[rank], hidden], dtype: .bfloat16, seed: UInt64(30 + rank)),
                                 topkIdx: input.topkIdx, topkWeights: input.topkWeights)
        }
        let l1 = (0..<Case.ranks).map { Tensor.randn([localExperts, 2 * intermediate, hidden], dtype: .bfloat16, seed: UInt64(40 + $0), scale: 0.1) }
        let l2 = (0..<Case.ranks).map { Tensor.randn([localExperts, hidden, intermediate], dtype: .bfloat16, seed: UInt64(50 + $0), scale: 0.1) }
        let stats = (0..<Case.ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        let y = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1, l2Weights: l2, numExperts: Case.experts,
                                       cumulativeLocalExpertRecvStats: stats, activationClamp: 1, fastMath: false)
        let matrices = { (t: Tensor) -> [MegaMoEUnfusedReference.Matrix] in
            let v = t.doubleValues(), (e, n, k) = (t.size(0), t.size(1), t.size(2))
            return (0..<e).map { g in (0..<n).map { r in Array(v[(g * n + r) * k..<(g * n + r + 1) * k]) } }
        }
        let expected = MegaMoEUnfusedReference.run(
            x: inputs.map { x in (0..<x.x.size(0)).map { r in Array(x.x.doubleValues()[r * hidden..<(r + 1) * hidden]) } },
            topkIdx: c.topkIdx, topkWeights: c.topkWeights, l1: l1.map(matrices), l2: l2.map(matrices),
            numLocalExperts: localExperts, clamp: 1, bf16Activations: true)
        for rank in 0..<Case.ranks {
            let reference = try Tensor(converting: expected[rank].flatMap { $0 }, shape: [Case.tokens[rank], hidden], dtype: .float64)
            let diff = try calcDiff(y[rank], reference)
            #expect(diff < 1e-4, "rank \(rank): calc_diff \(diff)")
        }
        #expect(try y[1].select(dim: 0, index: 0).elements(as: UInt16.self).allSatisfy { $0 == 0 })
        var received = [Int32](repeating: 0, count: Case.experts)
        for e in c.topkIdx.flatMap({ $0.flatMap { $0 } }) where e >= 0 { received[e] += 1 }
        #expect(try stats.flatMap { try $0.elements(as: Int32.self) } == received)
        // BF16 rules: H and I multiples of 64, BF16 dtypes.
        #expect(MegaMoEWeightTransformTests.argument {
            let badL2 = l2.map { _ in Tensor(zeros: [localExperts, hidden, 96], dtype: .bfloat16) }
            _ = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1, l2Weights: badL2, numExperts: Case.experts)
        } == "l2_weights")
        #expect(MegaMoEWeightTransformTests.argument {
            _ = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1.map { $0.converted(to: .float32) }, l2Weights: l2, numExperts: Case.experts)
        } == "l1_weights")
    }

    @Test func dispatchPlanUsesPSUMLayoutWithAlignedGroups() throws {
        // Rank 0 sends experts [1, 2] and [-1, 1]; rank 1 sends [0, 1]. E_l = 2, α = 4.
        let plan = try MegaMoEDispatchPlan(topkIdx: [[[1, 2], [-1, 1]], [[0, 1]]], numLocalExperts: 2, alignment: 4)
        // Rank 0 owns experts 0 (1 row: rank 1 token 0) and 1 (rows 4-6: r0t0s0, r0t1s1, r1t0s1);
        // rank 1 owns expert 2 (row 0: r0t0s1) and the empty expert 3, which starts and ends at align(1, 4).
        #expect(plan.psumEnds[0] == [1, 7])
        #expect(plan.rows[0].count == 8 && plan.rows[0][1] == nil && plan.rows[0][3] == nil)
        #expect(plan.rows[0][4] == MegaMoEDispatchPlan.Source(rank: 0, token: 0, slot: 0))
        #expect(plan.rows[0][6] == MegaMoEDispatchPlan.Source(rank: 1, token: 0, slot: 1))
        #expect(plan.psumEnds[1] == [1, 4] && plan.rows[1].count == 4)
        #expect(plan.receivedPerExpert == [[1, 3], [1, 0]])
        #expect(plan.destinations[0][1][0] == nil && plan.destinations[0][1][1]?.row == 5 && plan.destinations[0][0][1]?.rank == 1)
        #expect(MegaMoEWeightTransformTests.argument { _ = try MegaMoEDispatchPlan(topkIdx: [[[4]]], numLocalExperts: 2, alignment: 4) } == "topk_idx")
        #expect(MegaMoEWeightTransformTests.argument { _ = try MegaMoEDispatchPlan(topkIdx: [[[0]]], numLocalExperts: 2, alignment: 0) } == "mk_alignment")
        #expect(MegaMoEWeightTransformTests.argument { _ = try MegaMoEDispatchPlan(topkIdx: [[[0]]], numLocalExperts: 0, alignment: 4) } == "num_experts")
    }

    @Test func combineSumsSlotsInAscendingOrderInBinary32() throws {
        let out = try Tensor(converting: [256, 1, 1, -256], shape: [4, 1], dtype: .bfloat16)
        let y = try megaMoECombine(destinations: [[(0, 0), (0, 1), (0, 2), (0, 3)], [nil, nil, nil, nil]], outputs: [out], hidden: 1)
        // Binary32: 256 + 1 = 257, + 1 = 258, - 256 = 2 (a BF16 accumulator would give 256 + 1 = 256, then 256, then 0).
        #expect(y.doubleValues() == [2, 0])
    }

    @Test func badArgumentsAreNamed() throws {
        let c = try Case()
        var cases: [(String, [MegaMoERankInput], [MegaMoERankWeights], Int, [Tensor]?, Double?)] = [
            ("num_experts", c.inputs, c.weights, 3, nil, nil),
            ("l1_weights", c.inputs, Array(c.weights.prefix(1)), 4, nil, nil),
            ("cumulative_local_expert_recv_stats", c.inputs, c.weights, 4, [Tensor(zeros: [2], dtype: .int32)], nil),
            ("cumulative_local_expert_recv_stats", c.inputs, c.weights, 4, [Tensor(zeros: [2], dtype: .int64), Tensor(zeros: [2], dtype: .int32)], nil),
            ("activation_clamp", c.inputs, c.weights, 4, nil, -1),
        ]
        var badIdx = c.inputs
        badIdx[0].topkIdx = try Tensor([Int64](repeating: 4, count: 18), shape: [6, 3])
        cases.append(("topk_idx", badIdx, c.weights, 4, nil, nil))
        var badWeights = c.inputs
        badWeights[1].topkWeights = Tensor(zeros: [4, 2], dtype: .float32)
        cases.append(("topk_weights", badWeights, c.weights, 4, nil, nil))
        var badX = c.inputs
        badX[0].x.data = Tensor(zeros: [6, 128], dtype: .bfloat16)
        cases.append(("x", badX, c.weights, 4, nil, nil))
        var badSF = c.inputs
        badSF[0].x.sf = Tensor(zeros: [6, 4], dtype: .int32)
        cases.append(("x_sf", badSF, c.weights, 4, nil, nil))
        var badL2 = c.weights
        badL2[1].l2.sf = Tensor(zeros: [2, 128, 2], dtype: .int32)
        cases.append(("l2_weights", c.inputs, badL2, 4, nil, nil))
        for (name, inputs, weights, experts, stats, clamp) in cases {
            let untouched = stats?.map { $0.clone() }
            #expect(MegaMoEWeightTransformTests.argument {
                _ = try fp8FP4MegaMoEUnfused(inputs: inputs, weights: weights, numExperts: experts,
                                             cumulativeLocalExpertRecvStats: stats, activationClamp: clamp)
            } == name)
            if let stats, let untouched { #expect(zip(stats, untouched).allSatisfy { $0.bitwiseEqual($1) }) }
        }
    }
}
