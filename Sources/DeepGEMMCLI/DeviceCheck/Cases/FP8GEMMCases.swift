import DeepGEMM
import DeepGEMMCUDA

/// The SM90 FP8 1D2D GEMM ops as device-check cases: BF16 random operands quantized as DeepGEMM's
/// tests do (A per token with scales in the MN-major TMA-aligned layout, B per 128x128 block), the
/// public op on CUDA tensors against the same op on the host (the CPU backend), DeepGEMM's FP8 bound.
/// K tails are multiples of 16 but not of 128: TMA needs 16-byte rows, and FP8 rows are K bytes.
enum FP8GEMMCases {
    /// The dense, m-grouped contiguous (per-row and psum layouts), masked and skip-head-mid families.
    static let families: [DeviceCheckFamily] = [
        family("sm90 fp8 gemm", smoke: FP8GEMMCase(.dense, m: 128, n: 256, k: 256), verification: [
            FP8GEMMCase(.dense, m: 1, n: 2112, k: 7168), FP8GEMMCase(.dense, m: 130, n: 520, k: 1040),
            FP8GEMMCase(.dense, m: 300, n: 576, k: 7168), FP8GEMMCase(.dense, m: 1024, n: 2112, k: 1536),
            FP8GEMMCase(.dense, m: 2048, n: 4096, k: 512), FP8GEMMCase(.dense, m: 4096, n: 7168, k: 256),
            FP8GEMMCase(.dense, m: 999, n: 2104, k: 1104),
        ], benchmark: [128, 4096].flatMap { m in RepresentativeProblems.denseShapes.map { FP8GEMMCase(.dense, m: m, n: $0.0, k: $0.1) } },
               host: [FP8GEMMCase(.dense, m: 104, n: 136, k: 208)]),
        family("sm90 fp8 m-grouped contiguous", smoke: FP8GEMMCase(.contiguous, n: 256, k: 256, groupRows: [100, 60]), verification: [
            FP8GEMMCase(.contiguous, n: 1024, k: 1536, groupRows: [200, 0, 57, 384]),
            FP8GEMMCase(.contiguous, n: 4096, k: 2048, groupRows: [1000, 900, 1100, 1024]),
        ], benchmark: groupedBench(.contiguous), host: [FP8GEMMCase(.contiguous, n: 128, k: 256, groupRows: [90, 0, 130])]),
        family("sm90 fp8 m-grouped contiguous psum", smoke: FP8GEMMCase(.psum, n: 256, k: 256, groupRows: [100, 60]), verification: [
            FP8GEMMCase(.psum, n: 1024, k: 1536, groupRows: [200, 0, 57, 384]),
            FP8GEMMCase(.psum, n: 4096, k: 1024, groupRows: [300, 250, 0, 310, 290, 333]),
        ], benchmark: groupedBench(.psum), host: [FP8GEMMCase(.psum, n: 128, k: 256, groupRows: [90, 0, 130])]),
        family("sm90 fp8 m-grouped masked", smoke: FP8GEMMCase(.masked, m: 128, n: 256, k: 256, groupRows: [64, 100], expectedM: 80), verification: [
            FP8GEMMCase(.masked, m: 320, n: 1024, k: 1040, groupRows: [0, 17, 128, 300], expectedM: 150),
            FP8GEMMCase(.masked, m: 256, n: 2112, k: 1024, groupRows: [20, 0, 25, 31, 18, 0, 22, 19], expectedM: 20),
        ], benchmark: groupedBench(.masked), host: [FP8GEMMCase(.masked, m: 64, n: 128, k: 256, groupRows: [40, 0, 64], expectedM: 40)]),
        family("sm90 fp8 gemm skip_head_mid", smoke: FP8GEMMCase(.skipHeadMid, m: 128, n: 4 * 256, k: 256, headSplits: [128, 64, 128]),
               verification: [
                   FP8GEMMCase(.skipHeadMid, m: 256, n: 8 * 256, k: 512, headSplits: [128, 64, 128]),
                   FP8GEMMCase(.skipHeadMid, m: 130, n: 4 * 192, k: 1040, headSplits: [64, 128, 128]),
               ], benchmark: [], host: [FP8GEMMCase(.skipHeadMid, m: 64, n: 2 * 256, k: 256, headSplits: [128, 64, 128])]),
    ]

