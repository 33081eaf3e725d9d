import DeepGEMMCore

/// The per-block work of ``MegaMoEFusedRank`` on one rank: pull rows into the L1 ring, L1 GEMM,
/// SwiGLU into the L2 ring, L2 GEMM, and the stores into the source ranks' combine buffers. Holds
/// the block-sized scratch (the L1 and L2 outputs, the F32 scale grids the GEMM engine reads) and
/// the current expert's weight operands; the ring position advances from block to block.
final class MegaMoEFusedExperts {
    /// Where one dispatched row comes from.
    struct Source {
        /// Source rank, its token, and the top-k slot.
        var rank: Int, token: Int, slot: Int
    }

    private let call: MegaMoEFusedCall
    private let blockRows: Int
    private let hidden: Int, intermediate: Int, topk: Int, capacity: Int, threads: Int, elementBytes: Int
    private let l1Out: Tensor, l2Out: Tensor
    /// FP8 only: F32 scale grids of the block's L1 and L2 activations and of the expert's weights.
    private let l1ActivationScales: Tensor?, l2ActivationScales: Tensor?, l1WeightScales: Tensor?, l2WeightScales: Tensor?
    private var l1Weight: GEMMOperand?, l2Weight: GEMMOperand?
    /// The next free ring row.
    private var ringRow = 0

    init(call: MegaMoEFusedCall, blockRows: Int) throws {
        let buffer = call.buffer
        (self.call, self.blockRows) = (call, blockRows)
        (hidden, intermediate, topk) = (buffer.hidden, buffer.intermediateHidden, buffer.numTopk)
        (capacity, threads, elementBytes) = (buffer.numMaxTokensPerRank, buffer.threadsPerRank, buffer.mmaType.elementBytes)
        l1Out = Tensor.empty([blockRows, 2 * intermediate], dtype: .bfloat16)
        l2Out = Tensor.empty([blockRows, hidden], dtype: .bfloat16)
        let fp8 = buffer.mmaType == .fp8xfp4
        l1ActivationScales = fp8 ? Tensor.empty([blockRows, hidden / 32], dtype: .float32) : nil
        l2ActivationScales = fp8 ? Tensor.empty([blockRows, intermediate / 32], dtype: .float32) : nil
        l1WeightScales = fp8 ? Tensor.empty([2 * intermediate, hidden / 32], dtype: .float32) : nil
        l2WeightScales = fp8 ? Tensor.empty([hidden, intermediate / 32], dtype: .float32) : nil
    }

    /// Makes local expert `expert`'s weights the B operands of the next blocks (FP8×FP4: converts
    /// its scales to F32 grids).
    func prepareWeights(expert: Int) throws {
        switch call.weights {
        case .fp4(let l1, let l2):
            guard let l1Scales = l1WeightScales, let l2Scales = l2WeightScales else { preconditionFailure("FP4 weights come with FP8 scratch") }
            MegaMoEFusedScales.weightGrid(l1.sf, expert: expert, into: l1Scales.dataPointer.assumingMemoryBound(to: Float.self), threads: threads)
            MegaMoEFusedScales.weightGrid(l2.sf, expert: expert, into: l2Scales.dataPointer.assumingMemoryBound(to: Float.self), threads: threads)
            l1Weight = try GEMMOperand(format: .e2m1, rows: 2 * intermediate, k: hidden, data: l1.data.select(dim: 0, index: expert),
                                       scales: ScaleGrid(ue8m0Decoded: l1Scales, granK: 32))
            l2Weight = try GEMMOperand(format: .e2m1, rows: hidden, k: intermediate, data: l2.data.select(dim: 0, index: expert),
                                       scales: ScaleGrid(ue8m0Decoded: l2Scales, granK: 32))
        case .bf16(let l1, let l2):
            l1Weight = try GEMMOperand(format: .bf16, rows: 2 * intermediate, k: hidden, data: l1.select(dim: 0, index: expert))
            l2Weight = try GEMMOperand(format: .bf16, rows: hidden, k: intermediate, data: l2.select(dim: 0, index: expert))
        }
    }

