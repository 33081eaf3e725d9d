import ArgumentParser
import DeepGEMM
import Foundation

/// `deepgemm demo`: the main CPU job of this version. Quantizes a random BF16 matrix pair to FP8
/// with both recipes, dequantizes, and prints error figures and throughput.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Quantize a random BF16 matrix pair to FP8 with both recipes, dequantize, print errors and throughput."
    )

    @Option(help: "Rows of A.") var m: Int = 4096
    @Option(help: "Rows of B.") var n: Int = 4096
    @Option(help: "Shared inner size.") var k: Int = 7168
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        do {
            try DeepGEMMError.require(m > 0 && n > 0 && k > 0, "--m", "sizes must be positive")
            try DemoReport.run(m: m, n: n, k: k, seed: seed)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The figures `deepgemm demo` prints.
enum DemoReport {
    static func run(m: Int, n: Int, k: Int, seed: UInt64) throws {
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: seed)
        let b = Tensor.randn([n, k], dtype: .bfloat16, seed: seed &+ 1)
        print("deepgemm demo: A [\(m), \(k)] and B [\(n), \(k)] BF16, \(CPUParallelism.threadCount) threads, kernel \(CPUKernelVariant.best.rawValue)")
        print(String(repeating: "-", count: 96))
        print([pad("recipe", 40), pad("operand", 9), pad("calc_diff", 12), pad("max err/amax", 13), pad("ms", 9), "GB/s"].joined())
        // SM90 recipe (1,128,128): A per token (1x128), B per block (128x128), FP32 scales.
        try report("(1,128,128) fp32 SF  [sm90]", "A", a) { try perTokenCastToFP8($0, useUE8M0: false) } dequantize: {
            try dequantizeFP8($0.data, sf: $0.sf, granMN: 1, granK: 128)
        }
        try report("(1,128,128) fp32 SF  [sm90]", "B", b) { try perBlockCastToFP8($0, useUE8M0: false) } dequantize: {
            try dequantizeFP8($0.data, sf: $0.sf, granMN: 128, granK: 128)
        }
        // SM100 recipe (1,1,128): both per token, UE8M0 (power-of-two) scales packed four per int32.
        try report("(1,1,128) packed UE8M0 [sm100]", "A", a) { try perTokenCastToFP8($0, useUE8M0: true, usePackedUE8M0: true) } dequantize: {
            try dequantizeFP8($0.data, sf: unpackUE8M0FromInt($0.sf), granMN: 1, granK: 128)
        }
        try report("(1,1,128) packed UE8M0 [sm100]", "B", b) { try perTokenCastToFP8($0, useUE8M0: true, usePackedUE8M0: true) } dequantize: {
            try dequantizeFP8($0.data, sf: unpackUE8M0FromInt($0.sf), granMN: 1, granK: 128)
        }
    }

    private static func report(_ recipe: String, _ operand: String, _ x: Tensor, quantize: (Tensor) throws -> QuantizedTensor,
                               dequantize: (QuantizedTensor) throws -> Tensor) throws {
        let quantized = try quantize(x)
        let seconds = try Timing.median(minimumSeconds: 0.3, maximumRuns: 10) { _ = try quantize(x) }
        let restored = try dequantize(quantized)
        let original = try convert(x, to: .float32)
        let diff = try calcDiff(original, restored)
        let reference = original.dataPointer.assumingMemoryBound(to: Float.self)
        let values = restored.dataPointer.assumingMemoryBound(to: Float.self)
        // Largest error relative to the largest magnitude (elementwise relative errors are
        // meaningless for values that FP8 flushes to zero).
        var maxError: Float = 0, maxMagnitude: Float = 0
        for i in 0..<x.count {
            maxError = max(maxError, abs(values[i] - reference[i]))
            maxMagnitude = max(maxMagnitude, abs(reference[i]))
        }
        let maxRelative = maxMagnitude > 0 ? maxError / maxMagnitude : 0
        let bytes = Double(x.byteCount + quantized.data.byteCount + quantized.sf.byteCount)
        let columns: [String] = [
            pad(recipe, 40), pad(operand, 9), pad(String(format: "%.2e", diff), 12), pad(String(format: "%.4f", maxRelative), 13),
            pad(String(format: "%.2f", seconds * 1e3), 9), String(format: "%.1f", bytes / seconds / 1e9),
        ]
        print(columns.joined())
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
