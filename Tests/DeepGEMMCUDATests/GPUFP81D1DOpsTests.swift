import DeepGEMM
import Testing
@testable import DeepGEMMCUDA

/// The FP8 1D1D ops on the GPU (SM90's `sm90_fp8_gemm_1d1d` kernel) against the CPU backend on the
/// same quantized inputs (skipped without a device): DeepGEMM's FP8 bound (calc_diff < 1e-3).
@Suite("FP8 1D1D ops on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUFP81D1DOpsTests {
    /// DeepGEMM's FP8 x FP8 bound.
    static let tolerance = 1e-3

    /// Rows cast per token (per 128 of K), scales in the MN-major TMA-aligned layout the kernel reads.
    static func quantizePerRow(_ x: Tensor) throws -> QuantizedTensor {
        let cast = try perTokenCastToFP8(x, useUE8M0: false)
        return QuantizedTensor(data: cast.data, sf: try getMNMajorTMAAlignedTensor(cast.sf))
    }

    /// The operand on CUDA device 0, strides kept.
    static func device(_ x: QuantizedTensor) throws -> QuantizedTensor {
        QuantizedTensor(data: try x.data.to(.cuda(0)), sf: try x.sf.to(.cuda(0)))
    }

    @Test("fp8_gemm_nt with recipe (1, 1, 128) matches the CPU backend: D = C + A·Bᵀ in F32, K tails, M and N not multiples of the block",
          arguments: [(300, 520, 1040), (576, 4096, 1536), (2112, 4096, 7168), (64, 7168, 2048), (4096, 4096, 512)])
    func dense(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let a = try Self.quantizePerRow(Tensor.randn([m, k], dtype: .bfloat16, seed: 21))
        let b = try Self.quantizePerRow(Tensor.randn([n, k], dtype: .bfloat16, seed: 22))
        let c = Tensor.randn([m, n], dtype: .float32, seed: 23)
        let expected = Tensor(zeros: [m, n], dtype: .float32)
        try fp8FP4GEMM(.nt, a: a, b: b, d: expected, c: c, recipe: [1, 1, 128])
        let d = try Tensor(zeros: [m, n], dtype: .float32).to(.cuda(0))
        try fp8FP4GEMM(.nt, a: Self.device(a), b: Self.device(b), d: d, c: c.to(.cuda(0)), recipe: [1, 1, 128])
        let difference = try calcDiff(d.to(.host), expected)
        #expect(difference < Self.tolerance, "\(shape): calc_diff \(difference)")
    }

    /// `k_grouped_fp8_gemm_nt_contiguous`'s operands: flat FP8 buffers of ΣK·rows elements (group g's
    /// row-major [rows, K_g] block after the previous groups') and F32 scales [rows, ΣK/128].
    static func kGroupedOperand(rows: Int, ks: [Int], seed: UInt64) throws -> QuantizedTensor {
        let sumK = ks.reduce(0, +)
        let data = Tensor(zeros: [sumK * rows], dtype: .float8E4M3)
        let sf = Tensor(zeros: [rows, sumK / 128], dtype: .float32)
        var offset = 0
        for (group, k) in ks.enumerated() where k > 0 {
            let cast = try perTokenCastToFP8(Tensor.randn([rows, k], dtype: .bfloat16, seed: seed &+ UInt64(group)), useUE8M0: false)
            try data.narrow(dim: 0, start: rows * offset, length: rows * k).reshaped([rows, k]).copy(from: cast.data)
            try sf.narrow(dim: 1, start: offset / 128, length: k / 128).copy(from: cast.sf)
            offset += k
        }
        return QuantizedTensor(data: data, sf: try getMNMajorTMAAlignedTensor(sf))
    }

    @Test("k_grouped_fp8_gemm_nt_contiguous matches the CPU backend, empty groups keeping C, one-group and many-group forms",
          arguments: [[256, 0, 128, 640], [0, 1024], [384, 128, 0, 256, 512, 128, 0, 256], [896]])
    func kGrouped(ks: [Int]) throws {
        let (m, n) = (300, 520)
        let a = try Self.kGroupedOperand(rows: m, ks: ks, seed: 31)
        let b = try Self.kGroupedOperand(rows: n, ks: ks, seed: 41)
        let layout = try Tensor(ks.map { Int32($0) }, shape: [ks.count])
        let initial = Tensor.randn([ks.count, m, n], dtype: .float32, seed: 51)
        let expected = initial.clone()
        try kGroupedFP8GEMMContiguous(.nt, a: a, b: b, d: expected, ksCPU: ks, groupedLayout: layout, c: expected)
        let d = try initial.to(.cuda(0))
        try kGroupedFP8GEMMContiguous(.nt, a: Self.device(a), b: Self.device(b), d: d, ksCPU: ks, groupedLayout: layout.to(.cuda(0)), c: d)
        let result = try d.to(.host)
        let difference = try calcDiff(result, expected)
        #expect(difference < Self.tolerance, "\(ks): calc_diff \(difference)")
        for (group, k) in ks.enumerated() where k == 0 {
            #expect(try result.select(dim: 0, index: group).bitwiseEqual(initial.select(dim: 0, index: group)), "empty group \(group) must keep C")
        }
    }

    @Test("B scales not in the MN-major TMA-aligned layout are refused on the device, naming b_sf")
    func kMajorScalesB() throws {
        let a = try Self.quantizePerRow(Tensor.randn([64, 256], dtype: .bfloat16, seed: 61))
        let b = try perTokenCastToFP8(Tensor.randn([128, 256], dtype: .bfloat16, seed: 62), useUE8M0: false)
        let d = try Tensor(zeros: [64, 128], dtype: .float32).to(.cuda(0))
        do {
            try fp8FP4GEMM(.nt, a: Self.device(a), b: Self.device(b), d: d, c: d, recipe: [1, 1, 128])
            Issue.record("K-major B scales were accepted")
        } catch let DeepGEMMError.invalidArgument(argument, _) {
            #expect(argument == "b_sf")
        }
    }
}

