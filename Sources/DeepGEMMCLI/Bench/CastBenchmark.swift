import DeepGEMM
import Foundation

/// Figures of one memory-bound benchmark and its memory-copy peer.
struct BandwidthResult {
    let op: String
    let shape: [Int]
    let dtype: DType
    let threads: Int
    let variant: String
    /// The op's wall-clock and process CPU medians.
    let times: RunTimes
    let bytes: Int
    /// The copy's wall-clock and process CPU medians.
    let copyTimes: RunTimes

    var gigabytesPerSecond: Double { Double(bytes) / times.wall / 1e9 }
    var copyGigabytesPerSecond: Double { Double(bytes) / copyTimes.wall / 1e9 }
    var ratio: Double { gigabytesPerSecond / copyGigabytesPerSecond }
    /// The ratio in process CPU time: what the op costs the cores against the copy, which a loaded
    /// machine distorts less than the wall-clock ratio.
    var cpuRatio: Double { copyTimes.cpu / times.cpu }

    var table: String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        return """
        \(op) \(dtype) \(shape.map(String.init).joined(separator: "x"))  threads=\(threads) kernel=\(variant)
          \(op): \(f(times.wall * 1e3, 3)) ms  \(f(gigabytesPerSecond)) GB/s (read+written \(bytes) bytes)
          memory copy of the same bytes: \(f(copyTimes.wall * 1e3, 3)) ms  \(f(copyGigabytesPerSecond)) GB/s
          ratio to copy: \(f(ratio, 3))
          process CPU time per call: op \(f(times.cpu * 1e3, 3)) ms, copy \(f(copyTimes.cpu * 1e3, 3)) ms, ratio \(f(cpuRatio, 3))
        """
    }

    var json: String {
        """
        {"op":"\(op)","shape":[\(shape.map(String.init).joined(separator: ","))],"dtype":"\(dtype)","threads":\(threads),\
        "kernel":"\(variant)","seconds":\(times.wall),"bytes":\(bytes),"gb_per_s":\(gigabytesPerSecond),\
        "copy_seconds":\(copyTimes.wall),"copy_gb_per_s":\(copyGigabytesPerSecond),"ratio_to_copy":\(ratio),\
        "cpu_seconds":\(times.cpu),"copy_cpu_seconds":\(copyTimes.cpu),"cpu_ratio_to_copy":\(cpuRatio)}
        """
    }
}

/// Benchmarks of the quantization helpers (and of Mega MoE's SwiGLU + FP8 quantization, the same
/// kind of memory-bound pass).
enum CastBenchmark {
    /// Ops `deepgemm bench` can time as casts.
    static let ops = ["per_token_cast_to_fp8", "per_token_cast_to_fp4", "per_block_cast_to_fp8", "per_channel_cast_to_fp8",
                      "swiglu_apply_weight_to_fp8"]

    /// Times `op` on a random [rows, columns] input of `dtype` (`swiglu_apply_weight_to_fp8`: BF16
    /// gate|up [rows, 2·columns], a top-k weight per row, clamp 10).
    static func run(op: String, rows: Int, columns: Int, dtype: DType, granK: Int, useUE8M0: Bool) throws -> BandwidthResult {
        let swiglu = op == "swiglu_apply_weight_to_fp8"
        let x = Tensor.randn([rows, swiglu ? 2 * columns : columns], dtype: swiglu ? .bfloat16 : dtype, seed: 1)
        let call: () throws -> QuantizedTensor
        var otherInputBytes = 0
        switch op {
        case "swiglu_apply_weight_to_fp8":
            let weights = Tensor.randn([rows], dtype: .float32, seed: 2)
            otherInputBytes = weights.byteCount
            call = { try swigluApplyWeightToFP8(x, topkWeights: weights, activationClamp: 10) }
        case "per_token_cast_to_fp8": call = { try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: granK) }
        case "per_token_cast_to_fp4": call = { try perTokenCastToFP4(x, useUE8M0: useUE8M0, granK: granK) }
        case "per_block_cast_to_fp8": call = { try perBlockCastToFP8(x, useUE8M0: useUE8M0, granK: granK) }
        case "per_channel_cast_to_fp8": call = { try perChannelCastToFP8(x, useUE8M0: useUE8M0, granK: granK) }
        default:
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "no benchmark for '\(op)'; available: \(ops.joined(separator: ", "))")
        }
        let sample = try call()
        let bytes = x.byteCount + otherInputBytes + sample.data.byteCount + sample.sf.byteCount
        let times = try Timing.medians { _ = try call() }
        // The copy moves bytes/2 so that its bytes read + written equal the op's.
        let copyTimes = MemoryCopyBaseline.times(bytes: bytes / 2)
        return BandwidthResult(op: op, shape: [rows, columns], dtype: x.dtype, threads: CPUParallelism.threadCount,
                               variant: CPUKernelVariant.best.rawValue, times: times, bytes: bytes, copyTimes: copyTimes)
    }
}
