import DeepGEMM
import DeepGEMMCUDA

/// `einsum` and `tf32_hc_prenorm_gemm` as device-check cases (part B): the public ops on device
/// tensors against the same calls on host tensors, at DeepGEMM's bounds (1e-5 for `bmk,bnk->mn`,
/// 1e-10 for the per-head `bh*` expressions, 1e-3 for `fp8_einsum`, 1e-8 for HC prenorm summed over
/// its splits). No bench cases yet: scripts/device/torch_bench.py has no peer for them.
enum EinsumHCCases {
    /// The batched-sum einsum (with the per-head expressions, which run the BF16 GEMM kernel), and HC prenorm.
    static let families: [DeviceCheckFamily] = [
        DeviceCheckFamily(
            name: "sm90 einsum", kernelFamilies: [SM90BatchedSumFamily().name], part: .b,
            smoke: EinsumHCCase(.batchedSum(s: 129, m: 128, n: 384, k: 128, outputType: .float32)),
            verification: [
                EinsumHCCase(.batchedSum(s: 129, m: 128, n: 384, k: 128, outputType: .float32)),
                EinsumHCCase(.batchedSum(s: 4096, m: 384, n: 128, k: 384, outputType: .bfloat16)),
                EinsumHCCase(.perHead(expression: "bhr,hdr->bhd", h: 128, r: 512, d: 128, batch: 4)),
                EinsumHCCase(.perHead(expression: "bhd,hdr->bhr", h: 8, r: 4096, d: 1024, batch: 129)),
                EinsumHCCase(.fp8PerHead(h: 8, r: 4096, d: 1024, batch: 4)),
                EinsumHCCase(.fp8PerHead(h: 8, r: 4096, d: 1024, batch: 129)),
            ],
            benchmark: [],
            host: [EinsumHCCase(.batchedSum(s: 5, m: 64, n: 64, k: 64, outputType: .bfloat16)),
                   EinsumHCCase(.perHead(expression: "bhr,hdr->bhd", h: 2, r: 128, d: 64, batch: 3)),
                   EinsumHCCase(.fp8PerHead(h: 2, r: 256, d: 128, batch: 3))]),
        DeviceCheckFamily(
            name: "sm90 hc prenorm", kernelFamilies: [SM90HCPrenormFamily().name], part: .b,
            smoke: EinsumHCCase(.hcPrenorm(m: 64, n: 24, k: 7680, splits: nil)),
            verification: [
                EinsumHCCase(.hcPrenorm(m: 13, n: 24, k: 7680, splits: nil)), EinsumHCCase(.hcPrenorm(m: 4096, n: 24, k: 7680, splits: 16)),
                EinsumHCCase(.hcPrenorm(m: 137, n: 16, k: 7168, splits: 200)),
            ],
            benchmark: [],
            host: [EinsumHCCase(.hcPrenorm(m: 13, n: 24, k: 512, splits: 4))]),
    ]
}

/// One call of `einsum` or `tf32_hc_prenorm_gemm`.
struct EinsumHCCase: DeviceCheckCase {
    /// The op and its shape.
    enum Call: Sendable {
        /// `einsum("bmk,bnk->mn")`: A [S, M, K], B [S, N, K], D [M, N] (F32 D also accumulates C = D).
        case batchedSum(s: Int, m: Int, n: Int, k: Int, outputType: DType)
        /// `bhr,hdr->bhd` or `bhd,hdr->bhr` with B a `[:, :, :r]` slice of [h, d, r + 128].
        case perHead(expression: String, h: Int, r: Int, d: Int, batch: Int)
        /// `fp8_einsum("bhr,hdr->bhd")` on DeepGEMM's test operands: A [batch, h, r] cast per token
        /// with its scales [batch, h, r/128] as the cast leaves them (K-major: the op brings them into
        /// the layout the kernel reads), B [h, d, r] cast per 128x128 block per head, D BF16.
        case fp8PerHead(h: Int, r: Int, d: Int, batch: Int)
        /// `tf32_hc_prenorm_gemm`: A BF16 [M, K], B F32 [N, K], D and sqr_sum with `splits` splits (2-D when nil).
        case hcPrenorm(m: Int, n: Int, k: Int, splits: Int?)
    }

    /// The call.
    var call: Call

    /// Creates a case.
    init(_ call: Call) { self.call = call }

