import DeepGEMM
import DeepGEMMCUDA

/// The SM90 FP8 1D1D kernel's ops as device-check cases (part B): `fp8_gemm_nt` with recipe
/// (1, 1, 128) (F32 D with C) and `k_grouped_fp8_gemm_nt_contiguous`, each run through the public op
/// on device tensors and compared with the same op on the host at DeepGEMM's FP8 bound. No bench
/// cases yet (the torch peer script has no 1D1D operand builder).
enum FP81D1DGEMMCases {
    /// One family for both ops (one kernel family).
    static let families: [DeviceCheckFamily] = [
        DeviceCheckFamily(
            name: "sm90 fp8 1d1d gemm", kernelFamilies: [SM90FP8GEMM1D1DFamily().name], part: .b,
            smoke: FP81D1DCase(m: 128, n: 256, ks: [256]),
            verification: [
                FP81D1DCase(m: 300, n: 520, ks: [1040]), FP81D1DCase(m: 2112, n: 4096, ks: [7168]), FP81D1DCase(m: 64, n: 7168, ks: [2048]),
                FP81D1DCase(m: 4096, n: 7168, ks: [8192, 0, 10624, 6016], grouped: true),
                FP81D1DCase(m: 7168, n: 2048, ks: [2048, 1536, 0, 2688, 2048, 1792, 2560, 2176], grouped: true),
                FP81D1DCase(m: 300, n: 520, ks: [0, 896], grouped: true),
            ],
            benchmark: [],
            host: [FP81D1DCase(m: 72, n: 40, ks: [384]), FP81D1DCase(m: 72, n: 40, ks: [256, 0, 128], grouped: true)]),
    ]
}

/// One call of a 1D1D op: dense (`ks` one K, any length) or k-grouped (`ks` per group, multiples of
/// 128); operands quantized per token per 128 of K with F32 scales in the MN-major TMA-aligned layout.
struct FP81D1DCase: DeviceCheckCase {
    var m: Int
    var n: Int
    var ks: [Int]
    var grouped = false

    var op: String { grouped ? "k_grouped_fp8_gemm_nt_contiguous" : "fp8_gemm_nt" }
    var description: String { grouped ? "\(op) m=\(m) n=\(n) ks=\(ks)" : "\(op) m=\(m) n=\(n) k=\(ks[0]) recipe=(1,1,128)" }
    /// DeepGEMM's FP8 bound.
    var comparison: CaseComparison { .calcDiff(bound: 1e-3) }

    /// The quantized operands and C.
    struct Inputs {
        var a: QuantizedTensor
        var b: QuantizedTensor
        var c: Tensor
    }

    func makeInputs(fast: Bool) throws -> Inputs {
        let shapeC = grouped ? [ks.count, m, n] : [m, n]
        return Inputs(a: try operand(rows: m, seed: seed &+ 1), b: try operand(rows: n, seed: seed &+ 2),
                      c: Tensor.randn(shapeC, dtype: .float32, seed: seed &+ 3))
    }

    /// Dense: [rows, K]. k-grouped: the flat ΣK·rows buffer of row-major [rows, K_g] blocks and the
    /// scales [rows, ΣK/128], group by group.
    func operand(rows: Int, seed: UInt64) throws -> QuantizedTensor {
        guard grouped else {
            let cast = try perTokenCastToFP8(Tensor.randn([rows, ks[0]], dtype: .bfloat16, seed: seed), useUE8M0: false)
            return QuantizedTensor(data: cast.data, sf: try getMNMajorTMAAlignedTensor(cast.sf))
        }
        let sumK = ks.reduce(0, +)
        let data = Tensor(zeros: [sumK * rows], dtype: .float8E4M3), sf = Tensor(zeros: [rows, sumK / 128], dtype: .float32)
        var offset = 0
        for (group, k) in ks.enumerated() where k > 0 {
            let cast = try perTokenCastToFP8(Tensor.randn([rows, k], dtype: .bfloat16, seed: seed &+ UInt64(group) &* 7919), useUE8M0: false)
            try data.narrow(dim: 0, start: rows * offset, length: rows * k).reshaped([rows, k]).copy(from: cast.data)
            try sf.narrow(dim: 1, start: offset / 128, length: k / 128).copy(from: cast.sf)
            offset += k
        }
        return QuantizedTensor(data: data, sf: try getMNMajorTMAAlignedTensor(sf))
    }

    /// The op on `a`, `b` into `d` (holding C), wherever the tensors are.
    func call(a: QuantizedTensor, b: QuantizedTensor, d: Tensor, layout: Tensor) throws {
        if grouped {
            try kGroupedFP8GEMMContiguous(.nt, a: a, b: b, d: d, ksCPU: ks, groupedLayout: layout, c: d)
        } else {
            try fp8FP4GEMM(.nt, a: a, b: b, d: d, c: d, recipe: [1, 1, 128])
        }
    }

    /// The group sizes as the op's int32 `grouped_layout`.
    var groupedLayout: Tensor { get throws { try Tensor(ks.map { Int32($0) }, shape: [ks.count]) } }

    func reference(_ inputs: Inputs) throws -> [Tensor] {
        let d = inputs.c.clone()
        try call(a: inputs.a, b: inputs.b, d: d, layout: groupedLayout)
        return [d]
    }

    func prepareCUDA(_ inputs: Inputs, stream: CUDAStream) throws -> any CaseLauncher {
        try FP81D1DCaseRunner(self, inputs: inputs)
    }

    /// 2·M·N·ΣK; A, B, and D read and written.
    func workload(_ inputs: Inputs) throws -> CaseWorkload {
        CaseWorkload(flops: 2 * Double(m) * Double(n) * Double(ks.reduce(0, +)),
                     bytes: Double(inputs.a.data.byteCount + inputs.b.data.byteCount + 2 * inputs.c.byteCount),
                     fields: [("m", .number(Double(m))), ("n", .number(Double(n))), ("ks", .numbers(ks.map(Double.init)))])
    }

    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        let problem = SM90FP8GEMM1D1DFamily.problem(m: m, n: n, k: ks.max() ?? 0, groups: grouped ? ks.count : 1)
        return [try SM90FP8GEMM1D1DFamily().select(GEMMKernelProblem(problem, numSMs: numSMs, compiledDims: grouped ? "mn" : "nk")).source]
    }
}

/// A 1D1D case's tensors on the GPU; each call restores D from C first.
final class FP81D1DCaseRunner: CaseLauncher {
    let testCase: FP81D1DCase
    let a: QuantizedTensor, b: QuantizedTensor, c: Tensor, d: Tensor, layout: Tensor

    init(_ testCase: FP81D1DCase, inputs: FP81D1DCase.Inputs) throws {
        let device = Device.cuda(0)
        self.testCase = testCase
        a = QuantizedTensor(data: try inputs.a.data.to(device), sf: try inputs.a.sf.to(device))
        b = QuantizedTensor(data: try inputs.b.data.to(device), sf: try inputs.b.sf.to(device))
        c = try inputs.c.to(device)
        d = try inputs.c.to(device)
        layout = try testCase.groupedLayout.to(device)
    }

    func launch() throws {
        try launchSetup()
        try testCase.call(a: a, b: b, d: d, layout: layout)
    }

    var hasSetup: Bool { true }
    func launchSetup() throws { try d.copy(from: c) }
    func outputs() throws -> [Tensor] { [try d.to(.host)] }
}
