import ArgumentParser
import DeepGEMM
import Foundation

/// `deepgemm demo`: what the library is for, on the CPU. A DeepSeek-V3-shaped FP8 GEMM (BF16
/// inputs quantized per token and per block, `fp8_gemm_nt`, checked against `bf16_gemm_nt` by
/// `calc_diff`) and a small Mega MoE layer on two thread ranks (fused against unfused, bit for bit).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "FP8 GEMM of a DeepSeek-V3 projection against a BF16 reference, then a small Mega MoE layer fused vs unfused.",
        discussion: """
        The default GEMM is DeepSeek-V3's MoE down projection (N = hidden 7168, K = intermediate 2048) for 2048 tokens: \
        A [M, K] and B [N, K] are random BF16, quantized with per_token_cast_to_fp8 (1x128 scales) and \
        per_block_cast_to_fp8 (128x128 scales), multiplied by fp8_gemm_nt into BF16, and compared with bf16_gemm_nt by \
        calc_diff (DeepGEMM's test threshold 0.001). Then a Mega MoE layer (8 experts, top-4, hidden 1024, \
        intermediate 512, FP8 x FP4) runs on 2 thread ranks, and the fused output must equal the unfused one bit for bit. \
        The exit status is non-zero when a check fails.
        """
    )

    @Option(help: "Tokens (rows of A, M).")
    var m: Int = 2048
    @Option(help: "Output columns (rows of B, N).")
    var n: Int = 7168
    @Option(help: "Shared inner size (K).")
    var k: Int = 2048
    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func run() throws {
        do {
            try DeepGEMMError.require(m > 0 && n > 0 && k > 0, "--m", "sizes must be positive, got \(m) x \(n) x \(k)")
            let gemm = try DemoGEMM.run(m: m, n: n, k: k, seed: seed, progress: printError)
            print(gemm.text)
            print("")
            let moe = try DemoMoE.run(seed: seed, progress: printError)
            print(moe.text)
            guard gemm.passed && moe.bitwiseEqual else {
                printError("error: demo check failed (\(gemm.passed ? "" : "FP8 GEMM calc_diff over threshold")\(gemm.passed || moe.bitwiseEqual ? "" : "; ")\(moe.bitwiseEqual ? "" : "Mega MoE fused != unfused"))")
                throw ExitCode(1)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The FP8 GEMM part of the demo and its figures.
struct DemoGEMM {
    /// DeepGEMM's `calc_diff` threshold for FP8 GEMMs in its tests.
    static let threshold = 0.001

    let m: Int, n: Int, k: Int
    /// The CPU kernel level the casts and GEMMs ran at.
    let kernel: String
    let threads: Int
    let quantizeASeconds: Double, quantizeBSeconds: Double
    let fp8Seconds: Double, bf16Seconds: Double
    /// calc_diff(fp8_gemm_nt, bf16_gemm_nt).
    let diff: Double
    /// The threshold `diff` is checked against.
    let limit: Double

    var passed: Bool { diff < limit }
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Quantizes random BF16 operands, runs both GEMMs and compares them; `limit` replaces
    /// DeepGEMM's threshold (tests use it to see a failing check).
    static func run(m: Int, n: Int, k: Int, seed: UInt64, limit: Double = threshold,
                    progress: (String) -> Void) throws -> DemoGEMM {
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: seed)
        let b = Tensor.randn([n, k], dtype: .bfloat16, seed: seed &+ 1)
        progress("demo: quantizing A [\(m), \(k)] per token and B [\(n), \(k)] per block to FP8")
        let (qa, quantizeA) = try timed { try perTokenCastToFP8(a, useUE8M0: false) }
        let (qb, quantizeB) = try timed { try perBlockCastToFP8(b, useUE8M0: false) }
        progress("demo: fp8_gemm_nt [\(m), \(n), \(k)] (\(String(format: "%.1f", 2e-9 * Double(m) * Double(n) * Double(k))) GFLOP)")
        let d = Tensor(zeros: [m, n], dtype: .bfloat16)
        let (_, fp8) = try timed { try fp8FP4GEMM(.nt, a: qa, b: qb, d: d) }
        progress("demo: bf16_gemm_nt reference")
        let reference = Tensor(zeros: [m, n], dtype: .float32)
        let (_, bf16) = try timed { try bf16GEMM(.nt, a: a, b: b, d: reference) }
        let diff = try calcDiff(convert(d, to: .float32), reference)
        return DemoGEMM(m: m, n: n, k: k, kernel: CPUKernelVariant.bestForGEMM.rawValue, threads: CPUParallelism.threadCount,
                        quantizeASeconds: quantizeA, quantizeBSeconds: quantizeB, fp8Seconds: fp8, bf16Seconds: bf16,
                        diff: diff, limit: limit)
    }

    /// The result of `body` and its wall time in seconds.
    private static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = Timing.now()
        let value = try body()
        return (value, Timing.now() - start)
    }

    var text: String {
        func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1e3) }
        func gflops(_ s: Double) -> String { String(format: "%.1f GFLOPS", flops / s / 1e9) }
        return """
        FP8 GEMM, DeepSeek-V3 projection shape: M=\(m) N=\(n) K=\(k), CPU kernel \(kernel), \(threads) threads
          per_token_cast_to_fp8(A) 1x128:   \(ms(quantizeASeconds))
          per_block_cast_to_fp8(B) 128x128: \(ms(quantizeBSeconds))
          fp8_gemm_nt  -> BF16: \(ms(fp8Seconds))  \(gflops(fp8Seconds))
          bf16_gemm_nt -> F32:  \(ms(bf16Seconds))  \(gflops(bf16Seconds))  (reference)
          calc_diff(fp8, bf16) = \(String(format: "%.2e", diff)) (threshold \(limit)): \(passed ? "ok" : "FAILED")
        """
    }
}

/// The Mega MoE part of the demo: a small FP8 x FP4 layer on two thread ranks.
enum DemoMoE {
    /// Runs the layer with 16 tokens per rank and returns its report (fused vs unfused).
    static func run(seed: UInt64, progress: @escaping (String) -> Void) throws -> MoEReport {
        let problem = MoEProblem(experts: 8, topk: 4, hidden: 1024, intermediate: 512, mmaType: .fp8xfp4, activationClamp: 10,
                                 fastMath: true, seed: seed, maskedFraction: 0)
        try problem.validate()
        progress("demo: Mega MoE layer on 2 thread ranks, fused vs unfused")
        let reports = try MoEBenchmark(problem: problem, ranks: 2, tokenCounts: [16], minimumSeconds: 0, processes: nil,
                                       progress: progress, completed: { _ in }).run()
        return reports[0]
    }
}
