import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMTestSupport

/// `deepgemm run fp8_fp4_mega_moe` / `bf16_mega_moe`: stacked per-rank tensors in a file give the
/// unfused pipeline's `y` and stats bit for bit, and bad input names its argument and writes nothing.
@Suite struct MegaMoERunTests {
    /// R = 2 ranks, E = 4 experts, k = 2, T = 3 tokens per rank.
    static let (ranks, experts, topk, tokens) = (2, 4, 2, 3)

    /// The top-k experts of one token: rank 1's token 0 is fully masked, slot 1 of token 1 is
    /// masked on every rank, the rest spread over all experts (hence over both ranks).
    static func routedExpert(rank: Int, token: Int, slot: Int, experts: Int) -> Int64 {
        if (rank == 1 && token == 0) || (token == 1 && slot == 1) { return -1 }
        return Int64((token * 3 + slot * 5 + rank) % experts)
    }

    /// `topk_idx` [R, T, k] and `topk_weights` [R, T, k].
    static func routing(ranks: Int, experts: Int) throws -> (idx: Tensor, weights: Tensor) {
        var idx = [Int64](), weights = [Float]()
        for rank in 0..<ranks {
            for token in 0..<tokens {
                for slot in 0..<topk {
                    idx.append(routedExpert(rank: rank, token: token, slot: slot, experts: experts))
                    weights.append(0.25 + 0.125 * Float((token + 2 * slot + rank) % 5))
                }
            }
        }
        return (try Tensor(idx, shape: [ranks, tokens, topk]), try Tensor(weights, shape: [ranks, tokens, topk]))
    }

    /// The tensors `parts` stacked on a new leading dimension.
    static func stacked(_ parts: [Tensor]) throws -> Tensor {
        let first = try #require(parts.first)
        let result = Tensor(zeros: [parts.count] + first.shape, dtype: first.dtype)
        for (index, part) in parts.enumerated() { try result.select(dim: 0, index: index).copy(from: part) }
        return result
    }

    /// FP4 weights of `experts` experts [E, n, k]: packed int8 [E, n, k/2] and F32 power-of-two
    /// scales [E, n, k/32], as `per_token_cast_to_fp4(use_ue8m0=True, gran_k=32)` gives per expert.
    static func fp4Weights(experts: Int, n: Int, k: Int, seed: UInt64) throws -> QuantizedTensor {
        let quantized = try (0..<experts).map {
            try perTokenCastToFP4(Tensor.randn([n, k], dtype: .bfloat16, seed: seed + UInt64($0)), useUE8M0: true, granK: 32)
        }
        return QuantizedTensor(data: try stacked(quantized.map { try $0.data.viewing(as: .int8) }), sf: try stacked(quantized.map(\.sf)))
    }

    /// A complete FP8×FP4 input: `x`/`x_sf` [R, T, H] per-32 packed UE8M0, routing, and the weights
    /// of all experts with F32 scales (H = I = 512, the smallest FP8 buffer sizes).
    struct FP8Inputs {
        static let (hidden, intermediate) = (512, 512)
        let x: QuantizedTensor, idx: Tensor, weights: Tensor, l1: QuantizedTensor, l2: QuantizedTensor

        init(ranks: Int = MegaMoERunTests.ranks, experts: Int = MegaMoERunTests.experts) throws {
            let perRank = try (0..<ranks).map {
                try perTokenCastToFP8(Tensor.randn([tokens, Self.hidden], dtype: .bfloat16, seed: UInt64(10 + $0)),
                                      useUE8M0: true, granK: 32, usePackedUE8M0: true)
            }
            x = QuantizedTensor(data: try stacked(perRank.map(\.data)), sf: try stacked(perRank.map(\.sf)))
            (idx, weights) = try routing(ranks: ranks, experts: experts)
            l1 = try fp4Weights(experts: experts, n: 2 * Self.intermediate, k: Self.hidden, seed: 100)
            l2 = try fp4Weights(experts: experts, n: Self.hidden, k: Self.intermediate, seed: 200)
        }

        /// The file's tensors; `packedScales` stores the weight scales as packed UE8M0 Int32 [E, rows, K/128].
        func tensors(packedScales: Bool) throws -> [(String, Tensor)] {
            let (sf1, sf2) = packedScales ? (try packed(l1, k: Self.hidden).contiguous(), try packed(l2, k: Self.intermediate).contiguous()) : (l1.sf, l2.sf)
            return [("x", x.data), ("x_sf", x.sf), ("topk_idx", idx), ("topk_weights", weights),
                    ("l1_weights", l1.data), ("l1_weights_sf", sf1), ("l2_weights", l2.data), ("l2_weights_sf", sf2)]
        }

        /// The F32 scales of `weights` [E, n, k] packed MN-major and TMA-aligned, as the unfused pipeline reads them.
        func packed(_ weights: QuantizedTensor, k: Int) throws -> Tensor {
            try transformSFIntoRequiredLayout(weights.sf, mn: weights.data.size(1), k: k, recipe: .operand(granMN: 1, granK: 32),
                                              numGroups: weights.data.size(0))
        }