    /// Runs one block of at most `blockRows` rows of the current expert.
    func run(_ sources: ArraySlice<Source>) throws {
        guard let l1Weight, let l2Weight else { preconditionFailure("prepareWeights(expert:) comes first") }
        let buffer = call.buffer, layout = buffer.layout
        let rows = sources.count
        if ringRow + rows > layout.ringTokens { ringRow = 0 }
        let first = ringRow
        ringRow += rows
        pull(sources, first: first)
        let own = buffer.region(of: buffer.rank)
        let fp8 = buffer.mmaType == .fp8xfp4

        let l1Activations = try ringView(layout.l1Tokens, width: hidden, first: first, rows: rows)
        let l1A = try GEMMOperand(format: fp8 ? .e4m3 : .bf16, rows: rows, k: hidden, data: l1Activations,
                                  scales: try activationScales(l1ActivationScales, sf: layout.l1SF, width: hidden, first: first, rows: rows))
        let l1D = try l1Out.narrow(dim: 0, start: 0, length: rows)
        try GEMMEngine.run(a: l1A, b: l1Weight, d: l1D, accumulate: false, threads: threads)

        let l1Values = UnsafePointer(l1D.dataPointer.assumingMemoryBound(to: UInt16.self))
        let weights = UnsafePointer((own + layout.l1TopkWeights.offset).assumingMemoryBound(to: Float.self) + first)
        if fp8 {
            MegaMoEFusedEpilogue.fp8(l1: l1Values, rows: rows, intermediate: intermediate, weights: weights, clamp: call.clamp,
                                     fastMath: call.fastMath,
                                     tokens: (own + layout.l2Tokens.offset).assumingMemoryBound(to: UInt8.self) + first * intermediate,
                                     sf: (own + layout.l2SF.offset).assumingMemoryBound(to: Int32.self),
                                     sfRingRows: layout.sfRingTokens, firstRingRow: first, threads: threads)
        } else {
            MegaMoEFusedEpilogue.bf16(l1: l1Values, rows: rows, intermediate: intermediate, weights: weights, clamp: call.clamp,
                                      fastMath: call.fastMath,
                                      tokens: (own + layout.l2Tokens.offset).assumingMemoryBound(to: UInt16.self) + first * intermediate,
                                      threads: threads)
        }

        let l2Activations = try ringView(layout.l2Tokens, width: intermediate, first: first, rows: rows)
        let l2A = try GEMMOperand(format: fp8 ? .e4m3 : .bf16, rows: rows, k: intermediate, data: l2Activations,
                                  scales: try activationScales(l2ActivationScales, sf: layout.l2SF, width: intermediate, first: first, rows: rows))
        let l2D = try l2Out.narrow(dim: 0, start: 0, length: rows)
        try GEMMEngine.run(a: l2A, b: l2Weight, d: l2D, accumulate: false, threads: threads)
        store(sources, from: l2D)
    }

    /// Copies each source row's x, scale words and top-k weight into ring rows `first...`.
    private func pull(_ sources: ArraySlice<Source>, first: Int) {
        let buffer = call.buffer, layout = buffer.layout
        let own = buffer.region(of: buffer.rank)
        let rowBytes = hidden * elementBytes, words = hidden / 128
        let ringTokens = own + layout.l1Tokens.offset
        let ringWeights = (own + layout.l1TopkWeights.offset).assumingMemoryBound(to: Float.self)
        let ringScales = (own + layout.l1SF.offset).assumingMemoryBound(to: Int32.self)
        for (i, source) in sources.enumerated() {
            let region = buffer.region(of: source.rank)
            let row = first + i
            (ringTokens + row * rowBytes).copyMemory(from: region + layout.x.offset + source.token * rowBytes, byteCount: rowBytes)
            ringWeights[row] = (region + layout.topkWeights.offset).assumingMemoryBound(to: Float.self)[source.token * topk + source.slot]
            if layout.xSF.byteCount > 0 {
                let scales = (region + layout.xSF.offset).assumingMemoryBound(to: Int32.self) + source.token * words
                let sfRow = MegaMoEWeightLayout.utccpDestinationRow(row)
                for w in 0..<words { ringScales[w * layout.sfRingTokens + sfRow] = scales[w] }
            }
        }
    }

    /// Stores each L2 output row into its source rank's combine buffer at [slot][token].
    private func store(_ sources: ArraySlice<Source>, from output: Tensor) {
        let buffer = call.buffer, layout = buffer.layout
        let rowBytes = hidden * 2
        for (i, source) in sources.enumerated() {
            let destination = buffer.region(of: source.rank) + layout.combine.offset + (source.slot * capacity + source.token) * rowBytes
            destination.copyMemory(from: output.dataPointer + i * rowBytes, byteCount: rowBytes)
        }
    }

    /// Ring rows `first ..< first + rows` of `region` as a [rows, width] activation tensor.
    private func ringView(_ region: MegaMoEBufferLayout.Region, width: Int, first: Int, rows: Int) throws -> Tensor {
        let dtype: DType = call.buffer.mmaType == .fp8xfp4 ? .float8E4M3 : .bfloat16
        return try Tensor(storage: call.buffer.regionStorage, dtype: dtype, shape: [rows, width], strides: [width, 1],
                          offset: region.offset / elementBytes + first * width)
    }

    /// FP8: the F32 grid of ring rows `first...` from the SF ring `sf`; BF16: nil.
    private func activationScales(_ grid: Tensor?, sf: MegaMoEBufferLayout.Region, width: Int, first: Int, rows: Int) throws -> ScaleGrid? {
        guard let grid else { return nil }
        let own = call.buffer.region(of: call.buffer.rank)
        MegaMoEFusedScales.activationGrid(ring: own + sf.offset, sfRingRows: call.buffer.layout.sfRingTokens, words: width / 128,
                                          first: first, count: rows, into: grid.dataPointer.assumingMemoryBound(to: Float.self))
        return ScaleGrid(ue8m0Decoded: try grid.narrow(dim: 0, start: 0, length: rows), granK: 32)
    }
}