/// The host side of the GPU suite's k-grouped inputs, and the model the k-grouped kernel follows:
/// every group is a dense 1D1D GEMM on its block of the flat operands and its columns of the scales.
@Suite("FP8 1D1D k-grouped inputs (host)")
struct KGroupedFP81D1DHostTests {
    @Test("k_grouped_fp8_gemm_nt_contiguous on the CPU equals one dense 1D1D fp8_gemm_nt per group on the group's views")
    func groupsAreDenseGEMMs() throws {
        let (m, n) = (72, 40)
        let ks = [256, 0, 128]
        let a = try GPUFP81D1DOpsTests.kGroupedOperand(rows: m, ks: ks, seed: 71)
        let b = try GPUFP81D1DOpsTests.kGroupedOperand(rows: n, ks: ks, seed: 81)
        let initial = Tensor.randn([ks.count, m, n], dtype: .float32, seed: 91)
        let d = initial.clone()
        try kGroupedFP8GEMMContiguous(.nt, a: a, b: b, d: d, ksCPU: ks, groupedLayout: Tensor(ks.map { Int32($0) }, shape: [ks.count]), c: d)
        var offset = 0
        for (group, k) in ks.enumerated() {
            defer { offset += k }
            let expected = try initial.select(dim: 0, index: group).clone()
            if k > 0 {
                func view(_ x: QuantizedTensor, rows: Int) throws -> QuantizedTensor {
                    QuantizedTensor(data: try x.data.narrow(dim: 0, start: rows * offset, length: rows * k).reshaped([rows, k]),
                                    sf: try x.sf.narrow(dim: 1, start: offset / 128, length: k / 128))
                }
                try fp8FP4GEMM(.nt, a: view(a, rows: m), b: view(b, rows: n), d: expected, c: expected, recipe: [1, 1, 128])
            }
            #expect(try d.select(dim: 0, index: group).bitwiseEqual(expected), "group \(group)")
        }
        #expect(try !d.select(dim: 0, index: 0).bitwiseEqual(initial.select(dim: 0, index: 0)))
    }
}
