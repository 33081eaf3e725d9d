import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// The public Mega MoE API over thread ranks: the symmetric buffer's views, the argument rules of
/// `get_symm_buffer_for_mega_moe` and `fp8_fp4_mega_moe`/`bf16_mega_moe`, and bitwise agreement
/// with the unfused pipeline it runs.
struct MegaMoEAPITests {
    /// E = 8, H = I = 512 (the smallest FP8 sizes whose H/32 and I/32 SF bytes per row fill whole
    /// 16-byte TMA units), k = 2, up to 16 tokens per rank, uneven over up to 8 ranks.
    static let (experts, hidden, intermediate, topk, maxTokens) = (8, 512, 512, 2, 16)
    static let tokens = [5, 16, 3, 9, 2, 7, 1, 12]

    /// Rank `rank`'s routing: its token 0 has every slot masked, slots with (token + slot) % 3 == 2
    /// are masked, the rest spread over all experts (hence all ranks).
    static func routing(rank: Int, tokens: Int) throws -> (idx: Tensor, weights: Tensor) {
        var idx = [Int64](), weights = [Float]()
        for token in 0..<tokens {
            for slot in 0..<topk {
                let masked = token == 0 || (token + slot) % 3 == 2
                idx.append(masked ? -1 : Int64((token * 3 + slot * 5 + rank) % experts))
                weights.append(0.25 + 0.125 * Float((token + 2 * slot) % 5))
            }
        }
        return (try Tensor(idx, shape: [tokens, topk]), try Tensor(weights, shape: [tokens, topk]))
    }

    /// Copies one rank's input views `source` into `view` (another buffer's, e.g. a rank process's).
    static func copyInputs(_ source: MegaMoEBufferInputs, into view: MegaMoEBufferInputs) throws {
        for (destination, values) in [(view.x, source.x), (view.topkIdx, source.topkIdx), (view.topkWeights, source.topkWeights)] {
            try destination.copy(from: values)
        }
        if let xSF = view.xSF, let values = source.xSF { try xSF.copy(from: values) }
    }

    /// FP8×FP4 inputs and weights for `ranks` ranks, the buffer filled with the inputs, and the
    /// transformed weights.
    struct FP8Case {
        let buffer: MegaMoESymmetricBuffer
        var inputs: [MegaMoERankInput] = []
        var weights: [MegaMoERankWeights] = []
        var transformed: [(l1: QuantizedTensor, l2: QuantizedTensor)] = []

