import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// Inputs of an m-grouped contiguous case, built as DeepGEMM's `generate_m_grouped_contiguous`
/// does: each group's rows padded to a multiple of α with zero rows of A.
struct MGroupedContiguousInputs {
    /// BF16 [M, K]; padding and gap rows are zero.
    let x: Tensor
    /// BF16 [G, N, K].
    let y: Tensor
    /// int32 [M] group ids (-1 padding), or [G] group ends with PSUM.
    let layout: Tensor
    /// The group each row is computed with, or -1 for rows outside every group.
    let rowGroups: [Int]
    /// First row of each group and its valid row count.
    let groupRows: [Range<Int>]

    var m: Int { x.size(0) }

    init(groupMs: [Int], n: Int, k: Int, alignment: Int, psum: Bool, seed: UInt64) throws {
        let aligned = groupMs.map { align($0, alignment) }
        let m = aligned.reduce(0, +)
        x = Tensor.randn([m, k], dtype: .bfloat16, seed: seed)
        y = Tensor.randn([groupMs.count, n, k], dtype: .bfloat16, seed: seed + 1)
        var rowGroups = [Int](), entries = [Int32](), ranges = [Range<Int>](), start = 0
        for (group, (valid, padded)) in zip(groupMs, aligned).enumerated() {
            try x.narrow(dim: 0, start: start + valid, length: padded - valid).zero()
            rowGroups += [Int](repeating: group, count: valid) + [Int](repeating: -1, count: padded - valid)
            ranges.append(start..<(start + valid))
            if psum {
                entries.append(Int32(start + valid))
            } else {
                entries += [Int32](repeating: Int32(group), count: valid) + [Int32](repeating: -1, count: padded - valid)
            }
            start += padded
        }
        self.rowGroups = rowGroups
        groupRows = ranges
        layout = try Tensor(entries, shape: [entries.count])
    }
}

/// FP64 references for grouped GEMMs, built on ``DenseReference``.
enum GroupedReference {
    /// `D[r] = A[r] · B[rowGroups[r]]ᵀ` in FP64 for every row, zero (with zero magnitude) for rows
    /// whose group is -1. `b[g]` holds group g's [N][K] values.
    static func product(_ a: [[Double]], _ b: [[[Double]]], rowGroups: [Int]) -> (values: [Double], magnitudes: [Double]) {
        let n = b.first?.count ?? 0
        var values = [Double](), magnitudes = [Double]()
        for (row, group) in zip(a, rowGroups) {
            guard group >= 0 else {
                values += [Double](repeating: 0, count: n)
                magnitudes += [Double](repeating: 0, count: n)
                continue
            }
            let part = DenseReference.product([row], b[group])
            values += part.values
            magnitudes += part.magnitudes
        }
        return (values, magnitudes)
    }

    /// Group g's [N][K] values of a stacked operand, dequantized with its group's scales.
    static func groupValues(_ q: QuantizedTensor, group: Int, granMN: Int, granK: Int) throws -> [[Double]] {
        try DenseReference.values(q.data.select(dim: 0, index: group), sf: q.sf.select(dim: 0, index: group), granMN: granMN, granK: granK)
    }
}

/// Test-side quantization of grouped operands.
enum GroupedQuantization {
    /// Quantizes each group of `x` [G, MN, K] with `quantization` and stacks the results: data
    /// [G, ...] and scales [G, ...]. Returns the recipe pair too.
    static func stacked(_ x: Tensor, _ quantization: Quantization) throws -> (QuantizedTensor, [Int]) {
        var parts = [QuantizedTensor](), recipe = [Int]()
        for group in 0..<x.size(0) {
            let (q, pair) = try quantization.apply(x.select(dim: 0, index: group))
            parts.append(q)
            recipe = pair
        }
        return (QuantizedTensor(data: try stack(parts.map(\.data)), sf: try stack(parts.map(\.sf))), recipe)
    }

    /// The nn argument of a stacked nt operand: each group transposed as DeepGEMM's tests lay it out.
    static func transposedGroups(_ q: QuantizedTensor) throws -> QuantizedTensor {
        let parts = try (0..<q.data.size(0)).map {
            try transposedArgument(QuantizedTensor(data: q.data.select(dim: 0, index: $0), sf: q.sf.select(dim: 0, index: $0)))
        }
        return QuantizedTensor(data: try stack(parts.map(\.data)), sf: try stack(parts.map(\.sf)))
    }