        /// The unfused pipeline on the same inputs, each rank given its experts untransformed.
        func expected(stats: [Tensor], clamp: Double?, fastMath: Bool) throws -> [Tensor] {
            let (sf1, sf2) = (try packed(l1, k: Self.hidden), try packed(l2, k: Self.intermediate))
            let local = experts / ranks
            let weights = try (0..<ranks).map { rank in
                let slice = { (t: Tensor) in try t.narrow(dim: 0, start: rank * local, length: local) }
                return MegaMoERankWeights(l1: QuantizedTensor(data: try slice(l1.data), sf: try slice(sf1)),
                                          l2: QuantizedTensor(data: try slice(l2.data), sf: try slice(sf2)))
            }
            let inputs = try (0..<ranks).map { rank in
                MegaMoERankInput(x: QuantizedTensor(data: try x.data.select(dim: 0, index: rank), sf: try x.sf.select(dim: 0, index: rank)),
                                 topkIdx: try idx.select(dim: 0, index: rank), topkWeights: try self.weights.select(dim: 0, index: rank))
            }
            return try fp8FP4MegaMoEUnfused(inputs: inputs, weights: weights, numExperts: experts, cumulativeLocalExpertRecvStats: stats,
                                            activationClamp: clamp, fastMath: fastMath)
        }

        var ranks: Int { x.data.size(0) }
        var experts: Int { l1.data.size(0) }
    }

    /// Runs `op` on `inputs` with `settings` and returns the output file.
    static func run(_ op: String, _ inputs: [(String, Tensor)], _ settings: [String], in directory: String) throws -> SafeTensorsFile {
        try GroupedRunTests.run(op, inputs, settings, in: directory)
    }

