import DeepGEMMCore
import Foundation

/// `deepgemm jit compile`: plans every representative problem of an architecture, then compiles each
/// distinct generated kernel with NVRTC (no GPU needed) and reports its resource use.
public enum KernelCompileCheck {
    /// One distinct kernel: the problems that select it, its configuration, and how its compile went.
    public struct Row: Sendable {
        /// "op m x n x k" of every problem that selects this kernel.
        public var problems: [String]
        /// The configuration.
        public var config: SM90GEMMConfig
        /// The generated source.
        public var source: KernelSource
        /// The ptxas report, when the compile succeeded.
        public var report: PtxasReport?
        /// The compile error, when it failed.
        public var error: String?
        /// Compile time in seconds.
        public var seconds: Double

        /// Whether the kernel compiled with a complete ptxas report and without spills or local memory.
        public var passed: Bool { error == nil && report.map { !$0.usesLocalMemory } == true }
    }

    /// The distinct kernels of the representative problems for `architecture` (optionally only `ops`),
    /// in first-use order, before compiling.
    public static func plan(for architecture: CUDAArchitecture, ops: Set<String>, numSMs: Int) throws -> [Row] {
        var rows: [Row] = []
        var index: [KernelSource: Int] = [:]
        for entry in RepresentativeProblems.entries(for: architecture, numSMs: numSMs) where ops.isEmpty || ops.contains(entry.op) {
            let config = try SM90BF16Heuristics.bestConfig(for: entry.problem)
            let source = SM90BF16GEMMKernel.source(for: entry.problem, config: config)
            let label = "\(entry.op) \(entry.problem.m)x\(entry.problem.n)x\(entry.problem.k)"
                + (entry.problem.numGroups > 1 ? " g\(entry.problem.numGroups)" : "")
                + (entry.problem.kind == .mGroupedContiguousPsum ? " psum" : "")
                + (entry.problem.expectedM.map { " expected_m=\($0)" } ?? "")
                + (entry.problem.outputType == .float32 ? " f32" : "") + (entry.problem.accumulate ? " acc" : "")
            if let existing = index[source] {
                rows[existing].problems.append(label)
            } else {
                index[source] = rows.count
                rows.append(Row(problems: [label], config: config, source: source, report: nil, error: nil, seconds: 0))
            }
        }
        return rows
    }

    /// Compiles every row with `jobs` concurrent NVRTC programs.
    public static func compile(_ rows: [Row], for architecture: CUDAArchitecture, compiler: NVRTCCompiler, jobs: Int) -> [Row] {
        concurrentMap(rows, jobs: jobs) { row in
            let start = Date()
            var row = row
            do {
                let report = try compiler.compile(row.source, for: architecture, keepPTX: false).report
                row.report = report
                try report.requireResourceReport(kernel: row.source.name, architecture: architecture)
            } catch {
                row.error = "\(error)"
            }
            row.seconds = Date().timeIntervalSince(start)
            return row
        }
    }
}