    /// Equal-shaped tensors stacked on a new leading dimension (contiguous).
    static func stack(_ tensors: [Tensor]) throws -> Tensor {
        let first = try #require(tensors.first)
        let result = Tensor(zeros: [tensors.count] + first.shape, dtype: first.dtype)
        for (index, tensor) in tensors.enumerated() { try result.select(dim: 0, index: index).copy(from: tensor) }
        return result
    }

    /// `perChannelCastToFP8` applied per K group as DeepGEMM's `k_grouped_per_channel_cast_to_fp8`
    /// does: x [ΣK, MN] split by `ranges`, each group padded with zeros to a multiple of `granK`.
    /// Returns FP8 data [ΣK, MN] (rows outside every group zero) and the compact scale rows
    /// [Σ ceil(k_g/granK), MN].
    static func kGroupedPerChannel(_ x: Tensor, ranges: [Range<Int>], granK: Int, ue8m0: Bool) throws -> QuantizedTensor {
        let mn = x.size(1)
        let data = Tensor(zeros: x.shape, dtype: .float8E4M3)
        var scales = [Tensor]()
        for range in ranges where !range.isEmpty {
            let padded = Tensor(zeros: [align(range.count, granK), mn], dtype: x.dtype)
            try padded.narrow(dim: 0, start: 0, length: range.count).copy(from: x.narrow(dim: 0, start: range.lowerBound, length: range.count))
            let q = try perChannelCastToFP8(padded, useUE8M0: ue8m0, granK: granK)
            try data.narrow(dim: 0, start: range.lowerBound, length: range.count).copy(from: q.data.narrow(dim: 0, start: 0, length: range.count))
            scales.append(q.sf)
        }
        let rows = scales.reduce(0) { $0 + $1.size(0) }
        let sf = Tensor(zeros: [rows, mn], dtype: .float32)
        var next = 0
        for part in scales {
            try sf.narrow(dim: 0, start: next, length: part.size(0)).copy(from: part)
            next += part.size(0)
        }
        return QuantizedTensor(data: data, sf: sf)
    }
}

/// K-grouped references: `D[g] = C[g] + Σ_{k in group g} A[k]ᵀ ⊗ B[k]` in FP64.
enum KGroupedReference {
    /// Rows [ΣK][MN] of a k-grouped operand: `data` times the group-local scale row of each K row
    /// (`sf` [Σ ceil(k_g/granK), MN]), or the plain values without `sf`.
    static func values(_ data: Tensor, sf: Tensor?, ranges: [Range<Int>], granK: Int) -> [[Double]] {
        let mn = data.size(1), flat = data.doubleValues()
        var rows = (0..<data.size(0)).map { Array(flat[($0 * mn)..<(($0 + 1) * mn)]) }
        guard let sf else { return rows }
        let scales = sf.doubleValues()
        var scaleRow = 0
        for range in ranges {
            for k in range {
                let row = scaleRow + (k - range.lowerBound) / granK
                for column in 0..<mn { rows[k][column] *= scales[row * mn + column] }
            }
            scaleRow += ceilDiv(range.count, granK)
        }
        return rows
    }

    /// `Σ a[k]ᵀ b[k]` over each group's rows, flattened [G, M, N], with the sums of |products|.
    static func product(_ a: [[Double]], _ b: [[Double]], ranges: [Range<Int>], m: Int, n: Int) -> (values: [Double], magnitudes: [Double]) {
        var values = [Double](repeating: 0, count: ranges.count * m * n), magnitudes = values
        for (group, range) in ranges.enumerated() {
            for k in range {
                for i in 0..<m {
                    for j in 0..<n {
                        let product = a[k][i] * b[k][j], index = (group * m + i) * n + j
                        values[index] += product
                        magnitudes[index] += abs(product)
                    }
                }
            }
        }
        return (values, magnitudes)
    }

    /// `c + values`, elementwise.
    static func plus(_ c: [Double], _ values: [Double]) -> [Double] { zip(c, values).map(+) }
}

/// M-grouped (spec §7) and k-grouped (spec §8) GEMMs against FP64 references of their quantized
/// inputs, against the unquantized BF16 products with DeepGEMM's thresholds, and against the dense
/// ops run group by group.
@Suite struct GroupedGEMMTests {
    /// One FP8/FP4 m-grouped contiguous case.
    struct ContiguousCase: Sendable, CustomTestStringConvertible {
        var layout: GEMMLayout
        var a: Quantization
        var b: Quantization
        var k: Int
        var alignment: Int
        var psum = false
        var recipePair = false
        var strictArch: ArchPersonality?
        var threshold: Double

