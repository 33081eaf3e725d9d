import DeepGEMMCore
import Foundation

/// The device check's compile stage: every distinct kernel the case stages will launch, compiled
/// in parallel into the JIT cache before any device time is spent, so the watchdog limits of the
/// later stages time kernels and not NVRTC.
public enum DeviceCheckKernels {
    /// One distinct kernel and how its compile went.
    public struct Kernel: Sendable {
        /// Descriptions of the cases that launch it.
        public var cases: [String]
        /// The generated source.
        public var source: KernelSource
        /// The ptxas report, when it compiled.
        public var report: PtxasReport?
        /// Why it failed (compile error, missing resource report, spills), or nil.
        public var error: String?
        /// Compile (or cache read) seconds.
        public var seconds: Double
    }

    /// The distinct kernels of `cases` on a device with `numSMs` SMs, in first-use order, and the cases
    /// the backend cannot plan (with the error it would throw at launch). cuBLASLt cases have no kernel.
    public static func plan(_ cases: [GEMMCase], numSMs: Int) -> (kernels: [Kernel], unplannable: [(gemmCase: GEMMCase, error: String)]) {
        var kernels: [Kernel] = []
        var unplannable: [(GEMMCase, String)] = []
        var index: [KernelSource: Int] = [:]
        for gemmCase in cases where !gemmCase.usesCublasLt {
            let source: KernelSource
            do {
                source = try gemmCase.plannedKernel(numSMs: numSMs, seed: gemmCase.seed).selection.source
            } catch {
                unplannable.append((gemmCase, "\(error)"))
                continue
            }
            if let existing = index[source] {
                kernels[existing].cases.append(gemmCase.description)
            } else {
                index[source] = kernels.count
                kernels.append(Kernel(cases: [gemmCase.description], source: source, report: nil, error: nil, seconds: 0))
            }
        }
        return (kernels, unplannable)
    }

    /// Builds every kernel through `jit` (into its cache) with `jobs` concurrent compiles; a kernel
    /// without a complete ptxas report, or that spills or uses local memory, is an error.
    public static func compile(_ kernels: [Kernel], for architecture: CUDAArchitecture, jit: KernelJIT, jobs: Int) -> [Kernel] {
        concurrentMap(kernels, jobs: jobs) { kernel in
            let start = Date()
            var kernel = kernel
            do {
                let report = PtxasReport(log: try jit.build(kernel.source, for: architecture).log)
                kernel.report = report
                try report.requireResourceReport(kernel: kernel.source.name, architecture: architecture)
                if report.usesLocalMemory { kernel.error = "uses local memory: \(report.summary)" }
            } catch {
                kernel.error = "\(error)"
            }
            kernel.seconds = Date().timeIntervalSince(start)
            return kernel
        }
    }

    /// Kernels in the cache folder `root` (entries under `kernels/`): a case that adds one was not
    /// precompiled, which the stages report as a JIT miss.
    public static func cachedCount(root: String) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: root + "/kernels"))?.count ?? 0
    }
}