    /// A family of the SM90 FP8 1D2D kernel in part B.
    static func family(_ name: String, smoke: FP8GEMMCase, verification: [FP8GEMMCase], benchmark: [FP8GEMMCase], host: [FP8GEMMCase])
        -> DeviceCheckFamily {
        DeviceCheckFamily(name: name, kernelFamilies: [SM90FP8GEMMFamily().name], part: .b, smoke: smoke, verification: verification,
                          benchmark: benchmark, host: host)
    }

    /// DeepGEMM's m-grouped bench shapes (the first two grouped (n, k) pairs): 4 groups of ~8192 rows
    /// (contiguous), 6 of ~1024 (psum, masked with Mmax 4096), rows drawn as the BF16 cases draw them.
    static func groupedBench(_ mode: FP8GEMMCase.Mode) -> [FP8GEMMCase] {
        RepresentativeProblems.groupedShapes.prefix(2).map { n, k in
            let (groups, expected) = mode == .contiguous ? (4, 8192) : (6, 1024)
            let rows = GEMMCase.randomGroupRows(groups: groups, expectedM: expected, cap: mode == .masked ? 4096 : nil, seed: UInt64(n * k))
            return FP8GEMMCase(mode, m: mode == .masked ? 4096 : 0, n: n, k: k, groupRows: rows, expectedM: expected)
        }
    }
}

/// One call of an SM90 FP8 1D2D GEMM op with BF16 output.
struct FP8GEMMCase: DeviceCheckCase {
    /// Which op.
    enum Mode: Sendable, Equatable {
        /// `fp8_gemm_nt`.
        case dense
        /// `m_grouped_fp8_gemm_nt_contiguous` with a per-row group layout.
        case contiguous
        /// `m_grouped_fp8_gemm_nt_contiguous` with the psum layout (cumulative group ends).
        case psum
        /// `m_grouped_fp8_gemm_nt_masked`.
        case masked
        /// `fp8_gemm_nt_skip_head_mid`.
        case skipHeadMid
    }

    /// The op.
    var mode: Mode
    /// Rows of D (masked: Mmax; contiguous: unused, the groups' aligned rows).
    var m: Int
    /// Columns the op computes (skip_head_mid: heads · (L + R)).
    var n: Int
    /// Reduction size.
    var k: Int
    /// Grouped ops: rows per group (contiguous: before alignment; masked: `masked_m`), zeros allowed.
    var groupRows: [Int]
    /// Masked: the `expected_m` hint.
    var expectedM: Int
    /// skip_head_mid: (L, Mid, R).
    var headSplits: [Int]

    /// Creates a case.
    init(_ mode: Mode, m: Int = 0, n: Int, k: Int, groupRows: [Int] = [], expectedM: Int = 0, headSplits: [Int] = []) {
        (self.mode, self.m, self.n, self.k, self.groupRows, self.expectedM, self.headSplits) = (mode, m, n, k, groupRows, expectedM, headSplits)
    }

    /// DeepGEMM's op name.
    var op: String {
        switch mode {
        case .dense: return "fp8_gemm_nt"
        case .contiguous, .psum: return "m_grouped_fp8_gemm_nt_contiguous"
        case .masked: return "m_grouped_fp8_gemm_nt_masked"
        case .skipHeadMid: return "fp8_gemm_nt_skip_head_mid"
        }
    }

    /// `fp8_gemm_nt m=128 n=2112 k=7168`, with the groups' rows or the head splits.
    var description: String {
        op + (mode == .psum ? " psum" : "") + (mode == .contiguous || mode == .psum ? "" : " m=\(m)") + " n=\(n) k=\(k)"
            + (groupRows.isEmpty ? "" : " rows=" + groupRows.map(String.init).joined(separator: ","))
            + (mode == .masked ? " expected_m=\(expectedM)" : "") + (headSplits.isEmpty ? "" : " head_splits=" + headSplits.map(String.init).joined(separator: ","))
    }

    /// DeepGEMM's FP8 bound (`calc_diff < 1e-3`).
    var comparison: CaseComparison { .calcDiff(bound: 1e-3) }

    /// Columns of D (skip_head_mid: the Mid columns too).
    var outputColumns: Int {
        guard mode == .skipHeadMid, headSplits.count == 3 else { return n }
        return n / (headSplits[0] + headSplits[2]) * headSplits.reduce(0, +)
    }