        var testDescription: String {
            "\(layout) \(a)·\(b) k=\(k) α=\(alignment)\(psum ? " psum" : "")\(strictArch.map { " \($0)" } ?? "")"
        }
    }

    static let contiguousCases: [ContiguousCase] = [
        // SM90-style scales (any F32 values), per-block B, K tail.
        ContiguousCase(layout: .nt, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerBlock(ue8m0: false), k: 200, alignment: 128, threshold: 1e-3),
        // MN-major B through nn, α = 224, exactly SM100's rules.
        ContiguousCase(layout: .nn, a: .fp8PerToken(granK: 128, ue8m0: true), b: .fp8PerBlock(ue8m0: true), k: 256, alignment: 224,
                       strictArch: .sm100, threshold: 1e-3),
        ContiguousCase(layout: .nt, a: .fp8PerToken(granK: 128, ue8m0: true), b: .fp4PerToken(granK: 32), k: 256, alignment: 128,
                       recipePair: true, threshold: 1e-2),
        ContiguousCase(layout: .nn, a: .fp4PerToken(granK: 32), b: .fp4PerToken(granK: 32), k: 192, alignment: 128, recipePair: true, threshold: 2e-2),
        ContiguousCase(layout: .nt, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerBlock(ue8m0: false), k: 384, alignment: 128,
                       strictArch: .sm90, threshold: 1e-3),
        ContiguousCase(layout: .nt, a: .fp8PerToken(granK: 128, ue8m0: true), b: .fp8PerBlock(ue8m0: true), k: 256, alignment: 128, psum: true,
                       strictArch: .sm100, threshold: 1e-3),
        ContiguousCase(layout: .nn, a: .fp8PerToken(granK: 128, ue8m0: true), b: .fp8PerBlock(ue8m0: true), k: 128, alignment: 224, psum: true,
                       threshold: 1e-3),
        // Per-block A scales (recipe_a = (128, 128), accepted by the union): groups start at rows 224 and 448, inside scale blocks.
        ContiguousCase(layout: .nt, a: .fp8PerBlock(ue8m0: false), b: .fp8PerBlock(ue8m0: false), k: 256, alignment: 224, recipePair: true,
                       threshold: 1e-3),
    ]

    @Test(arguments: contiguousCases)
    func fp8FP4ContiguousMatchesReferences(_ t: ContiguousCase) throws {
        let n = 40
        let inputs = try MGroupedContiguousInputs(groupMs: [70, 0, 150], n: n, k: t.k, alignment: t.alignment, psum: t.psum, seed: 1)
        let (a, recipeA) = try t.a.apply(inputs.x)
        let (b, recipeB) = try GroupedQuantization.stacked(inputs.y, t.b)
        let d = Tensor.randn([inputs.m, n], dtype: .bfloat16, seed: 9), before = d.clone()
        let settings = DeepGEMMSettings(arch: t.strictArch ?? .sm100, mkAlignmentForContiguousLayout: t.alignment)
        try mGroupedFP8FP4GEMMContiguous(t.layout, a: a, b: t.layout == .nn ? GroupedQuantization.transposedGroups(b) : b, d: d,
                                         groupedLayout: inputs.layout, recipe: t.recipePair ? nil : [recipeA[0], recipeB[0], recipeA[1]],
                                         recipeA: t.recipePair ? recipeA : nil, recipeB: t.recipePair ? recipeB : nil,
                                         usePsumLayout: t.psum, settings: settings, strictArch: t.strictArch != nil)

        let aValues = try DenseReference.values(a.data, sf: a.sf, granMN: recipeA[0], granK: recipeA[1])
        let bValues = try (0..<3).map { try GroupedReference.groupValues(b, group: $0, granMN: recipeB[0], granK: recipeB[1]) }
        // Padding and gap rows have zero A, so they come out as zero rows.
        DenseReference.expectMatches(d, product: GroupedReference.product(aValues, bValues, rowGroups: inputs.rowGroups))
        let unquantized = GroupedReference.product(try DenseReference.values(inputs.x),
                                                   try (0..<3).map { try DenseReference.values(inputs.y.select(dim: 0, index: $0)) },
                                                   rowGroups: inputs.rowGroups)
        #expect(calcDiff(d.doubleValues(), unquantized.values) < t.threshold)
        #expect(bitwiseMismatch(d, before) != nil)
    }

