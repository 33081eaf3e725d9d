import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// `deepgemm demo` on small shapes: the FP8 GEMM passes DeepGEMM's calc_diff threshold against the
/// BF16 reference, a threshold it cannot meet fails the check, the Mega MoE part is bitwise equal,
/// and bad sizes name their option.
@Suite struct DemoCommandTests {
    @Test func fp8GEMMMeetsTheThreshold() throws {
        var lines: [String] = []
        let gemm = try DemoGEMM.run(m: 64, n: 256, k: 384, seed: 3) { lines.append($0) }
        #expect(gemm.passed && gemm.diff > 0 && gemm.diff < DemoGEMM.threshold, "diff \(gemm.diff)")
        #expect(gemm.kernel == CPUKernelVariant.bestForGEMM.rawValue)
        #expect(gemm.fp8Seconds > 0 && gemm.bf16Seconds > 0)
        #expect(gemm.text.contains("calc_diff") && gemm.text.contains(": ok") && gemm.text.contains("kernel \(gemm.kernel)"))
        #expect(lines.count == 3, "progress lines: \(lines)")
    }

    @Test func aThresholdThatCannotBeMetFails() throws {
        let gemm = try DemoGEMM.run(m: 8, n: 128, k: 128, seed: 1, limit: 0) { _ in }
        #expect(!gemm.passed && gemm.text.contains("FAILED"))
    }

    @Test func megaMoELayerIsBitwiseEqual() throws {
        let report = try DemoMoE.run(seed: 0) { _ in }
        #expect(report.bitwiseEqual, "\(report.mismatch ?? "")")
        #expect(report.ranks == 2 && report.tokensPerRank == 16 && !report.processes)
    }

    @Test func badSizesAreRejected() throws {
        let command = try DemoCommand.parse(["--m", "0"])
        #expect(throws: (any Error).self) { try command.run() }
    }
}