    /// The case's host tensors.
    struct Inputs {
        /// A quantized per token (scales MN-major TMA-aligned); masked: [G, Mmax, K].
        var a: QuantizedTensor
        /// B quantized per 128x128 block; grouped: [G, N, K].
        var b: QuantizedTensor
        /// D's initial contents (zeros; skip_head_mid: random, the Mid columns must stay).
        var d: Tensor
        /// The grouped layout (contiguous: int32 [M]; psum: int32 [G] ends; masked: int32 [G] `masked_m`).
        var layout: Tensor?
    }

    /// BF16 operands (normal samples, hashed when `fast`), quantized; contiguous padding rows of A zero.
    func makeInputs(fast: Bool) throws -> Inputs {
        func random(_ shape: [Int], _ offset: UInt64) -> Tensor {
            fast ? GEMMCaseInputs.hashedBits(shape, seed: seed &+ offset) : Tensor.randn(shape, dtype: .bfloat16, seed: seed &+ offset)
        }
        let groups = max(groupRows.count, 1)
        switch mode {
        case .dense, .skipHeadMid:
            let d = mode == .dense ? Tensor(zeros: [m, n], dtype: .bfloat16) : random([m, outputColumns], 3)
            return Inputs(a: try quantizeA(random([m, k], 1)), b: try perBlockCastToFP8(random([n, k], 2), useUE8M0: false), d: d, layout: nil)
        case .contiguous, .psum:
            let (groupOfRow, ends) = GEMMCaseInputs.contiguousLayout(groupRows: groupRows, alignment: GEMMCase.mkAlignment)
            let x = random([groupOfRow.count, k], 1)
            for (row, group) in groupOfRow.enumerated() where group < 0 { try x.select(dim: 0, index: row).zero() }
            let layout = mode == .psum ? try Tensor(ends, shape: [groups]) : try Tensor(groupOfRow, shape: [groupOfRow.count])
            return Inputs(a: try quantizeA(x), b: try Self.quantizeGroupedB(random([groups, n, k], 2)), d: Tensor(zeros: [groupOfRow.count, n], dtype: .bfloat16),
                          layout: layout)
        case .masked:
            let x = random([groups, m, k], 1)
            let a = try Self.stack((0..<groups).map { try perTokenCastToFP8(x.select(dim: 0, index: $0), useUE8M0: false) }, mnMajorScales: true)
            return Inputs(a: a, b: try Self.quantizeGroupedB(random([groups, n, k], 2)), d: Tensor(zeros: [groups, m, n], dtype: .bfloat16),
                          layout: try Tensor(groupRows.map(Int32.init), shape: [groups]))
        }
    }

    /// D from the op on the host (the CPU backend).
    func reference(_ inputs: Inputs) throws -> [Tensor] {
        let d = inputs.d.clone()
        try call(inputs.a, inputs.b, d, inputs.layout)
        return [d]
    }

    /// The operands on the stream's device; each launch calls the op there.
    func prepareCUDA(_ inputs: Inputs, stream: CUDAStream) throws -> any CaseLauncher {
        let device = CUDACheckDevice.placement
        let (a, b) = (try upload(inputs.a, to: device), try upload(inputs.b, to: device))
        let d = try inputs.d.to(device), layout = try inputs.layout?.to(device)
        return OpLauncher { try call(a, b, d, layout); return [d] }
    }

    /// Masked: each group's first `masked_m` rows; otherwise all of D.
    func compared(_ outputs: [Tensor], inputs: Inputs) throws -> [Tensor] {
        guard mode == .masked else { return outputs }
        return try outputs.flatMap { d in
            try groupRows.enumerated().filter { $0.element > 0 }.map { try d.select(dim: 0, index: $0.offset).narrow(dim: 0, start: 0, length: $0.element) }
        }
    }

    /// 2·M·N·K over the valid rows; FP8 A and B, their scales and BF16 D once each.
    func workload(_ inputs: Inputs) throws -> CaseWorkload {
        let rows = mode == .dense || mode == .skipHeadMid ? m : groupRows.reduce(0, +)
        let bytes = [inputs.a.data, inputs.a.sf, inputs.b.data, inputs.b.sf, inputs.d].reduce(0) { $0 + $1.byteCount }
        return CaseWorkload(flops: 2 * Double(rows) * Double(n) * Double(k), bytes: Double(bytes), fields: [
            ("m", .number(Double(inputs.d.size(-2)))), ("n", .number(Double(n))), ("k", .number(Double(k))),
            ("groups", .number(Double(max(groupRows.count, 1)))), ("valid_rows", .numbers((groupRows.isEmpty ? [m] : groupRows).map(Double.init))),
        ])
    }