    /// Expects `y` [R, T, H] of `file` to equal `expected` rank by rank, a nonzero result for
    /// rank 0's token 0 and +0 for rank 1's fully masked token 0, and the stats to equal `stats`.
    static func expectOutputs(_ file: SafeTensorsFile, y expected: [Tensor], stats: [Tensor], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let y = try #require(try file.tensor("y"), sourceLocation: sourceLocation)
        let recvStats = try #require(try file.tensor("cumulative_local_expert_recv_stats"), sourceLocation: sourceLocation)
        #expect(y.shape == [ranks, tokens, expected[0].size(1)] && y.dtype == .bfloat16, sourceLocation: sourceLocation)
        for rank in 0..<ranks {
            #expect(bitwiseMismatch(try y.select(dim: 0, index: rank), expected[rank]) == nil, "rank \(rank)", sourceLocation: sourceLocation)
            #expect(try recvStats.select(dim: 0, index: rank).elements(as: Int32.self) == stats[rank].elements(as: Int32.self),
                    "rank \(rank) stats", sourceLocation: sourceLocation)
        }
        #expect(try y.select(dim: 0, index: 0).select(dim: 0, index: 0).elements(as: UInt16.self).contains { $0 != 0 }, sourceLocation: sourceLocation)
        #expect(try y.select(dim: 0, index: 1).select(dim: 0, index: 0).elements(as: UInt16.self).allSatisfy { $0 == 0 }, sourceLocation: sourceLocation)
    }

    @Test func fp8FP4WithF32ScalesMatchesTheUnfusedPipeline() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inputs = try FP8Inputs()
        let file = try Self.run("fp8_fp4_mega_moe", try inputs.tensors(packedScales: false), ["num_ranks=2"], in: directory)
        let stats = (0..<Self.ranks).map { _ in Tensor(zeros: [Self.experts / Self.ranks], dtype: .int32) }
        let expected = try inputs.expected(stats: stats, clamp: nil, fastMath: true)
        try Self.expectOutputs(file, y: expected, stats: stats)
        #expect(try stats.allSatisfy { try $0.elements(as: Int32.self).contains { $0 != 0 } })
    }

    @Test func fp8FP4WithPackedScalesAndGivenStatsMatchesTheUnfusedPipeline() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inputs = try FP8Inputs()
        let initial: [Int32] = [5, 1, 0, 7]
        let given = try Tensor(initial, shape: [Self.ranks, Self.experts / Self.ranks])
        let settings = ["num_ranks=2", "activation_clamp=0.5", "fast_math=false", "num_max_tokens_per_rank=16", "recipe=1,1,32"]
        let file = try Self.run("fp8_fp4_mega_moe", try inputs.tensors(packedScales: true) + [("cumulative_local_expert_recv_stats", given)],
                                settings, in: directory)
        let stats = try (0..<Self.ranks).map { try given.select(dim: 0, index: $0).clone() }
        let expected = try inputs.expected(stats: stats, clamp: 0.5, fastMath: false)
        try Self.expectOutputs(file, y: expected, stats: stats)
    }

    @Test func bf16MatchesTheUnfusedPipeline() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (hidden, intermediate, ranks, experts) = (128, 128, Self.ranks, Self.experts)
        let x = Tensor.randn([ranks, Self.tokens, hidden], dtype: .bfloat16, seed: 30)
        let (idx, weights) = try Self.routing(ranks: ranks, experts: experts)
        let l1 = Tensor.randn([experts, 2 * intermediate, hidden], dtype: .bfloat16, seed: 31, scale: 0.1)
        let l2 = Tensor.randn([experts, hidden, intermediate], dtype: .bfloat16, seed: 32, scale: 0.1)
        let y = Tensor.randn([ranks, Self.tokens, hidden], dtype: .bfloat16, seed: 33)
        let file = try Self.run("bf16_mega_moe", [("x", x), ("topk_idx", idx), ("topk_weights", weights), ("l1_weights", l1), ("l2_weights", l2), ("y", y)],
                                ["num_ranks=2", "activation_clamp=1"], in: directory)
        let local = experts / ranks
        let inputs = try (0..<ranks).map {
            MegaMoEBF16RankInput(x: try x.select(dim: 0, index: $0), topkIdx: try idx.select(dim: 0, index: $0), topkWeights: try weights.select(dim: 0, index: $0))
        }
        let stats = (0..<ranks).map { _ in Tensor(zeros: [local], dtype: .int32) }
        let expected = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: (0..<ranks).map { try l1.narrow(dim: 0, start: $0 * local, length: local) },
                                              l2Weights: (0..<ranks).map { try l2.narrow(dim: 0, start: $0 * local, length: local) },
                                              numExperts: experts, cumulativeLocalExpertRecvStats: stats, activationClamp: 1)
        try Self.expectOutputs(file, y: expected, stats: stats)
    }

    @Test func listNamesBothOps() {
        #expect(OpRunner.listing.contains("fp8_fp4_mega_moe(x: "))
        #expect(OpRunner.listing.contains("bf16_mega_moe(x: "))
    }

    @Test func failuresNameTheArgumentAndWriteNothing() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.safetensors"
        /// Writes `tensors` as input file `name` and expects every `(settings, argument)` to fail.
        func expectFailures(_ name: String, _ tensors: [(String, Tensor)], _ failing: [([String], String)], op: String = "fp8_fp4_mega_moe",
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
            let input = directory + "/\(name).safetensors"
            try SafeTensorsWriter.write(tensors.map { (name: $0.0, tensor: $0.1) }, to: input)
            expectRunFailures(failing.map { (op, $0.0, $0.1) }, input: input, output: output, sourceLocation: sourceLocation)
        }
        /// `tensors` with `name` replaced by `tensor`.
        func replacing(_ tensors: [(String, Tensor)], _ name: String, _ tensor: Tensor) -> [(String, Tensor)] {
            tensors.map { $0.0 == name ? (name, tensor) : $0 }
        }
        let inputs = try FP8Inputs()
        let valid = try inputs.tensors(packedScales: false)
        try expectFailures("valid", valid, [([], "num_ranks"), (["num_ranks=0"], "num_ranks"), (["num_ranks=2", "num_max_tokens_per_rank=2"], "num_max_tokens_per_rank"),
                                            (["num_ranks=2", "recipe=1,1,128"], "recipe"), (["num_ranks=2", "activation_clamp=-1"], "activation_clamp"),
                                            (["num_ranks=2", "arch=sm90"], "arch")])
        try expectFailures("x-dtype", replacing(valid, "x", Tensor(zeros: [2, 3, 512], dtype: .bfloat16)), [(["num_ranks=2"], "x")])
        try expectFailures("x-rank", replacing(valid, "x", try inputs.x.data.select(dim: 0, index: 0)), [(["num_ranks=2"], "x")])
        try expectFailures("l1-dtype", replacing(valid, "l1_weights", Tensor(zeros: inputs.l1.data.shape, dtype: .uint8)), [(["num_ranks=2"], "l1_weights")])
        try expectFailures("topk-ranks", replacing(valid, "topk_idx", try inputs.idx.narrow(dim: 0, start: 0, length: 1)), [(["num_ranks=2"], "topk_idx")])
        let badScale = inputs.l1.sf.clone()
        try badScale.select(dim: 0, index: 3).select(dim: 0, index: 5).narrow(dim: 0, start: 2, length: 1).copy(from: Tensor([Float(0.75)], shape: [1]))
        try expectFailures("sf-value", replacing(valid, "l1_weights_sf", badScale), [(["num_ranks=2"], "l1_weights_sf")])
        let threeRanks = try FP8Inputs(ranks: 3, experts: 4)
        try expectFailures("experts", try threeRanks.tensors(packedScales: false), [(["num_ranks=3"], "num_experts")])
        let bf16 = [("x", Tensor(zeros: [2, 3, 128], dtype: .bfloat16)), ("topk_idx", inputs.idx), ("topk_weights", inputs.weights),
                    ("l1_weights", Tensor(zeros: [4, 256, 128], dtype: .float32)), ("l2_weights", Tensor(zeros: [4, 128, 128], dtype: .bfloat16))]
        try expectFailures("bf16", bf16, [(["num_ranks=2"], "l1_weights")], op: "bf16_mega_moe")
    }
}