    /// DeepGEMM's op name.
    var op: String {
        switch call {
        case .hcPrenorm: "tf32_hc_prenorm_gemm"
        case .fp8PerHead: "fp8_einsum"
        case .batchedSum, .perHead: "einsum"
        }
    }

    /// The op, expression and shape.
    var description: String {
        switch call {
        case .batchedSum(let s, let m, let n, let k, let outputType):
            "einsum bmk,bnk->mn S=\(s) M=\(m) N=\(n) K=\(k) \(outputType == .float32 ? "f32 +c" : "bf16")"
        case .perHead(let expression, let h, let r, let d, let batch): "einsum \(expression) h=\(h) r=\(r) d=\(d) b=\(batch)"
        case .fp8PerHead(let h, let r, let d, let batch): "fp8_einsum bhr,hdr->bhd h=\(h) r=\(r) d=\(d) b=\(batch)"
        case .hcPrenorm(let m, let n, let k, let splits): "tf32_hc_prenorm_gemm m=\(m) n=\(n) k=\(k) num_splits=\(splits.map(String.init) ?? "None")"
        }
    }

    /// DeepGEMM's bound of the op.
    var comparison: CaseComparison {
        switch call {
        case .batchedSum: .calcDiff(bound: 1e-5)
        case .perHead: .calcDiff(bound: 1e-10)
        case .fp8PerHead: .calcDiff(bound: 1e-3)
        case .hcPrenorm: .calcDiff(bound: 1e-8)
        }
    }

    /// The operands first, then the outputs with their initial values (D, and sqr_sum for HC).
    func makeInputs(fast: Bool) throws -> [Tensor] {
        switch call {
        case .batchedSum(let s, let m, let n, let k, let outputType):
            return [Tensor.randn([s, m, k], dtype: .bfloat16, seed: seed &+ 1), Tensor.randn([s, n, k], dtype: .bfloat16, seed: seed &+ 2),
                    Tensor.randn([m, n], dtype: outputType, seed: seed &+ 3, scale: 8)]
        case .perHead(let expression, let h, let r, let d, let batch):
            let reducesR = expression == "bhr,hdr->bhd"
            return [Tensor.randn([batch, h, reducesR ? r : d], dtype: .bfloat16, seed: seed &+ 1),
                    Tensor.randn([h, d, r + 128], dtype: .bfloat16, seed: seed &+ 2),
                    Tensor(zeros: [batch, h, reducesR ? d : r], dtype: .bfloat16)]
        case .fp8PerHead(let h, let r, let d, let batch):
            let x = try perTokenCastToFP8(Tensor.randn([batch * h, r], dtype: .bfloat16, seed: seed &+ 1), useUE8M0: false)
            let y = try FP8GEMMCase.quantizeGroupedB(Tensor.randn([h, d, r], dtype: .bfloat16, seed: seed &+ 2))
            return [try x.data.reshaped([batch, h, r]), try x.sf.reshaped([batch, h, r / 128]), y.data, y.sf,
                    Tensor(zeros: [batch, h, d], dtype: .bfloat16)]
        case .hcPrenorm(let m, let n, let k, let splits):
            return [Tensor.randn([m, k], dtype: .bfloat16, seed: seed &+ 1), Tensor.randn([n, k], dtype: .float32, seed: seed &+ 2),
                    Tensor.randn(splits.map { [$0, m, n] } ?? [m, n], dtype: .float32, seed: seed &+ 3),
                    Tensor.randn(splits.map { [$0, m] } ?? [m], dtype: .float32, seed: seed &+ 4)]
        }
    }

    /// Where the outputs start in the inputs.
    var firstOutput: Int {
        if case .fp8PerHead = call { return 4 }
        return 2
    }

    /// The op on `tensors` (operands and outputs, wherever they are), writing the outputs in place.
    func run(_ tensors: [Tensor]) throws {
        switch call {
        case .batchedSum(_, _, _, _, let outputType):
            try einsum("bmk,bnk->mn", a: tensors[0], b: tensors[1], d: tensors[2], c: outputType == .float32 ? tensors[2] : nil)
        case .perHead(let expression, _, let r, _, _):
            try einsum(expression, a: tensors[0], b: try tensors[1].narrow(dim: 2, start: 0, length: r), d: tensors[2])
        case .fp8PerHead:
            try fp8Einsum("bhr,hdr->bhd", a: QuantizedTensor(data: tensors[0], sf: tensors[1]), b: QuantizedTensor(data: tensors[2], sf: tensors[3]),
                          d: tensors[4])
        case .hcPrenorm(_, _, _, let splits):
            try tf32HCPrenormGEMM(a: tensors[0], b: tensors[1], d: tensors[2], sqrSum: tensors[3], numSplits: splits)
        }
    }

