import ArgumentParser
import DeepGEMM

/// `deepgemm bench OP --m M [--n N] --k K [--json]`: times an op on the CPU backend (casts next
/// to a memory-copy peer; GEMMs in GFLOPS, compared with NumPy by `bench/compare.py`) and reports
/// the process's peak resident memory.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark an op on the CPU backend and compare it with a peer in the same run.",
        discussion: """
        Memory-bound ops report GB/s of bytes read + written next to a plain multi-threaded memory copy of the same \
        number of bytes. GEMMs report GFLOPS (2·M·N·K / t) with a BF16 D; DG_NUM_THREADS and DG_CPU_KERNEL choose the \
        threads and the kernel variant; grouped GEMMs split M into --groups equal groups (same total work as the dense op). \
        MQA logits report GFLOPS counted as 2·H·D per (query, kv) pair in the window (causal windows for prefill). \
        Every result ends with the peak resident memory of the process (getrusage ru_maxrss). \
        Ops: \((CastBenchmark.ops + GEMMBenchmark.ops + MQABenchmark.ops).joined(separator: ", ")).
        """
    )

    @Argument(help: "DeepGEMM op name.")
    var op: String

    @Option(help: "Rows (M).")
    var m: Int = 4096

    @Option(help: "Columns of a GEMM output (N, default 4096); the column count of a cast when --k is not given.")
    var n: Int?

    @Option(help: "Reduction size of a GEMM (K, default 4096); the column count of a cast.")
    var k: Int?

    @Option(help: "Input dtype of casts: bf16, f32 or f16.")
    var dtype: String = "bf16"

    @Option(name: .customLong("gran-k"), help: "Group size of casts.")
    var granK: Int = 128

    @Flag(name: .customLong("ue8m0"), help: "Round scales up to powers of two (casts and fp8_gemm_nt).")
    var useUE8M0 = false

    @Option(help: "Groups of a grouped GEMM.")
    var groups: Int = 4

    @Option(help: "MQA: query tokens S.")
    var s: Int = 2048

    @Option(help: "MQA: KV tokens SKV.")
    var skv: Int = 8192

    @Option(help: "MQA: heads H.")
    var h: Int = 64

    @Option(help: "MQA: head dimension D.")
    var d: Int = 128

    @Option(help: "Paged MQA: batch B.")
    var batch: Int = 256

    @Option(name: .customLong("next-n"), help: "Paged MQA: next_n (MTP) tokens per request.")
    var nextN: Int = 1

    @Option(help: "Paged MQA: context length.")
    var context: Int = 8192

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        do {
            print(PeakMemoryField.appended(to: try result(), json: json))
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The op's figures, as text or one JSON object.
    private func result() throws -> String {
        if MQABenchmark.ops.contains(op) {
            return try MQABenchmark.run(op: op, s: s, skv: skv, h: h, d: d, batch: batch, nextN: nextN, context: context, json: json)
        }
        if GEMMBenchmark.ops.contains(op) {
            let (columns, depth) = (n ?? 4096, k ?? 4096)
            try DeepGEMMError.require(m > 0 && columns > 0 && depth > 0, "--m", "shape must be positive, got \(m) x \(columns) x \(depth)")
            let result = try GEMMBenchmark.run(op: op, m: m, n: columns, k: depth, groups: groups, useUE8M0: useUE8M0)
            return json ? result.json : result.table
        }
        guard let inputType = DType(shortName: dtype), [.bfloat16, .float32, .float16].contains(inputType) else {
            throw DeepGEMMError.invalidArgument(argument: "--dtype", rule: "must be bf16, f32 or f16, got '\(dtype)'")
        }
        let columns = k ?? n ?? 7168
        try DeepGEMMError.require(m > 0 && columns > 0, "--m", "shape must be positive, got \(m) x \(columns)")
        let result = try CastBenchmark.run(op: op, rows: m, columns: columns, dtype: inputType, granK: granK, useUE8M0: useUE8M0)
        return json ? result.json : result.table
    }
}
