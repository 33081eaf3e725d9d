import DeepGEMM

/// One rank's expert weights, [E_l, 2I, H] for L1 (gate rows, then up rows) and [E_l, H, I] for L2.
enum MoEExpertWeights: Sendable {
    /// Packed FP4 int8 data with packed UE8M0 Int32 scales per 32 elements, MN-major and TMA-aligned.
    case fp4(l1: QuantizedTensor, l2: QuantizedTensor)
    /// BF16, contiguous.
    case bf16(l1: Tensor, l2: Tensor)

    /// Rank `rank`'s local experts of `problem` over `ranks` ranks, untransformed (the layout the
    /// unfused pipeline takes). Each global expert's matrices come from their own seeds.
    ///
    /// FP4: uniformly random codes (RMS about 2.9) with scales 2^-8, 2^-7 or 2^-6, so a dot product
    /// over K normal inputs has a standard deviation near 0.03·sqrt(K). BF16: uniform in
    /// ±sqrt(3/K) (variance 1/K), so each output has a variance near that of the inputs.
    init(problem: MoEProblem, rank: Int, ranks: Int) {
        let localExperts = problem.localExperts(ranks: ranks), first = rank * localExperts
        let (h, i) = (problem.hidden, problem.intermediate)
        let experts = first..<(first + localExperts)
        switch problem.mmaType {
        case .fp8xfp4:
            self = .fp4(l1: Self.fp4(experts, rows: 2 * i, k: h, seed: problem.seed, stream: .l1),
                        l2: Self.fp4(experts, rows: h, k: i, seed: problem.seed, stream: .l2))
        case .bf16xbf16:
            self = .bf16(l1: Self.bf16(experts, rows: 2 * i, k: h, seed: problem.seed, stream: .l1),
                         l2: Self.bf16(experts, rows: h, k: i, seed: problem.seed, stream: .l2))
        }
    }

    /// The weights as `transform_weights_for_mega_moe` rearranges them for the fused op.
    func transformed() throws -> MoEExpertWeights {
        switch self {
        case .fp4(let l1, let l2):
            let result = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2)
            return .fp4(l1: result.l1, l2: result.l2)
        case .bf16(let l1, let l2):
            let result = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2)
            return .bf16(l1: result.l1, l2: result.l2)
        }
    }

    /// Packed FP4 [experts, rows, k/2] with scales Int32 [experts, rows, k/128] (strides
    /// [align(rows, 4)·k/128, 1, align(rows, 4)]), each scale byte 119, 120 or 121.
    private static func fp4(_ experts: Range<Int>, rows: Int, k: Int, seed: UInt64, stream: MoERandom.Stream) -> QuantizedTensor {
        let data = Tensor.empty([experts.count, rows, k / 2], dtype: .int8)
        let (words, alignedRows) = (k / 128, align(rows, 4))
        let sfStrides = [alignedRows * words, 1, alignedRows]
        let sfStorage = TensorStorage(byteCount: experts.count * alignedRows * words * 4)
        for (local, expert) in experts.enumerated() {
            var generator = SeededGenerator(seed: MoERandom.seed(seed, stream, expert))
            MoERandom.fillBytes(data.dataPointer + local * rows * (k / 2), count: rows * (k / 2), generator: &generator)
            let sf = (sfStorage.baseAddress + local * sfStrides[0] * 4).assumingMemoryBound(to: UInt32.self)
            for word in 0..<words {
                for row in 0..<rows {
                    let bits = generator.next()
                    var packed: UInt32 = 0
                    for byte in 0..<4 { packed |= UInt32(119 + ((bits >> (16 * byte)) & 0xFFFF) % 3) << (8 * byte) }
                    sf[word * alignedRows + row] = packed
                }
            }
        }
        do {
            let sf = try Tensor(storage: sfStorage, dtype: .int32, shape: [experts.count, rows, words], strides: sfStrides)
            return QuantizedTensor(data: data, sf: sf)
        } catch {
            preconditionFailure("the scale strides fit their storage: \(error)")
        }
    }

    /// BF16 [experts, rows, k] uniform in ±sqrt(3/k).
    private static func bf16(_ experts: Range<Int>, rows: Int, k: Int, seed: UInt64, stream: MoERandom.Stream) -> Tensor {
        let weights = Tensor.empty([experts.count, rows, k], dtype: .bfloat16)
        let base = weights.dataPointer.assumingMemoryBound(to: UInt16.self)
        let bound = Float((3 / Double(k)).squareRoot())
        for (local, expert) in experts.enumerated() {
            var generator = SeededGenerator(seed: MoERandom.seed(seed, stream, expert))
            MoERandom.fillUniformBF16(base + local * rows * k, count: rows * k, bound: bound, generator: &generator)
        }
        return weights
    }
}
