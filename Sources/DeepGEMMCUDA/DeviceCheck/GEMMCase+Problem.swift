import DeepGEMMCore

extension GEMMCase {
    /// The case's input seed (``deviceCheckSeed(_:)`` of its description).
    public var seed: UInt64 { deviceCheckSeed(description) }

    /// Rows of each group before alignment (grouped ops; `E·U(0.7, 1.3)`, masked capped at Mmax), drawn
    /// from `seed`; `[m]` for a dense op.
    public func groupRows(seed: UInt64) -> [Int] {
        guard kind != .normal else { return [m] }
        return GEMMCase.randomGroupRows(groups: groups, expectedM: expectedM, cap: kind == .mGroupedMasked ? m : nil, seed: seed)
    }

    /// `groups` row counts `E·U(0.7, 1.3)` (DeepGEMM's generators), each at most `cap` when given, drawn from `seed`.
    public static func randomGroupRows(groups: Int, expectedM: Int, cap: Int?, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed &+ 99)
        return (0..<groups).map { _ in
            let rows = Int(Double(expectedM) * (0.7 + 0.6 * generator.nextUnit()))
            return cap.map { min($0, rows) } ?? rows
        }
    }

    /// Rows of D: m (dense), Mmax (masked), or the groups' rows each padded to the alignment (contiguous).
    public func outputRows(seed: UInt64) -> Int {
        switch kind {
        case .normal, .mGroupedMasked: return m
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            return groupRows(seed: seed).reduce(0) { $0 + ceilDiv($1, GEMMCase.mkAlignment) * GEMMCase.mkAlignment }
        }
    }

    /// Shapes of A, B and D as the op takes them, for `rows` rows of D.
    public func operandShapes(rows: Int) -> (a: [Int], b: [Int], d: [Int]) {
        switch kind {
        case .normal:
            return (layout.hasPrefix("t") ? [k, rows] : [rows, k], layout == "nn" || layout == "tn" ? [k, n] : [n, k], [rows, n])
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            return ([rows, k], layout == "nn" ? [groups, k, n] : [groups, n, k], [rows, n])
        case .mGroupedMasked:
            return ([groups, rows, k], [groups, n, k], [groups, rows, n])
        }
    }

    /// Dimensions the entry point compiles into the kernel: "nk" for K-major A (nt, nn), "mn" otherwise.
    public var compiledDims: String { layout == "nt" || layout == "nn" ? "nk" : "mn" }

    /// The validated problem the case's op hands the CUDA backend, for `rows` rows of D and the
    /// operands' majors (nt orientation).
    public func problem(rows: Int, majorA: GEMMMajor, majorB: GEMMMajor) -> GEMMProblem {
        GEMMProblem(kind: kind, m: rows, n: n, k: k, numGroups: kind == .normal ? 1 : groups, majorA: majorA, majorB: majorB,
                    typeCD: outputType, accumulate: accumulate, expectedM: kind == .mGroupedMasked ? expectedM : nil,
                    mkAlignment: GEMMCase.mkAlignment)
    }

    /// The kernel the case's entry-point call selects for `numSMs` SMs and the inputs of `seed`, planned
    /// on operand layouts at address 0: what `jit precompile` compiles ahead of the device stages. A
    /// divergence from the backend only costs a compile during the run, which the stages report as a
    /// JIT miss.
    public func plannedKernel(numSMs: Int, seed: UInt64) throws -> KernelPlan {
        let (problem, layouts) = try plannedProblem(seed: seed)
        let family = try GEMMKernelFamilies.family(for: problem, architecture: .sm90a)
        return try family.plan(GEMMKernelProblem(problem, numSMs: numSMs, compiledDims: kind == .normal ? compiledDims : "nk"),
                               layouts: layouts, pdl: false)
    }

    /// The validated problem and the operand layouts (nt orientation, address 0) of the case's
    /// entry-point call on the inputs of `seed`.
    public func plannedProblem(seed: UInt64) throws -> (problem: GEMMProblem, layouts: GEMMOperandLayouts) {
        let rows = outputRows(seed: seed)
        let shapes = operandShapes(rows: rows)
        func view(_ shape: [Int], transposed: Bool) -> StridedLayout {
            var (shape, strides) = (shape, Tensor.contiguousStrides(shape))
            if transposed {
                shape.swapAt(shape.count - 2, shape.count - 1)
                strides.swapAt(strides.count - 2, strides.count - 1)
            }
            return StridedLayout(address: 0, dtype: .bfloat16, shape: shape, strides: strides)
        }
        let a = view(shapes.a, transposed: kind == .normal && layout.hasPrefix("t"))
        let b = view(shapes.b, transposed: layout == "nn" || layout == "tn")
        var d = view(shapes.d, transposed: false)
        d.dtype = outputType
        let problem = self.problem(rows: rows, majorA: try a.operandMajor(name: "a"), majorB: try b.operandMajor(name: "b"))
        return (problem, GEMMOperandLayouts(a: a, b: b, d: d))
    }
}