    /// The outputs after the call on host copies of the inputs.
    func reference(_ inputs: [Tensor]) throws -> [Tensor] {
        let tensors = inputs.map { $0.clone() }
        try run(tensors)
        return Array(tensors[firstOutput...])
    }

    /// The inputs on device 0; each launch restores the outputs' initial values first.
    func prepareCUDA(_ inputs: [Tensor], stream: CUDAStream) throws -> any CaseLauncher {
        try EinsumHCLauncher(self, inputs: inputs)
    }

    /// HC prenorm's split partials summed over the splits (each split's rounding order is the
    /// kernel's own; the sums are what DeepGEMM compares); other outputs as they are.
    func compared(_ outputs: [Tensor], inputs: [Tensor]) throws -> [Tensor] {
        guard case .hcPrenorm(_, _, _, let splits?) = call else { return outputs }
        return try outputs.map { output in
            let values = output.doubleValues(), size = values.count / splits
            let sums = (0..<size).map { i in (0..<splits).reduce(0.0) { $0 + values[$1 * size + i] } }
            return try Tensor(converting: sums, shape: Array(output.shape.dropFirst()), dtype: .float32)
        }
    }

    /// 2·M·N·K per sum; operands read, outputs read and written.
    func workload(_ inputs: [Tensor]) throws -> CaseWorkload {
        let flops: Double
        switch call {
        case .batchedSum(let s, let m, let n, let k, _): flops = 2 * Double(s) * Double(m) * Double(n) * Double(k)
        case .perHead(_, let h, let r, let d, let batch), .fp8PerHead(let h, let r, let d, let batch):
            flops = 2 * Double(batch) * Double(h) * Double(r) * Double(d)
        case .hcPrenorm(let m, let n, let k, _): flops = 2 * Double(m) * Double(n) * Double(k)
        }
        let bytes = inputs.enumerated().reduce(0.0) { $0 + Double($1.element.byteCount) * ($1.offset >= firstOutput ? 2 : 1) }
        return CaseWorkload(flops: flops, bytes: bytes, fields: [("case", .text(description))])
    }

    /// The batched-sum kernel (and its F32 -> BF16 cast), the FP8 GEMM kernel of one head, or the HC
    /// kernel this shape selects; the BF16 per-head expressions run GEMM kernels that JIT on their
    /// first call.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        switch call {
        case .batchedSum(let s, let m, let n, let k, let outputType):
            let family = SM90BatchedSumFamily()
            let kernel = try family.selection(s: s, m: m, n: n, k: k, numSMs: numSMs).selection.source
            return outputType == .bfloat16 ? [kernel, family.castSelection().source] : [kernel]
        case .perHead:
            return []
        case .fp8PerHead(_, let r, let d, let batch):
            return try FP8GEMMCase(.dense, m: batch, n: d, k: r).kernelSources(numSMs: numSMs)
        case .hcPrenorm(let m, let n, let k, let splits):
            return [try SM90HCPrenormFamily().selection(m: m, n: n, k: k, numSplits: splits ?? 1).selection.source]
        }
    }
}

/// An einsum/HC case's tensors on the GPU, with the outputs' initial values kept to restore before each call.
final class EinsumHCLauncher: CaseLauncher {
    let testCase: EinsumHCCase
    let tensors: [Tensor]
    let initial: [Tensor]

    init(_ testCase: EinsumHCCase, inputs: [Tensor]) throws {
        self.testCase = testCase
        tensors = try inputs.map { try $0.to(.cuda(0)) }
        initial = try inputs[testCase.firstOutput...].map { try $0.to(.cuda(0)) }
    }

    func launch() throws {
        try launchSetup()
        try testCase.run(tensors)
    }

    var hasSetup: Bool { true }
    func launchSetup() throws {
        for (output, start) in zip(tensors[testCase.firstOutput...], initial) { try output.copy(from: start) }
    }

    func outputs() throws -> [Tensor] { try tensors[testCase.firstOutput...].map { try $0.to(.host) } }
}