    @Test(arguments: [(GEMMLayout.nt, 128, false), (.nn, 128, false), (.nt, 224, false), (.nt, 128, true), (.nn, 224, true)])
    func bf16ContiguousMatchesReferences(layout: GEMMLayout, alignment: Int, psum: Bool) throws {
        let n = 48, k = 72
        let inputs = try MGroupedContiguousInputs(groupMs: [100, 160, 0, 33], n: n, k: k, alignment: alignment, psum: psum, seed: 3)
        let d = Tensor.randn([inputs.m, n], dtype: .bfloat16, seed: 4)
        let b = layout == .nn ? try inputs.y.transposed(1, 2).contiguous() : inputs.y
        try mGroupedBF16GEMMContiguous(layout, a: inputs.x, b: b, d: d, groupedLayout: inputs.layout, usePsumLayout: psum,
                                       settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: alignment))
        let product = GroupedReference.product(try DenseReference.values(inputs.x),
                                               try (0..<4).map { try DenseReference.values(inputs.y.select(dim: 0, index: $0)) },
                                               rowGroups: inputs.rowGroups)
        DenseReference.expectMatches(d, product: product)
        #expect(calcDiff(d.doubleValues(), product.values) < 1e-5)
    }

    @Test(arguments: [true, false])
    func psumGapRowsFollowEnsureZeroPadding(ensureZeroPadding: Bool) throws {
        // Groups of 50, 0 and 90 rows at α = 64: starts 0, 64, 64; gaps 50..<64 and 154..<192; M = 256 leaves 192..<256 outside.
        let (n, k, m, alignment) = (24, 64, 256, 64)
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 5), y = Tensor.randn([3, n, k], dtype: .bfloat16, seed: 6)
        for gap in [50..<64, 154..<256] { try x.narrow(dim: 0, start: gap.lowerBound, length: gap.count).zero() }
        let layout = try Tensor([Int32(50), 64, 154], shape: [3])
        let d = Tensor.randn([m, n], dtype: .bfloat16, seed: 7), before = d.doubleValues()
        try mGroupedBF16GEMMContiguous(.nt, a: x, b: y, d: d, groupedLayout: layout, usePsumLayout: true, ensureZeroPadding: ensureZeroPadding,
                                       expectedMForPsumLayout: 50, settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: alignment))
        let rowGroups = (0..<m).map { $0 < 50 ? 0 : (64..<154).contains($0) ? 2 : -1 }
        let product = GroupedReference.product(try DenseReference.values(x), try (0..<3).map { try DenseReference.values(y.select(dim: 0, index: $0)) },
                                               rowGroups: rowGroups)
        let actual = d.doubleValues()
        for row in 0..<m {
            let written = rowGroups[row] >= 0 || (ensureZeroPadding && row < 192)
            for column in 0..<n {
                let index = row * n + column
                if !written {
                    #expect(actual[index] == before[index], "row \(row) must be untouched")
                } else if rowGroups[row] < 0 {
                    #expect(actual[index] == 0, "gap row \(row) of zero A must be zero")
                }
            }
        }
        let valid = (0..<m).filter { rowGroups[$0] >= 0 }.flatMap { row in (0..<n).map { row * n + $0 } }
        #expect(calcDiff(valid.map { actual[$0] }, valid.map { product.values[$0] }) < 1e-5)
    }

    @Test func contiguousEqualsDenseOpsPerGroup() throws {
        let (n, k) = (32, 256)
        let inputs = try MGroupedContiguousInputs(groupMs: [40, 130, 9], n: n, k: k, alignment: 128, psum: false, seed: 11)
        let (a, _) = try Quantization.fp8PerToken(granK: 128, ue8m0: true).apply(inputs.x)
        let (b, _) = try GroupedQuantization.stacked(inputs.y, .fp8PerBlock(ue8m0: true))
        let grouped = Tensor(zeros: [inputs.m, n], dtype: .bfloat16), dense = Tensor(zeros: [inputs.m, n], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nt, a: a, b: b, d: grouped, groupedLayout: inputs.layout)
        let groupedBF16 = Tensor(zeros: [inputs.m, n], dtype: .bfloat16), denseBF16 = Tensor(zeros: [inputs.m, n], dtype: .bfloat16)
        try mGroupedBF16GEMMContiguous(.nt, a: inputs.x, b: inputs.y, d: groupedBF16, groupedLayout: inputs.layout)
        for (group, valid) in inputs.groupRows.enumerated() {
            // Each group's block of rows, padding included, is one dense GEMM with that group's B.
            let rows = valid.lowerBound..<align(valid.upperBound, 128)
            let slice = QuantizedTensor(data: try a.data.narrow(dim: 0, start: rows.lowerBound, length: rows.count),
                                        sf: try a.sf.narrow(dim: 0, start: rows.lowerBound, length: rows.count))
            let weights = QuantizedTensor(data: try b.data.select(dim: 0, index: group), sf: try b.sf.select(dim: 0, index: group))
            try fp8FP4GEMM(.nt, a: slice, b: weights, d: dense.narrow(dim: 0, start: rows.lowerBound, length: rows.count))
            try bf16GEMM(.nt, a: inputs.x.narrow(dim: 0, start: rows.lowerBound, length: rows.count), b: inputs.y.select(dim: 0, index: group),
                         d: denseBF16.narrow(dim: 0, start: rows.lowerBound, length: rows.count))
        }
        #expect(bitwiseMismatch(grouped, dense) == nil)
        #expect(bitwiseMismatch(groupedBF16, denseBF16) == nil)
        #expect(grouped.doubleValues().contains { $0 != 0 })
    }

    @Test func nnEqualsNTBitwise() throws {
        let inputs = try MGroupedContiguousInputs(groupMs: [20, 100], n: 64, k: 128, alignment: 128, psum: false, seed: 13)
        let (a, _) = try Quantization.fp8PerToken(granK: 128, ue8m0: true).apply(inputs.x)
        let (b, _) = try GroupedQuantization.stacked(inputs.y, .fp8PerBlock(ue8m0: true))
        let nt = Tensor(zeros: [inputs.m, 64], dtype: .bfloat16), nn = Tensor(zeros: [inputs.m, 64], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nt, a: a, b: b, d: nt, groupedLayout: inputs.layout)
        try mGroupedFP8FP4GEMMContiguous(.nn, a: a, b: GroupedQuantization.transposedGroups(b), d: nn, groupedLayout: inputs.layout)
        #expect(bitwiseMismatch(nn, nt) == nil)
    }

    @Test func paddingBlocksUseTheirFirstRowsGroup() throws {
        // α = 32: block 32..<64 starts with padding (-1), so it is computed with group 0 like SM100;
        // its A rows are not zero here, so the padding rows show which B was used.
        let (m, n, k, alignment) = (96, 16, 64, 32)
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 15), y = Tensor.randn([2, n, k], dtype: .bfloat16, seed: 16)
        let groups: [Int32] = [Int32](repeating: 1, count: 20) + [Int32](repeating: -1, count: 44) + [Int32](repeating: 1, count: 32)
        let d = Tensor(zeros: [m, n], dtype: .bfloat16)
        try mGroupedBF16GEMMContiguous(.nt, a: x, b: y, d: d, groupedLayout: Tensor(groups, shape: [m]),
                                       settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: alignment))
        let rowGroups = (0..<m).map { $0 < 32 ? 1 : $0 < 64 ? 0 : 1 }
        let product = GroupedReference.product(try DenseReference.values(x), try (0..<2).map { try DenseReference.values(y.select(dim: 0, index: $0)) },
                                               rowGroups: rowGroups)
        DenseReference.expectMatches(d, product: product)
    }

    @Test func maskedLeavesRowsPastTheMaskUntouched() throws {
        let (groups, maxM, n, k) = (3, 48, 40, 256)
        let x = Tensor.randn([groups, maxM, k], dtype: .bfloat16, seed: 21), y = Tensor.randn([groups, n, k], dtype: .bfloat16, seed: 22)
        let counts = [48, 0, 17]
        let maskedM = try Tensor(counts.map(Int32.init), shape: [groups])
        let (a, _) = try GroupedQuantization.stacked(x, .fp8PerToken(granK: 128, ue8m0: true))
        let (b, _) = try GroupedQuantization.stacked(y, .fp8PerBlock(ue8m0: true))
        for (group, count) in counts.enumerated() { try a.sf.select(dim: 0, index: group).narrow(dim: 0, start: count, length: maxM - count).zero() }
        let fp8 = Tensor.randn([groups, maxM, n], dtype: .bfloat16, seed: 23), bf16 = Tensor.randn([groups, maxM, n], dtype: .bfloat16, seed: 24)
        let fp8Before = fp8.clone(), bf16Before = bf16.clone()
        try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: fp8, maskedM: maskedM, expectedM: 32, settings: DeepGEMMSettings(arch: .sm100), strictArch: true)
        try mGroupedBF16GEMMNTMasked(a: x, b: y, d: bf16, maskedM: maskedM, expectedM: 32)

        for (group, count) in counts.enumerated() {
            let rows = 0..<count, rest = count..<maxM
            for (d, before) in [(fp8, fp8Before), (bf16, bf16Before)] {
                let untouched = try d.select(dim: 0, index: group).narrow(dim: 0, start: rest.lowerBound, length: rest.count)
                #expect(bitwiseMismatch(untouched, try before.select(dim: 0, index: group).narrow(dim: 0, start: rest.lowerBound, length: rest.count)) == nil)
            }
            guard count > 0 else { continue }
            let aValues = try GroupedReference.groupValues(a, group: group, granMN: 1, granK: 128)
            let bValues = try GroupedReference.groupValues(b, group: group, granMN: 128, granK: 128)
            let fp8Rows = try fp8.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count)
            DenseReference.expectMatches(fp8Rows, product: DenseReference.product(Array(aValues[rows]), bValues))
            let xRows = try x.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count)
            #expect(try DenseReference.unquantizedDiff(fp8Rows, a: xRows, b: y.select(dim: 0, index: group)) < 1e-3)
            let bf16Rows = try bf16.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count)
            DenseReference.expectMatches(bf16Rows, product: DenseReference.product(try DenseReference.values(xRows),
                                                                                    try DenseReference.values(y.select(dim: 0, index: group))))
            #expect(try DenseReference.unquantizedDiff(bf16Rows, a: xRows, b: y.select(dim: 0, index: group)) < 1e-5)

            // The same rows through the dense ops, bit for bit.
            let dense = Tensor(zeros: [count, n], dtype: .bfloat16), denseBF16 = Tensor(zeros: [count, n], dtype: .bfloat16)
            try fp8FP4GEMM(.nt, a: QuantizedTensor(data: try a.data.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count),
                                                   sf: try a.sf.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count)),
                           b: QuantizedTensor(data: try b.data.select(dim: 0, index: group), sf: try b.sf.select(dim: 0, index: group)), d: dense)
            try bf16GEMM(.nt, a: xRows, b: y.select(dim: 0, index: group), d: denseBF16)
            #expect(bitwiseMismatch(fp8Rows, dense) == nil)
            #expect(bitwiseMismatch(bf16Rows, denseBF16) == nil)
        }
    }

    @Test func maskedFP4MatchesReference() throws {
        let (groups, maxM, n, k) = (2, 24, 32, 128)
        let x = Tensor.randn([groups, maxM, k], dtype: .bfloat16, seed: 25), y = Tensor.randn([groups, n, k], dtype: .bfloat16, seed: 26)
        let (a, recipeA) = try GroupedQuantization.stacked(x, .fp8PerToken(granK: 128, ue8m0: true))
        let (b, recipeB) = try GroupedQuantization.stacked(y, .fp4PerToken(granK: 32))
        let d = Tensor(zeros: [groups, maxM, n], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: d, maskedM: Tensor([Int32(24), 5], shape: [2]), expectedM: 16, recipeA: recipeA, recipeB: recipeB)
        for (group, count) in [24, 5].enumerated() {
            let rows = try d.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count)
            let aValues = try GroupedReference.groupValues(a, group: group, granMN: 1, granK: 128)
            DenseReference.expectMatches(rows, product: DenseReference.product(Array(aValues[0..<count]),
                                                                                try GroupedReference.groupValues(b, group: group, granMN: 1, granK: 32)))
            #expect(try DenseReference.unquantizedDiff(rows, a: x.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count),
                                                       b: y.select(dim: 0, index: group)) < 1e-2)
        }
    }

    /// One k-grouped case: real group K sizes, α, gran_k and the form of the layout.
    struct KGroupedCase: Sendable, CustomTestStringConvertible {
        var realKs: [Int]
        var alignment: Int
        var granK = 128
        var psum = false
        /// PSUM only: how `ks_cpu` is passed (aligned sizes, nil or empty).
        var ksForm = "aligned"
        var packedScales = false

        var testDescription: String {
            "ks=\(realKs) α=\(alignment) gk=\(granK)\(psum ? " psum ks_cpu=\(ksForm)" : "")\(packedScales ? " packed sf" : "")"
        }

        /// The group ranges in the stacked K, the `grouped_layout` values, `ks_cpu` and ΣK.
        var layout: (ranges: [Range<Int>], entries: [Int32], ksCPU: [Int]?, sumK: Int) {
            let aligned = realKs.map { align($0, alignment) }
            var ranges = [Range<Int>](), entries = [Int32](), start = 0
            for (real, padded) in zip(realKs, aligned) {
                // Non-PSUM groups use their aligned size (DeepGEMM's tests pass aligned K sizes there).
                let size = psum ? real : padded
                ranges.append(start..<(start + size))
                entries.append(Int32(psum ? start + real : padded))
                start += padded
            }
            let ks: [Int]? = !psum || ksForm == "aligned" ? aligned : ksForm == "empty" ? [] : nil
            return (ranges, entries, ks, start)
        }
    }

    static let kGroupedFP8Cases: [KGroupedCase] = [
        KGroupedCase(realKs: [128, 0, 256], alignment: 128),
        KGroupedCase(realKs: [96, 64, 0], alignment: 32, granK: 32, packedScales: true),
        KGroupedCase(realKs: [100, 0, 37], alignment: 160, granK: 32, psum: true),
        KGroupedCase(realKs: [200, 130], alignment: 128, psum: true, ksForm: "none", packedScales: true),
        KGroupedCase(realKs: [61, 192, 1], alignment: 224, psum: true, ksForm: "empty"),
    ]

    @Test(arguments: kGroupedFP8Cases)
    func kGroupedFP8TNMatchesReferences(_ t: KGroupedCase) throws {
        let (m, n) = (24, 40)
        let (ranges, entries, ksCPU, sumK) = t.layout
        let x = Tensor.randn([sumK, m], dtype: .bfloat16, seed: 31), y = Tensor.randn([sumK, n], dtype: .bfloat16, seed: 32)
        for gap in zip(ranges, ranges.dropFirst().map(\.lowerBound) + [sumK]).map({ $0.upperBound..<$1 }) where !gap.isEmpty {
            try x.narrow(dim: 0, start: gap.lowerBound, length: gap.count).zero()
            try y.narrow(dim: 0, start: gap.lowerBound, length: gap.count).zero()
        }
        let a = try GroupedQuantization.kGroupedPerChannel(x, ranges: ranges, granK: t.granK, ue8m0: true)
        let b = try GroupedQuantization.kGroupedPerChannel(y, ranges: ranges, granK: t.granK, ue8m0: true)
        let settings = DeepGEMMSettings(mkAlignmentForContiguousLayout: t.alignment)
        let layout = try Tensor(entries, shape: [entries.count])
        func packed(_ q: QuantizedTensor) throws -> QuantizedTensor {
            guard t.packedScales else { return q }
            return QuantizedTensor(data: q.data, sf: try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
                q.sf, groupedLayout: layout, ksCPU: ksCPU, granK: t.granK, kAlignment: t.alignment, usePsumLayout: t.psum))
        }
        let d = Tensor.randn([ranges.count, m, n], dtype: .float32, seed: 33, scale: 32), c = d.doubleValues()
        try kGroupedFP8GEMMContiguous(.tn, a: packed(a), b: packed(b), d: d, ksCPU: ksCPU, groupedLayout: layout, c: d,
                                      recipe: [1, 1, t.granK], usePsumLayout: t.psum, settings: settings)

        let expected = KGroupedReference.product(KGroupedReference.values(a.data, sf: a.sf, ranges: ranges, granK: t.granK),
                                                 KGroupedReference.values(b.data, sf: b.sf, ranges: ranges, granK: t.granK), ranges: ranges, m: m, n: n)
        DenseReference.expectMatches(d, product: expected, c: c)
        let unquantized = KGroupedReference.product(KGroupedReference.values(x, sf: nil, ranges: ranges, granK: 1),
                                                    KGroupedReference.values(y, sf: nil, ranges: ranges, granK: 1), ranges: ranges, m: m, n: n)
        #expect(calcDiff(d.doubleValues(), KGroupedReference.plus(c, unquantized.values)) < 1e-3)
        // Empty groups keep C exactly.
        for (group, range) in ranges.enumerated() where range.isEmpty {
            #expect(bitwiseMismatch(try d.select(dim: 0, index: group), try Tensor(converting: Array(c[(group * m * n)..<((group + 1) * m * n)]), shape: [m, n], dtype: .float32)) == nil)
        }
    }

    @Test func kGroupedFP8NTUsesFlatPerGroupBlocks() throws {
        // SM90's layout: group g of A is a row-major [M, k_g] block at element M·ks_g of a flat buffer.
        let (m, n, ks) = (16, 24, [128, 0, 256])
        let ranges = [0..<128, 128..<128, 128..<384], sumK = 384
        let x = Tensor.randn([sumK, m], dtype: .bfloat16, seed: 41), y = Tensor.randn([sumK, n], dtype: .bfloat16, seed: 42)
        let a = try GroupedQuantization.kGroupedPerChannel(x, ranges: ranges, granK: 128, ue8m0: false)
        let b = try GroupedQuantization.kGroupedPerChannel(y, ranges: ranges, granK: 128, ue8m0: false)
        func flat(_ data: Tensor, _ mn: Int) throws -> Tensor {
            let result = Tensor(zeros: [sumK * mn], dtype: .float8E4M3)
            for range in ranges where !range.isEmpty {
                try result.narrow(dim: 0, start: mn * range.lowerBound, length: mn * range.count).reshaped([mn, range.count])
                    .copy(from: data.narrow(dim: 0, start: range.lowerBound, length: range.count).transposed())
            }
            return result
        }
        let layout = try Tensor(ks.map(Int32.init), shape: [3])
        let d = Tensor.randn([3, m, n], dtype: .float32, seed: 43, scale: 32), c = d.clone()
        try kGroupedFP8GEMMContiguous(.nt, a: QuantizedTensor(data: flat(a.data, m), sf: a.sf.transposed()),
                                      b: QuantizedTensor(data: flat(b.data, n), sf: b.sf.transposed()), d: d, ksCPU: ks, groupedLayout: layout, c: c,
                                      settings: DeepGEMMSettings(arch: .sm90), strictArch: true)
        let expected = KGroupedReference.product(KGroupedReference.values(a.data, sf: a.sf, ranges: ranges, granK: 128),
                                                 KGroupedReference.values(b.data, sf: b.sf, ranges: ranges, granK: 128), ranges: ranges, m: m, n: n)
        DenseReference.expectMatches(d, product: expected, c: c.doubleValues())
        let unquantized = KGroupedReference.product(KGroupedReference.values(x, sf: nil, ranges: ranges, granK: 1),
                                                    KGroupedReference.values(y, sf: nil, ranges: ranges, granK: 1), ranges: ranges, m: m, n: n)
        #expect(calcDiff(d.doubleValues(), KGroupedReference.plus(c.doubleValues(), unquantized.values)) < 1e-3)
        #expect(bitwiseMismatch(try d.select(dim: 0, index: 1), try c.select(dim: 0, index: 1)) == nil)
    }

    static let kGroupedBF16Cases: [KGroupedCase] = [
        KGroupedCase(realKs: [128, 0, 256], alignment: 128),
        // K tails: group sizes that are not multiples of any block.
        KGroupedCase(realKs: [32, 100, 7], alignment: 32, psum: true),
        KGroupedCase(realKs: [0, 50], alignment: 192, psum: true, ksForm: "none"),
        KGroupedCase(realKs: [60, 1], alignment: 32, psum: true, ksForm: "empty"),
    ]

    @Test(arguments: kGroupedBF16Cases)
    func kGroupedBF16MatchesReference(_ t: KGroupedCase) throws {
        let (m, n) = (20, 36)
        let (ranges, entries, ksCPU, sumK) = t.layout
        let x = Tensor.randn([sumK, m], dtype: .bfloat16, seed: 51), y = Tensor.randn([sumK, n], dtype: .bfloat16, seed: 52)
        let d = Tensor.randn([ranges.count, m, n], dtype: .float32, seed: 53, scale: 32), c = d.clone()
        try kGroupedBF16GEMMTNContiguous(a: x, b: y, d: d, ksCPU: ksCPU, groupedLayout: Tensor(entries, shape: [entries.count]), c: c,
                                         usePsumLayout: t.psum, settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: t.alignment))
        let expected = KGroupedReference.product(KGroupedReference.values(x, sf: nil, ranges: ranges, granK: 1),
                                                 KGroupedReference.values(y, sf: nil, ranges: ranges, granK: 1), ranges: ranges, m: m, n: n)
        DenseReference.expectMatches(d, product: expected, c: c.doubleValues())
        #expect(calcDiff(d.doubleValues(), KGroupedReference.plus(c.doubleValues(), expected.values)) < 1e-5)
    }

    @Test func kGroupedWithNoKCopiesC() throws {
        let c = Tensor.randn([2, 4, 8], dtype: .float32, seed: 61), d = Tensor(zeros: [2, 4, 8], dtype: .float32)
        try kGroupedBF16GEMMTNContiguous(a: Tensor(zeros: [0, 4], dtype: .bfloat16), b: Tensor(zeros: [0, 8], dtype: .bfloat16), d: d,
                                         ksCPU: [0, 0], groupedLayout: Tensor([Int32(0), 0], shape: [2]), c: c)
        #expect(bitwiseMismatch(d, c) == nil)
    }
}
