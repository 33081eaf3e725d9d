import DeepGEMMCore
import Foundation

/// `deepgemm jit compile`: plans every representative problem of every kernel family of an
/// architecture (GEMM families and the non-GEMM ``KernelFamilies``), then compiles each distinct
/// generated kernel with NVRTC (no GPU needed) and reports its resource use.
public enum KernelCompileCheck {
    /// One distinct kernel: its family, the problems that select it, its configuration, and how its
    /// compile went.
    public struct Row: Sendable {
        /// The kernel family's name.
        public var family: String
        /// "op m x n x k" of every problem that selects this kernel.
        public var problems: [String]
        /// The configuration.
        public var config: any GEMMKernelConfig
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
        func add(_ selection: KernelSelection, label: String) {
            if let existing = index[selection.source] {
                rows[existing].problems.append(label)
            } else {
                index[selection.source] = rows.count
                rows.append(Row(family: selection.family, problems: [label], config: selection.config, source: selection.source,
                                report: nil, error: nil, seconds: 0))
            }
        }
        for family in GEMMKernelFamilies.families(for: architecture) {
            for entry in family.representativeProblems(numSMs: numSMs) where ops.isEmpty || ops.contains(entry.op) {
                add(try family.select(entry.problem), label: entry.label)
            }
        }
        for launch in try KernelFamilies.launches(for: architecture, numSMs: numSMs) where ops.isEmpty || ops.contains(launch.op) {
            add(launch.selection, label: launch.label)
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
