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

    /// The distinct kernels of `cases` (each a label and the kernels its launches compile, planned for
    /// the device), in first-use order, and the cases that cannot be planned (with the error the
    /// backend would throw at launch). Cases with no JIT kernel (cuBLASLt) give no sources.
    public static func plan(_ cases: [(label: String, sources: () throws -> [KernelSource])])
        -> (kernels: [Kernel], unplannable: [(label: String, error: String)]) {
        var kernels: [Kernel] = []
        var unplannable: [(label: String, error: String)] = []
        var index: [KernelSource: Int] = [:]
        for (label, plan) in cases {
            let sources: [KernelSource]
            do {
                sources = try plan()
            } catch {
                unplannable.append((label, "\(error)"))
                continue
            }
            for source in sources {
                if let existing = index[source] {
                    if kernels[existing].cases.last != label { kernels[existing].cases.append(label) }
                } else {
                    index[source] = kernels.count
                    kernels.append(Kernel(cases: [label], source: source, report: nil, error: nil, seconds: 0))
                }
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
