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
    /// Median process CPU seconds of the same runs (all threads): steadier than `seconds` when
    /// other programs load the machine.
    let cpuSeconds: Double

    /// `2·M·N·K / t`, DeepGEMM's convention.
    var gflops: Double { 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9 }

    var table: String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        return """
        \(op) m=\(m) n=\(n) k=\(k)  threads=\(threads) kernel=\(variant)
          \(f(seconds * 1e3, 3)) ms  \(f(gflops, 1)) GFLOPS  (process CPU time per call \(f(cpuSeconds * 1e3, 3)) ms)
        """
    }

    var json: String {
        """
        {"op":"\(op)","m":\(m),"n":\(n),"k":\(k),"threads":\(threads),"kernel":"\(variant)",\
        "seconds":\(seconds),"gflops":\(gflops),"cpu_seconds":\(cpuSeconds)}
        """
    }
}

/// Benchmarks of the GEMM ops through the public API (validation and scale resolution included),
/// with operands quantized from random BF16 inputs by the library's own helpers and a BF16 D.
enum GEMMBenchmark {
    /// Ops `deepgemm bench` times as GEMMs.
    static let ops = ["fp8_gemm_nt", "bf16_gemm_nt", "fp8_fp4_gemm_nt", "m_grouped_fp8_gemm_nt_contiguous",
                      "m_grouped_fp8_gemm_nt_masked", "m_grouped_bf16_gemm_nt_contiguous", "m_grouped_bf16_gemm_nt_masked"]

    /// Times `op` at M x N x K (for grouped ops M is the total over `groups` equal groups, so the
    /// work equals the dense op's):
    /// - `fp8_gemm_nt`: recipe (1, 128, 128), A per-token and B per-block FP8 (`useUE8M0` rounds
    ///   the scales up to powers of two);
    /// - `bf16_gemm_nt`: BF16 A and B;
    /// - `fp8_fp4_gemm_nt`: A per-token FP8 (gran_k 128) and B per-token FP4 (gran_k 32), UE8M0 scales;
    /// - `m_grouped_*`: the FP8 or BF16 recipe above with B [groups, N, K]; contiguous layouts give
    ///   each group M/groups rows (a multiple of 128), masked ones a [groups, M/groups, K] A.
    static func run(op: String, m: Int, n: Int, k: Int, groups: Int, useUE8M0: Bool) throws -> GEMMBenchmarkResult {
        let call = try prepare(op: op, m: m, n: n, k: k, groups: groups, useUE8M0: useUE8M0)
        let times = try Timing.medians(call)
        let variant = CPUKernelVariant.bestForGEMM
        let dot = variant == .avx512 ? "/vdpbf16ps" : ""
        return GEMMBenchmarkResult(op: op, m: m, n: n, k: k, threads: CPUParallelism.threadCount,
                                   variant: variant.rawValue + dot, seconds: times.wall, cpuSeconds: times.cpu)
    }

    /// Builds the inputs of `op` and returns the call to time.
    private static func prepare(op: String, m: Int, n: Int, k: Int, groups: Int, useUE8M0: Bool) throws -> () throws -> Void {
        let grouped = op.hasPrefix("m_grouped_")
        let rowsPerGroup = m / max(groups, 1)
        if grouped {
            try DeepGEMMError.require(groups > 0 && m % groups == 0 && rowsPerGroup % 128 == 0, "--groups",
                                      "M (\(m)) must split into \(groups) groups of a multiple of 128 rows")
            try DeepGEMMError.require(n % 128 == 0, "--n", "grouped benchmarks need N % 128 == 0, got \(n)")
        }
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 1)
        let w = Tensor.randn([grouped ? groups * n : n, k], dtype: .bfloat16, seed: 2)
        let d = Tensor(zeros: [m, n], dtype: .bfloat16)
        let fp8 = op.contains("fp8")
        let qa = fp8 ? try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: 128) : nil
        let qb = fp8 && !op.contains("fp4") ? try perBlockCastToFP8(w, useUE8M0: useUE8M0, granK: 128) : nil
        switch op {
        case "fp8_gemm_nt":
            let a = QuantizedTensor(data: qa!.data, sf: qa!.sf), b = QuantizedTensor(data: qb!.data, sf: qb!.sf)
            return { try fp8FP4GEMM(.nt, a: a, b: b, d: d) }
        case "bf16_gemm_nt":
            return { try bf16GEMM(.nt, a: x, b: w, d: d) }
        case "fp8_fp4_gemm_nt":
            try DeepGEMMError.require(k % 2 == 0, "--k", "FP4 B needs an even K, got \(k)")
            let a = try perTokenCastToFP8(x, useUE8M0: true, granK: 128), b = try perTokenCastToFP4(w, useUE8M0: true, granK: 32)
            return { try fp8FP4GEMM(.nt, a: a, b: b, d: d, recipeA: [1, 128], recipeB: [1, 32]) }
        case "m_grouped_fp8_gemm_nt_contiguous", "m_grouped_bf16_gemm_nt_contiguous":
            let layout = try Tensor((0..<m).map { Int32($0 / rowsPerGroup) }, shape: [m])
            if fp8 {
                let a = QuantizedTensor(data: qa!.data, sf: qa!.sf)
                let b = QuantizedTensor(data: try qb!.data.reshaped([groups, n, k]), sf: try qb!.sf.reshaped([groups, n / 128, ceilDiv(k, 128)]))
                return { try mGroupedFP8FP4GEMMContiguous(.nt, a: a, b: b, d: d, groupedLayout: layout) }
            }
            let b = try w.reshaped([groups, n, k])
            return { try mGroupedBF16GEMMContiguous(.nt, a: x, b: b, d: d, groupedLayout: layout) }
        case "m_grouped_fp8_gemm_nt_masked", "m_grouped_bf16_gemm_nt_masked":
            let masked = try Tensor([Int32](repeating: Int32(rowsPerGroup), count: groups), shape: [groups])
            let maskedD = try d.reshaped([groups, rowsPerGroup, n])
            if fp8 {
                let a = QuantizedTensor(data: try qa!.data.reshaped([groups, rowsPerGroup, k]),
                                        sf: try qa!.sf.reshaped([groups, rowsPerGroup, ceilDiv(k, 128)]))
                let b = QuantizedTensor(data: try qb!.data.reshaped([groups, n, k]), sf: try qb!.sf.reshaped([groups, n / 128, ceilDiv(k, 128)]))
                return { try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: maskedD, maskedM: masked, expectedM: rowsPerGroup) }
            }
            let a = try x.reshaped([groups, rowsPerGroup, k]), b = try w.reshaped([groups, n, k])
            return { try mGroupedBF16GEMMNTMasked(a: a, b: b, d: maskedD, maskedM: masked, expectedM: rowsPerGroup) }
        default:
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "no GEMM benchmark for '\(op)'; available: \(ops.joined(separator: ", "))")
        }
    }
}
