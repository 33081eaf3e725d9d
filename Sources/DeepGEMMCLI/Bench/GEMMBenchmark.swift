import DeepGEMM

/// Figures of one GEMM benchmark.
struct GEMMBenchmarkResult {
    let op: String
    let m: Int
    let n: Int
    let k: Int
    let threads: Int
    let variant: String
    let seconds: Double

    /// `2·M·N·K / t`, DeepGEMM's convention.
    var gflops: Double { 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9 }

    var table: String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        return """
        \(op) m=\(m) n=\(n) k=\(k)  threads=\(threads) kernel=\(variant)
          \(f(seconds * 1e3, 3)) ms  \(f(gflops, 1)) GFLOPS
        """
    }

    var json: String {
        """
        {"op":"\(op)","m":\(m),"n":\(n),"k":\(k),"threads":\(threads),"kernel":"\(variant)",\
        "seconds":\(seconds),"gflops":\(gflops)}
        """
    }
}

/// Benchmarks of the CPU GEMM engine on DeepGEMM's dense recipes, with operands quantized from
/// random BF16 inputs by the library's own helpers and a BF16 D.
enum GEMMBenchmark {
    /// Ops `deepgemm bench` times as GEMMs.
    static let ops = ["fp8_gemm_nt", "bf16_gemm_nt", "fp8_fp4_gemm_nt"]

    /// Times `op` at M x N x K:
    /// - `fp8_gemm_nt`: recipe (1, 128, 128), A per-token and B per-block FP8 (`useUE8M0` rounds
    ///   the scales up to powers of two);
    /// - `bf16_gemm_nt`: BF16 A and B;
    /// - `fp8_fp4_gemm_nt`: A per-token FP8 (gran_k 128) and B per-token FP4 (gran_k 32), UE8M0 scales.
    static func run(op: String, m: Int, n: Int, k: Int, useUE8M0: Bool) throws -> GEMMBenchmarkResult {
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 1)
        let w = Tensor.randn([n, k], dtype: .bfloat16, seed: 2)
        let a: GEMMOperand, b: GEMMOperand
        switch op {
        case "fp8_gemm_nt":
            let qa = try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: 128)
            let qb = try perBlockCastToFP8(w, useUE8M0: useUE8M0, granK: 128)
            a = try GEMMOperand(format: .e4m3, rows: m, k: k, data: qa.data, scales: ScaleGrid(values: qa.sf, granRows: 1, granK: 128))
            b = try GEMMOperand(format: .e4m3, rows: n, k: k, data: qb.data, scales: ScaleGrid(values: qb.sf, granRows: 128, granK: 128))
        case "bf16_gemm_nt":
            a = try GEMMOperand(format: .bf16, rows: m, k: k, data: x)
            b = try GEMMOperand(format: .bf16, rows: n, k: k, data: w)
        case "fp8_fp4_gemm_nt":
            try DeepGEMMError.require(k % 2 == 0, "--k", "FP4 B needs an even K, got \(k)")
            let qa = try perTokenCastToFP8(x, useUE8M0: true, granK: 128)
            let qb = try perTokenCastToFP4(w, useUE8M0: true, granK: 32)
            a = try GEMMOperand(format: .e4m3, rows: m, k: k, data: qa.data, scales: ScaleGrid(values: qa.sf, granRows: 1, granK: 128))
            b = try GEMMOperand(format: .e2m1, rows: n, k: k, data: qb.data, fp4PackedAlongK: true,
                                scales: ScaleGrid(values: qb.sf, granRows: 1, granK: 32))
        default:
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "no GEMM benchmark for '\(op)'; available: \(ops.joined(separator: ", "))")
        }
        let d = Tensor(zeros: [m, n], dtype: .bfloat16)
        let seconds = try Timing.median { try GEMMEngine.run(a: a, b: b, d: d, accumulate: false) }
        let variant = CPUKernelVariant.best
        let dot = variant == .avx512 && CPUFeatures.current.hasAVX512BF16 ? "/vdpbf16ps" : ""
        return GEMMBenchmarkResult(op: op, m: m, n: n, k: k, threads: CPUParallelism.threadCount,
                                   variant: variant.rawValue + dot, seconds: seconds)
    }
}