        /// `weightScale` is the standard deviation of the normal values the FP4 weights are quantized from;
        /// `threadsPerRank` nil is the buffer's default.
        init(ranks: Int, weightScale: Double = 1, threadsPerRank: Int? = nil) throws {
            buffer = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: intermediate, numRanks: ranks, threadsPerRank: threadsPerRank)
            for rank in 0..<ranks {
                let t = tokens[rank]
                let x = try perTokenCastToFP8(Tensor.randn([t, hidden], dtype: .bfloat16, seed: UInt64(60 + rank)),
                                              useUE8M0: true, granK: 32, usePackedUE8M0: true)
                let (idx, w) = try routing(rank: rank, tokens: t)
                let input = MegaMoERankInput(x: x, topkIdx: idx, topkWeights: w)
                let view = buffer.inputs[rank]
                let xSF = try #require(view.xSF)
                try view.x.narrow(dim: 0, start: 0, length: t).copy(from: x.data)
                try xSF.narrow(dim: 0, start: 0, length: t).copy(from: x.sf)
                try view.topkIdx.narrow(dim: 0, start: 0, length: t).copy(from: idx)
                try view.topkWeights.narrow(dim: 0, start: 0, length: t).copy(from: w)
                inputs.append(input)
                let localExperts = experts / ranks
                let (l1, _) = try MegaMoEUnfusedTests.Case.fp4Weights(experts: localExperts, n: 2 * intermediate, k: hidden, seed: UInt64(300 + rank), scale: weightScale)
                let (l2, _) = try MegaMoEUnfusedTests.Case.fp4Weights(experts: localExperts, n: hidden, k: intermediate, seed: UInt64(400 + rank), scale: weightScale)
                weights.append(MegaMoERankWeights(l1: l1, l2: l2))
                transformed.append(try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2))
            }
        }

        /// Zero-filled BF16 outputs, one per rank.
        var outputs: [Tensor] { (0..<buffer.numRanks).map { Tensor(zeros: [tokens[$0], hidden], dtype: .bfloat16) } }

        /// Calls the public API.
        func run(y: [Tensor], stats: [Tensor]? = nil, clamp: Double? = 4, fastMath: Bool = true, recipe: [Int] = [1, 1, 32]) throws {
            try fp8FP4MegaMoE(y: y, l1Weights: transformed.map(\.l1), l2Weights: transformed.map(\.l2), buffer: buffer,
                              cumulativeLocalExpertRecvStats: stats, recipe: recipe, activationClamp: clamp, fastMath: fastMath)
        }
    }

    /// BF16 inputs and weights for `ranks` ranks, the buffer filled with the inputs, and the
    /// transformed L1 weights.
    struct BF16Case {
        let buffer: MegaMoESymmetricBuffer
        var inputs: [MegaMoEBF16RankInput] = []
        var l1: [Tensor] = [], l2: [Tensor] = [], transformed: [Tensor] = []

        /// `threadsPerRank` nil is the buffer's default.
        init(ranks: Int, threadsPerRank: Int? = nil) throws {
            buffer = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: intermediate, numRanks: ranks, mmaType: .bf16xbf16,
                                                 threadsPerRank: threadsPerRank)
            let localExperts = experts / ranks
            for rank in 0..<ranks {
                let t = tokens[rank]
                let x = Tensor.randn([t, hidden], dtype: .bfloat16, seed: UInt64(70 + rank))
                let (idx, w) = try routing(rank: rank, tokens: t)
                inputs.append(MegaMoEBF16RankInput(x: x, topkIdx: idx, topkWeights: w))
                try buffer.inputs[rank].x.narrow(dim: 0, start: 0, length: t).copy(from: x)
                try buffer.inputs[rank].topkIdx.narrow(dim: 0, start: 0, length: t).copy(from: idx)
                try buffer.inputs[rank].topkWeights.narrow(dim: 0, start: 0, length: t).copy(from: w)
                l1.append(Tensor.randn([localExperts, 2 * intermediate, hidden], dtype: .bfloat16, seed: UInt64(80 + rank), scale: 0.1))
                l2.append(Tensor.randn([localExperts, hidden, intermediate], dtype: .bfloat16, seed: UInt64(90 + rank), scale: 0.1))
                transformed.append(try transformWeightsForMegaMoE(l1Weights: l1[rank], l2Weights: l2[rank]).l1)
            }
        }
    }

    @Test func bufferViewsAliasTheSymmetricMemory() throws {
        let (experts, hidden, intermediate, topk, maxTokens) = (Self.experts, Self.hidden, Self.intermediate, Self.topk, Self.maxTokens)
        let buffer = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                                 intermediateHidden: intermediate, numRanks: 2)
        #expect(buffer.numMaxTokensPerRank == 384 && buffer.numLocalExperts == 4)
        let layout = buffer.layout
        #expect(buffer.memory.regionBytes == layout.totalBytes)
        for rank in 0..<2 {
            let view = buffer.inputs[rank], region = buffer.memory.region(of: rank)
            let xSF = try #require(view.xSF)
            #expect(view.x.shape == [384, hidden] && view.x.dtype == .float8E4M3 && view.x.isContiguous)
            #expect(xSF.shape == [384, hidden / 128] && xSF.dtype == .int32 && xSF.isContiguous)
            #expect(view.topkIdx.shape == [384, topk] && view.topkIdx.dtype == .int64)
            #expect(view.topkWeights.shape == [384, topk] && view.topkWeights.dtype == .float32)
            #expect(view.x.dataPointer == region + layout.x.offset)
            #expect(xSF.dataPointer == region + layout.xSF.offset)
            #expect(view.topkIdx.dataPointer == region + layout.topkIdx.offset)
            #expect(view.topkWeights.dataPointer == region + layout.topkWeights.offset)
            // Zeroed at creation; a write through a view is seen in the region, and the reverse.
            #expect(try view.topkIdx.elements(as: Int64.self).allSatisfy { $0 == 0 })
            try view.topkIdx.select(dim: 0, index: 3).copy(from: Tensor([Int64(7 + rank), -1], shape: [2]))
            let words = (region + layout.topkIdx.offset).assumingMemoryBound(to: Int64.self)
            #expect(words[6] == Int64(7 + rank) && words[7] == -1)
            (region + layout.topkWeights.offset).assumingMemoryBound(to: Float.self)[5] = 2.5
            #expect(try view.topkWeights.elements(as: Float.self)[5] == 2.5)
        }
        let bf16 = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: 400, numTopk: 3, hidden: 192,
                                               intermediateHidden: 64, numRanks: 1, mmaType: .bf16xbf16)
        #expect(bf16.numMaxTokensPerRank == 768 && bf16.inputs[0].xSF == nil)
        #expect(bf16.inputs[0].x.shape == [768, 192] && bf16.inputs[0].x.dtype == .bfloat16)
        #expect(bf16.inputs[0].x.dataPointer == bf16.memory.region(of: 0) + bf16.layout.x.offset)
    }

    @Test func viewsKeepTheMemoryAlive() throws {
        weak var memory: SymmetricMemory?
        var view: Tensor?
        do {
            let buffer = try getSymmBufferForMegaMoE(numExperts: Self.experts, numMaxTokensPerRank: 1, numTopk: 1, hidden: 64,
                                                     intermediateHidden: 64, numRanks: 2, mmaType: .bf16xbf16)
            memory = buffer.memory
            view = buffer.inputs[1].topkWeights
        }
        #expect(memory != nil, "a view outlives its buffer")
        try view?.select(dim: 0, index: 0).copy(from: Tensor([Float(1.5)], shape: [1]))
        #expect(try view?.elements(as: Float.self).first == 1.5)
        view = nil
        #expect(memory == nil, "the memory is released with the last view")
    }

    @Test func bufferRulesNameTheirArgument() {
        func argument(ranks: Int = 2, experts: Int = Self.experts, tokens: Int = Self.maxTokens, topk: Int = Self.topk,
                      hidden: Int = Self.hidden, intermediate: Int = Self.intermediate, fp8Dispatch: Bool? = nil, mma: MegaMoEBufferLayout.MMAType = .fp8xfp4,
                      activation: String = "swiglu") -> String? {
            MegaMoEWeightTransformTests.argument {
                _ = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: tokens, numTopk: topk, hidden: hidden,
                                                intermediateHidden: intermediate, numRanks: ranks, useFP8Dispatch: fp8Dispatch,
                                                mmaType: mma, activation: activation)
            }
        }
        #expect(argument() == nil)
        #expect(argument(ranks: 3) == "num_experts")
        #expect(argument(experts: 0) == "num_experts")
        #expect(argument(ranks: 0) == "num_ranks")
        #expect(argument(ranks: 73, experts: 73) == "num_ranks")
        #expect(argument(hidden: 192) == "hidden")
        #expect(argument(intermediate: 320) == "intermediate_hidden")
        #expect(argument(hidden: 96, mma: .bf16xbf16) == "hidden")
        #expect(argument(hidden: 192, intermediate: 64, mma: .bf16xbf16) == nil)
        #expect(argument(topk: 0) == "num_topk")
        #expect(argument(topk: 33) == "num_topk")
        #expect(argument(tokens: 0) == "num_max_tokens_per_rank")
        #expect(argument(tokens: 1 << 25) == "num_max_tokens_per_rank")
        #expect(argument(fp8Dispatch: false) == "use_fp8_dispatch")
        #expect(argument(fp8Dispatch: true) == nil)
        #expect(argument(activation: "gelu") == "activation")
    }

    @Test(arguments: [1, 2, 4, 8])
    func fp8MatchesTheUnfusedPipelineBitwise(ranks: Int) throws {
        let experts = Self.experts
        let c = try FP8Case(ranks: ranks)
        let localExperts = experts / ranks
        let stats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        let y = c.outputs
        try c.run(y: y, stats: stats)
        let expectedStats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        let expected = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: experts,
                                                cumulativeLocalExpertRecvStats: expectedStats, activationClamp: 4)
        for rank in 0..<ranks {
            #expect(bitwiseMismatch(y[rank], expected[rank]) == nil, "rank \(rank)")
            #expect(try y[rank].select(dim: 0, index: 0).elements(as: UInt16.self).allSatisfy { $0 == 0 }, "fully masked token")
            if Self.tokens[rank] > 1 { #expect(try y[rank].select(dim: 0, index: 1).elements(as: UInt16.self).contains { $0 != 0 }) }
            #expect(try stats[rank].elements(as: Int32.self) == expectedStats[rank].elements(as: Int32.self))
        }
        // Stats accumulate over calls: one more call doubles them; the total counts every unmasked slot.
        try c.run(y: c.outputs, stats: stats)
        let total = try stats.reduce(0) { $0 + Int(try $1.elements(as: Int32.self).reduce(0, +)) }
        let valid = try c.inputs.reduce(0) { $0 + (try $1.topkIdx.elements(as: Int64.self).filter { $0 >= 0 }.count) }
        #expect(total == 2 * valid && valid > 0)
        // Without the clamp and with exact math, still the pipeline's bits.
        let exact = c.outputs
        try c.run(y: exact, clamp: nil, fastMath: false)
        let expectedExact = try fp8FP4MegaMoEUnfused(inputs: c.inputs, weights: c.weights, numExperts: experts, fastMath: false)
        for rank in 0..<ranks { #expect(bitwiseMismatch(exact[rank], expectedExact[rank]) == nil, "rank \(rank), exact math") }
    }

    @Test(arguments: [1, 2, 4, 8])
    func bf16MatchesTheUnfusedPipelineBitwise(ranks: Int) throws {
        let (experts, hidden, tokens) = (Self.experts, Self.hidden, Self.tokens)
        let localExperts = experts / ranks
        let c = try BF16Case(ranks: ranks)
        let (buffer, inputs, l1, l2, transformed) = (c.buffer, c.inputs, c.l1, c.l2, c.transformed)
        let y = (0..<ranks).map { Tensor(zeros: [tokens[$0], hidden], dtype: .bfloat16) }
        let stats = (0..<ranks).map { _ in Tensor(zeros: [localExperts], dtype: .int32) }
        try bf16MegaMoE(y: y, l1Weights: transformed, l2Weights: l2, buffer: buffer, cumulativeLocalExpertRecvStats: stats, activationClamp: 1)
        let expected = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1, l2Weights: l2, numExperts: experts, activationClamp: 1)
        for rank in 0..<ranks {
            #expect(bitwiseMismatch(y[rank], expected[rank]) == nil, "rank \(rank)")
            if tokens[rank] > 1 { #expect(try y[rank].select(dim: 0, index: 1).elements(as: UInt16.self).contains { $0 != 0 }) }
        }
        #expect(try stats.reduce(0) { $0 + Int(try $1.elements(as: Int32.self).reduce(0, +)) } > 0)
        // Without the clamp and with exact math, still the pipeline's bits.
        let exact = (0..<ranks).map { Tensor(zeros: [tokens[$0], hidden], dtype: .bfloat16) }
        try bf16MegaMoE(y: exact, l1Weights: transformed, l2Weights: l2, buffer: buffer, fastMath: false)
        let expectedExact = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1, l2Weights: l2, numExperts: experts, fastMath: false)
        for rank in 0..<ranks { #expect(bitwiseMismatch(exact[rank], expectedExact[rank]) == nil, "rank \(rank), exact math") }
        // A BF16 buffer is not an FP8 buffer, and an FP8 call's buffer must be FP8.
        let fp8 = try FP8Case(ranks: ranks)
        #expect(MegaMoEWeightTransformTests.argument {
            try bf16MegaMoE(y: y, l1Weights: transformed, l2Weights: l2, buffer: fp8.buffer)
        } == "sym_buffer")
        #expect(MegaMoEWeightTransformTests.argument {
            try fp8FP4MegaMoE(y: y, l1Weights: fp8.transformed.map(\.l1), l2Weights: fp8.transformed.map(\.l2), buffer: buffer)
        } == "sym_buffer")
        let mnMajor = try transformed.map { try $0.transposed(1, 2).contiguous().transposed(1, 2) }
        #expect(MegaMoEWeightTransformTests.argument {
            try bf16MegaMoE(y: y, l1Weights: mnMajor, l2Weights: l2, buffer: buffer)
        } == "l1_weights")
    }

    @Test func callRulesNameTheirArgumentAndWriteNothing() throws {
        let (hidden, tokens) = (Self.hidden, Self.tokens)
        let c = try FP8Case(ranks: 2)
        let sentinel = try Tensor(converting: [Double](repeating: 3, count: tokens[0] * hidden), shape: [tokens[0], hidden], dtype: .bfloat16)
        let y = [sentinel.clone(), Tensor(zeros: [tokens[1], hidden], dtype: .bfloat16)]
        let stats = [try Tensor([Int32(5), 6, 7, 8], shape: [4]), Tensor(zeros: [4], dtype: .int32)]
        func argument(_ call: () throws -> Void) -> String? { MegaMoEWeightTransformTests.argument(call) }
        let (l1, l2) = (c.transformed.map(\.l1), c.transformed.map(\.l2))
        #expect(argument { try c.run(y: [y[0]], stats: stats) } == "y")
        #expect(argument { try c.run(y: [y[0], Tensor(zeros: [385, hidden], dtype: .bfloat16)], stats: stats) } == "y")
        #expect(argument { try c.run(y: [y[0], Tensor(zeros: [4, hidden], dtype: .float32)], stats: stats) } == "y")
        #expect(argument { try c.run(y: y, stats: stats, recipe: [1, 128, 128]) } == "recipe")
        #expect(argument { try c.run(y: y, stats: stats, clamp: -1) } == "activation_clamp")
        #expect(argument { try c.run(y: y, stats: [stats[0]]) } == "cumulative_local_expert_recv_stats")
        #expect(argument {
            try fp8FP4MegaMoE(y: y, l1Weights: l1, l2Weights: l2, buffer: c.buffer, cumulativeLocalExpertRecvStats: stats, activation: "gelu")
        } == "activation")
        #expect(argument { try fp8FP4MegaMoE(y: y, l1Weights: [l1[0]], l2Weights: l2, buffer: c.buffer) } == "l1_weights")
        // K-major (contiguous) weight scales are not the MN-major TMA-aligned layout the kernel reads.
        let kMajorSF = QuantizedTensor(data: l2[1].data, sf: l2[1].sf.contiguous())
        #expect(argument { try fp8FP4MegaMoE(y: y, l1Weights: l1, l2Weights: [l2[0], kMajorSF], buffer: c.buffer) } == "l2_weights")
        let wrongShape = QuantizedTensor(data: try l1[0].data.narrow(dim: 0, start: 0, length: 2).contiguous(), sf: l1[0].sf)
        #expect(argument { try fp8FP4MegaMoE(y: y, l1Weights: [wrongShape, l1[1]], l2Weights: l2, buffer: c.buffer) } == "l1_weights")
        // An expert id out of range in the buffer's topk_idx.
        try c.buffer.inputs[1].topkIdx.select(dim: 0, index: 2).copy(from: Tensor([Int64(8), 0], shape: [2]))
        #expect(argument { try c.run(y: y, stats: stats) } == "topk_idx")
        #expect(bitwiseMismatch(y[0], sentinel) == nil)
        #expect(try stats[0].elements(as: Int32.self) == [5, 6, 7, 8] && stats[1].elements(as: Int32.self) == [0, 0, 0, 0])
        let fake = FakeDeviceMemory()  // y on a device, the weights on the host: mixed devices
        #expect { try fp8FP4MegaMoE(y: y.map { fake.tensor($0.shape, dtype: $0.dtype) }, l1Weights: l1, l2Weights: l2, buffer: c.buffer) } throws: {
            namesArgument($0, "l1_weights")
        }
        var sm90 = DeepGEMMSettings()
        sm90.arch = .sm90
        #expect { try fp8FP4MegaMoE(y: y, l1Weights: l1, l2Weights: l2, buffer: c.buffer, settings: sm90) } throws: {
            namesArgument($0, "arch", unsupported: true)
        }
    }
}
