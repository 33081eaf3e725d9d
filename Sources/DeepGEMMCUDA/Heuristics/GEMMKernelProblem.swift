import DeepGEMMCore

extension GEMMKind {
    /// The `dg::GemmKind` enumerator of the kernel sources.
    var kernelName: String {
        switch self {
        case .normal: return "dg::GemmKind::Normal"
        case .mGroupedContiguous: return "dg::GemmKind::MGroupedContiguous"
        case .mGroupedMasked: return "dg::GemmKind::MGroupedMasked"
        case .mGroupedContiguousPsum: return "dg::GemmKind::MGroupedContiguousPsum"
        }
    }
}

extension GEMMMajor {
    /// The `dg::Major` enumerator of the kernel sources.
    var kernelName: String { self == .k ? "dg::Major::K" : "dg::Major::MN" }
}

/// A validated GEMM (Core's ``GEMMProblem``, produced once by the op's argument rules) plus the
/// CUDA launch options the heuristics and the generated kernel depend on. The problem's fields read
/// through (`kernelProblem.m` is `kernelProblem.problem.m`).
@dynamicMemberLookup
public struct GEMMKernelProblem: Sendable, Hashable, CustomStringConvertible {
    /// The validated problem.
    public var problem: GEMMProblem
    /// SMs the persistent grid uses (even).
    public var numSMs: Int
    /// Dimensions baked into the kernel as constants: any of "m", "n", "k".
    public var compiledDims: String

    /// Adds launch options to `problem`.
    public init(_ problem: GEMMProblem, numSMs: Int, compiledDims: String = "nk") {
        self.problem = problem
        self.numSMs = numSMs
        self.compiledDims = compiledDims
    }

    /// A field of the validated problem.
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<GEMMProblem, Value>) -> Value {
        get { problem[keyPath: keyPath] }
        set { problem[keyPath: keyPath] = newValue }
    }

    /// Groups whose tiles the heuristics count: every group when the expected rows are per group
    /// (masked; psum with an expected M), else one grid over all rows.
    var expectedNumGroups: Int {
        switch problem.kind {
        case .mGroupedMasked: return problem.numGroups
        case .mGroupedContiguousPsum: return problem.expectedM == nil ? 1 : problem.numGroups
        case .normal, .mGroupedContiguous: return 1
        }
    }

    /// Whether tiles run group by group, so a cluster pair needs an even number of N blocks per group.
    var runsGroupByGroup: Bool { problem.kind == .mGroupedMasked || problem.kind == .mGroupedContiguousPsum }

    /// The kernel's (and its tile scheduler's) group count: the groups it walks one by one, else 1.
    var scheduledGroups: Int { runsGroupByGroup ? problem.numGroups : 1 }

    /// The value of dimension `name` baked into the kernel, or 0 when it stays a runtime argument.
    func compiledValue(_ name: Character, _ value: Int) -> Int { compiledDims.contains(name) ? value : 0 }

    /// The problem, then the launch options, as `DG_PRINT_CONFIGS` prints it.
    public var description: String { "\(problem) sms=\(numSMs) compiled_dims=\(compiledDims)" }
}
