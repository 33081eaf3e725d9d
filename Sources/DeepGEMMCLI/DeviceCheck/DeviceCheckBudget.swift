import Foundation

/// What the device check's precompile stage is sized from, so it fits its limit in
/// scripts/device-check.sh by construction (a test checks the limit against the planned kernels).
enum DeviceCheckBudget {
    /// CPU seconds one NVRTC compile may take. Measured here (NVRTC 13.5, 2-core Xeon, loaded): the 116
    /// kernels of a whole run in 40.6 s of CPU (0.35 s each; 26 BF16 GEMM kernels alone 7.1 s); 1 s
    /// leaves a margin of almost 3x.
    static let compileSecondsPerKernel = 1.0
    /// Cores of the GPU machine (`jit precompile --jobs` defaults to all of them).
    static let deviceCores = 16
    /// Process start, NVRTC load and cache writes.
    static let overheadSeconds = 5.0

    /// Seconds the precompile stage needs at most for `kernels` distinct kernels on the GPU machine.
    static func precompileSeconds(kernels: Int) -> Double {
        Double((kernels + deviceCores - 1) / deviceCores) * compileSecondsPerKernel + overheadSeconds
    }
}
