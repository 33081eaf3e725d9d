import DeepGEMM
import Testing
@testable import DeepGEMMCUDA

/// The FP8 1D2D ops on the GPU against the CPU backend on the same quantized inputs (skipped
/// without a device): DeepGEMM's FP8 bound (calc_diff < 1e-3) over the rows that carry results.
@Suite("FP8 1D2D ops on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUFP8OpsTests {
    /// DeepGEMM's FP8 x FP8 bound.
    static let tolerance = 1e-3

    /// A per token (F32 scales in the MN-major TMA-aligned layout the SM90 kernel reads).
    static func quantizeA(_ x: Tensor) throws -> QuantizedTensor {
        let cast = try perTokenCastToFP8(x, useUE8M0: false)
        return QuantizedTensor(data: cast.data, sf: try getMNMajorTMAAlignedTensor(cast.sf))
    }

    /// Each group of A [G, M, K] per token, stacked.
    static func quantizeGroupedA(_ x: Tensor) throws -> QuantizedTensor {
        try stack((0..<x.size(0)).map { group in try perTokenCastToFP8(x.select(dim: 0, index: group), useUE8M0: false) }, mnMajorScales: true)
    }

    /// Each group of B [G, N, K] per 128x128 block, stacked.
    static func quantizeGroupedB(_ x: Tensor) throws -> QuantizedTensor {
        try stack((0..<x.size(0)).map { group in try perBlockCastToFP8(x.select(dim: 0, index: group), useUE8M0: false) }, mnMajorScales: false)
    }

    /// Groups stacked along a new first dimension (scales MN-major TMA-aligned when `mnMajorScales`).
    static func stack(_ parts: [QuantizedTensor], mnMajorScales: Bool) throws -> QuantizedTensor {
        let data = Tensor(zeros: [parts.count] + parts[0].data.shape, dtype: .float8E4M3)
        let sf = Tensor(zeros: [parts.count] + parts[0].sf.shape, dtype: .float32)
        for (group, part) in parts.enumerated() {
            try data.select(dim: 0, index: group).copy(from: part.data)
            try sf.select(dim: 0, index: group).copy(from: part.sf)
        }
        return QuantizedTensor(data: data, sf: mnMajorScales ? try getMNMajorTMAAlignedTensor(sf) : sf)
    }

    /// The operand on CUDA device 0, strides kept.
    static func device(_ x: QuantizedTensor) throws -> QuantizedTensor {
        QuantizedTensor(data: try x.data.to(.cuda(0)), sf: try x.sf.to(.cuda(0)))
    }

    @Test("fp8_gemm_nt matches the CPU backend: decode, K and N tails, multicast-sized and 144/192-wide tiles",
          arguments: [(1, 2112, 7168), (130, 520, 1040), (300, 576, 7168), (1024, 2112, 1536), (2048, 4096, 512), (4096, 7168, 256)])
    func dense(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let a = try Self.quantizeA(Tensor.randn([m, k], dtype: .bfloat16, seed: 1))
        let b = try perBlockCastToFP8(Tensor.randn([n, k], dtype: .bfloat16, seed: 2), useUE8M0: false)
        let expected = Tensor(zeros: [m, n], dtype: .bfloat16)
        try fp8FP4GEMM(.nt, a: a, b: b, d: expected)
        let d = try Tensor(zeros: [m, n], dtype: .bfloat16).to(.cuda(0))
        try fp8FP4GEMM(.nt, a: Self.device(a), b: Self.device(b), d: d)
        let difference = try calcDiff(d.to(.host), expected)
        #expect(difference < Self.tolerance, "\(shape): calc_diff \(difference)")
    }

    /// Group sizes with an empty group, a group under one block and one over two blocks.
    static let groupRows = [200, 0, 57, 384]

    @Test("m_grouped_fp8_gemm_nt_contiguous matches the CPU backend, per-row layout and psum layout, with an empty group",
          arguments: [false, true])
    func contiguous(psum: Bool) throws {
        let (n, k, alignment) = (1024, 1536, 128)
        var groupOfRow: [Int32] = [], ends: [Int32] = []
        for (group, rows) in Self.groupRows.enumerated() {
            ends.append(Int32(groupOfRow.count + rows))
            groupOfRow += Array(repeating: Int32(group), count: rows) + Array(repeating: -1, count: align(rows, alignment) - rows)
        }
        let m = groupOfRow.count
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 3)
        for (row, group) in groupOfRow.enumerated() where group < 0 { try x.select(dim: 0, index: row).zero() }
        let a = try Self.quantizeA(x)
        let b = try Self.quantizeGroupedB(Tensor.randn([Self.groupRows.count, n, k], dtype: .bfloat16, seed: 4))
        let layout = psum ? try Tensor(ends, shape: [ends.count]) : try Tensor(groupOfRow, shape: [m])
        let expected = Tensor(zeros: [m, n], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nt, a: a, b: b, d: expected, groupedLayout: layout, usePsumLayout: psum)
        let d = try Tensor(zeros: [m, n], dtype: .bfloat16).to(.cuda(0))
        try mGroupedFP8FP4GEMMContiguous(.nt, a: Self.device(a), b: Self.device(b), d: d, groupedLayout: layout.to(.cuda(0)), usePsumLayout: psum)
        let difference = try calcDiff(d.to(.host), expected)
        #expect(difference < Self.tolerance, "psum \(psum): calc_diff \(difference)")
    }

    @Test("m_grouped_fp8_gemm_nt_masked matches the CPU backend on each group's first masked_m rows (one group empty)")
    func masked() throws {
        let (groups, maxM, n, k) = (4, 320, 1024, 1040)
        let maskedM: [Int32] = [0, 17, 128, 300]
        let a = try Self.quantizeGroupedA(Tensor.randn([groups, maxM, k], dtype: .bfloat16, seed: 5))
        let b = try Self.quantizeGroupedB(Tensor.randn([groups, n, k], dtype: .bfloat16, seed: 6))
        let layout = try Tensor(maskedM, shape: [groups])
        let expected = Tensor(zeros: [groups, maxM, n], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: expected, maskedM: layout, expectedM: 150)
        let d = try Tensor(zeros: [groups, maxM, n], dtype: .bfloat16).to(.cuda(0))
        try mGroupedFP8FP4GEMMNTMasked(a: Self.device(a), b: Self.device(b), d: d, maskedM: layout.to(.cuda(0)), expectedM: 150)
        let result = try d.to(.host)
        var x: [Double] = [], y: [Double] = []
        for (group, rows) in maskedM.enumerated() where rows > 0 {
            x += try result.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: Int(rows)).doubleValues()
            y += try expected.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: Int(rows)).doubleValues()
        }
        let difference = calcDiff(x, y)
        #expect(difference < Self.tolerance, "calc_diff \(difference)")
    }

    @Test("fp8_gemm_nt_skip_head_mid matches the CPU backend and leaves the Mid columns untouched")
    func skipHeadMid() throws {
        let (m, heads, k) = (256, 8, 512)
        let splits = [128, 64, 128]
        let n = heads * (splits[0] + splits[2]), width = n + heads * splits[1]
        let a = try Self.quantizeA(Tensor.randn([m, k], dtype: .bfloat16, seed: 9))
        let b = try perBlockCastToFP8(Tensor.randn([n, k], dtype: .bfloat16, seed: 10), useUE8M0: false)
        let initial = Tensor.randn([m, width], dtype: .bfloat16, seed: 11)
        let expected = initial.clone()
        try fp8GEMMNTSkipHeadMid(a: a, b: b, d: expected, headSplits: splits)
        let d = try initial.to(.cuda(0))
        try fp8GEMMNTSkipHeadMid(a: Self.device(a), b: Self.device(b), d: d, headSplits: splits)
        let result = try d.to(.host)
        let difference = try calcDiff(result, expected)
        #expect(difference < Self.tolerance, "calc_diff \(difference)")
        for head in 0..<heads {
            let gap = head * (splits[0] + splits[1] + splits[2]) + splits[0]
            #expect(try result.narrow(dim: 1, start: gap, length: splits[1]).bitwiseEqual(initial.narrow(dim: 1, start: gap, length: splits[1])))
        }
    }

    @Test("A scales as the cast leaves them (K-major) are brought into the kernel's layout, as DeepGEMM does: dense and masked match the CPU backend")
    func kMajorScales() throws {
        let a = try perTokenCastToFP8(Tensor.randn([130, 1040], dtype: .bfloat16, seed: 7), useUE8M0: false)
        let b = try perBlockCastToFP8(Tensor.randn([256, 1040], dtype: .bfloat16, seed: 8), useUE8M0: false)
        #expect(a.sf.stride(-1) == 1, "the cast's scales are K-major")
        let expected = Tensor(zeros: [130, 256], dtype: .bfloat16)
        try fp8FP4GEMM(.nt, a: a, b: b, d: expected)
        let d = try Tensor(zeros: [130, 256], dtype: .bfloat16).to(.cuda(0))
        try fp8FP4GEMM(.nt, a: Self.device(a), b: Self.device(b), d: d)
        #expect(try calcDiff(d.to(.host), expected) < Self.tolerance)

        let groups = 3, rows = 96
        let x = Tensor.randn([groups, rows, 512], dtype: .bfloat16, seed: 9)
        let cast = try perTokenCastToFP8(x.reshaped([groups * rows, 512]), useUE8M0: false)
        let grouped = QuantizedTensor(data: try cast.data.reshaped([groups, rows, 512]), sf: try cast.sf.reshaped([groups, rows, 4]))
        let groupedB = try Self.quantizeGroupedB(Tensor.randn([groups, 256, 512], dtype: .bfloat16, seed: 10))
        let maskedM = try Tensor([Int32(96), 0, 37], shape: [groups])
        let hostD = Tensor(zeros: [groups, rows, 256], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMNTMasked(a: grouped, b: groupedB, d: hostD, maskedM: maskedM, expectedM: 64)
        let deviceD = try Tensor(zeros: [groups, rows, 256], dtype: .bfloat16).to(.cuda(0))
        try mGroupedFP8FP4GEMMNTMasked(a: Self.device(grouped), b: Self.device(groupedB), d: deviceD, maskedM: maskedM.to(.cuda(0)), expectedM: 64)
        let result = try deviceD.to(.host)
        for (group, count) in [96, 0, 37].enumerated() where count > 0 {
            let rowsOf = { (t: Tensor) in try t.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count) }
            #expect(try calcDiff(rowsOf(result), rowsOf(hostD)) < Self.tolerance, "group \(group)")
        }
    }
}
