import DeepGEMMCore

/// The GEMM problems `deepgemm jit compile` plans for an architecture: each kernel family's
/// ``GEMMKernelFamily/representativeProblems(numSMs:)``, DeepGEMM's test shapes trimmed so every
/// layout and output type is covered while the compile stays short. Each op is named as in DeepGEMM.
public enum RepresentativeProblems {
    /// One problem of one op.
    public struct Entry: Sendable {
        /// DeepGEMM's op name, e.g. `bf16_gemm_nt`.
        public var op: String
        /// The problem as the op hands it to the backend (nt orientation), with its launch options.
        public var problem: GEMMKernelProblem

        /// Creates an entry.
        public init(op: String, problem: GEMMKernelProblem) {
            self.op = op
            self.problem = problem
        }

        /// `op m x n x k` and what else sets the problem apart, as the compile check lists it.
        public var label: String {
            "\(op) \(problem.m)x\(problem.n)x\(problem.k)" + (problem.numGroups > 1 ? " g\(problem.numGroups)" : "")
                + (problem.kind == .mGroupedContiguousPsum ? " psum" : "") + (problem.expectedM.map { " expected_m=\($0)" } ?? "")
                + (problem.typeCD == .float32 ? " f32" : "") + (problem.accumulate ? " acc" : "")
        }
    }

    /// The ops that have kernels for `architecture` (GEMM and non-GEMM families).
    public static func ops(for architecture: CUDAArchitecture) throws -> [String] {
        let launches = try KernelFamilies.launches(for: architecture, numSMs: 132)
        return Array(Set(entries(for: architecture, numSMs: 132).map(\.op) + launches.map(\.op))).sorted()
    }

    /// Every representative problem for `architecture` on a device with `numSMs` SMs.
    public static func entries(for architecture: CUDAArchitecture, numSMs: Int) -> [Entry] {
        GEMMKernelFamilies.families(for: architecture).flatMap { $0.representativeProblems(numSMs: numSMs) }
    }

    /// (n, k) pairs of DeepGEMM's dense GEMM tests.
    public static let denseShapes = [(2112, 7168), (576, 7168), (24576, 1536), (32768, 512), (7168, 16384), (4096, 7168), (7168, 2048)]
    /// (n, k) pairs of DeepGEMM's m-grouped tests.
    public static let groupedShapes = [(6144, 7168), (7168, 3072), (4096, 4096), (4096, 2048)]
}