    /// The kernel the op's CUDA path selects: the problem it builds, "nk" compiled dims.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        let groups = groupRows.count
        let problem: GEMMProblem
        switch mode {
        case .dense:
            problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, typeA: .float8E4M3, typeB: .float8E4M3, typeCD: .bfloat16, kernelType: .oneD2D)
        case .skipHeadMid:
            problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, typeA: .float8E4M3, typeB: .float8E4M3, typeCD: .bfloat16, kernelType: .oneD2D,
                                  headSplits: headSplits)
        case .contiguous, .psum:
            let rows = GEMMCaseInputs.contiguousLayout(groupRows: groupRows, alignment: GEMMCase.mkAlignment).groupOfRow.count
            problem = GEMMProblem(kind: mode == .psum ? .mGroupedContiguousPsum : .mGroupedContiguous, m: rows, n: n, k: k, numGroups: groups,
                                  typeA: .float8E4M3, typeB: .float8E4M3, kernelType: .oneD2D, mkAlignment: GEMMCase.mkAlignment)
        case .masked:
            problem = GEMMProblem(kind: .mGroupedMasked, m: m, n: n, k: k, numGroups: groups, typeA: .float8E4M3, typeB: .float8E4M3,
                                  kernelType: .oneD2D, expectedM: expectedM)
        }
        return [try SM90FP8GEMMFamily().select(GEMMKernelProblem(problem, numSMs: numSMs, compiledDims: "nk")).source]
    }

    /// The op on `a`, `b`, `d` wherever they live.
    private func call(_ a: QuantizedTensor, _ b: QuantizedTensor, _ d: Tensor, _ layout: Tensor?) throws {
        switch mode {
        case .dense: try fp8FP4GEMM(.nt, a: a, b: b, d: d)
        case .skipHeadMid: try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d, headSplits: headSplits)
        case .contiguous, .psum:
            try mGroupedFP8FP4GEMMContiguous(.nt, a: a, b: b, d: d, groupedLayout: try required(layout), usePsumLayout: mode == .psum)
        case .masked: try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: d, maskedM: try required(layout), expectedM: expectedM)
        }
    }

    private func required(_ layout: Tensor?) throws -> Tensor {
        guard let layout else { throw DeepGEMMError.invalidArgument(argument: "grouped_layout", rule: "missing") }
        return layout
    }

    /// A per token, scales in the MN-major TMA-aligned layout the SM90 kernel reads.
    private func quantizeA(_ x: Tensor) throws -> QuantizedTensor {
        let cast = try perTokenCastToFP8(x, useUE8M0: false)
        return QuantizedTensor(data: cast.data, sf: try getMNMajorTMAAlignedTensor(cast.sf))
    }

    /// Each group of B [G, N, K] per 128x128 block, stacked (also `fp8_einsum`'s per-head B).
    static func quantizeGroupedB(_ x: Tensor) throws -> QuantizedTensor {
        try Self.stack((0..<x.size(0)).map { try perBlockCastToFP8(x.select(dim: 0, index: $0), useUE8M0: false) }, mnMajorScales: false)
    }

    /// Groups stacked along a new first dimension (scales MN-major TMA-aligned when `mnMajorScales`).
    private static func stack(_ parts: [QuantizedTensor], mnMajorScales: Bool) throws -> QuantizedTensor {
        let data = Tensor(zeros: [parts.count] + parts[0].data.shape, dtype: .float8E4M3)
        let sf = Tensor(zeros: [parts.count] + parts[0].sf.shape, dtype: .float32)
        for (group, part) in parts.enumerated() {
            try data.select(dim: 0, index: group).copy(from: part.data)
            try sf.select(dim: 0, index: group).copy(from: part.sf)
        }
        return QuantizedTensor(data: data, sf: mnMajorScales ? try getMNMajorTMAAlignedTensor(sf) : sf)
    }

    /// Data and scales on `device`, strides kept.
    private func upload(_ x: QuantizedTensor, to device: Device) throws -> QuantizedTensor {
        QuantizedTensor(data: try x.data.to(device), sf: try x.sf.to(device))
    }
}
