import DeepGEMMCore

/// Compares a CUDA result of a ``GEMMCase`` with a reference computed by any 2-D GEMM (the CPU
/// backend's, in the CLI and the tests), group by group for grouped ops.
public enum GEMMCaseCheck {
    /// A 2-D `D (+)= A · Bᵀ` on host views (A [rows, K], B [N, K], D [rows, N]).
    public typealias GEMM = (_ a: Tensor, _ b: Tensor, _ d: Tensor, _ accumulate: Bool) throws -> Void

    /// DeepGEMM's BF16 GEMM tolerance (`calc_diff < 1e-5`).
    public static let tolerance = 1e-5

    /// The expected D for `inputs`: the dense product (plus C), each group's rows of a contiguous
    /// layout (padding and psum gap rows stay 0), or each group's first `masked_m` rows.
    public static func reference(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, gemm: GEMM) throws -> Tensor {
        let (a, b) = try inputs.ntOperands(gemmCase)
        let expected = inputs.d.clone()
        switch gemmCase.kind {
        case .normal:
            try gemm(a, b, expected, gemmCase.accumulate)
        case .mGroupedContiguous:
            let groups = try inputs.layout.map { try $0.elements(as: Int32.self) } ?? []
            var start = 0
            while start < groups.count {
                var end = start + 1
                while end < groups.count && groups[end] == groups[start] { end += 1 }
                if groups[start] >= 0 {
                    try gemm(a.narrow(dim: 0, start: start, length: end - start), b.select(dim: 0, index: Int(groups[start])),
                             expected.narrow(dim: 0, start: start, length: end - start), false)
                }
                start = end
            }
        case .mGroupedContiguousPsum:
            let ends = try inputs.layout.map { try $0.elements(as: Int32.self) } ?? []
            var start = 0
            for (group, end) in ends.enumerated() {
                if Int(end) > start {
                    try gemm(a.narrow(dim: 0, start: start, length: Int(end) - start), b.select(dim: 0, index: group),
                             expected.narrow(dim: 0, start: start, length: Int(end) - start), false)
                }
                start = ceilDiv(Int(end), GEMMCase.mkAlignment) * GEMMCase.mkAlignment
            }
        case .mGroupedMasked:
            for (group, rows) in inputs.validRows.enumerated() where rows > 0 {
                try gemm(a.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: rows), b.select(dim: 0, index: group),
                         expected.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: rows), false)
            }
        }
        return expected
    }

    /// The parts of D that carry results: all of it, except rows past `masked_m` for the masked op
    /// (one view per group with rows).
    public static func resultRows(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, d: Tensor) throws -> [Tensor] {
        guard gemmCase.kind == .mGroupedMasked else { return [d] }
        return try inputs.validRows.enumerated().filter { $0.element > 0 }.map { group, rows in
            try d.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: rows)
        }
    }

    /// DeepGEMM's `calc_diff` between `result` and `expected` over the rows that carry results
    /// (``resultRows(_:inputs:d:)``). NaN when either has a non-finite value.
    public static func difference(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, result: Tensor, expected: Tensor) throws -> Double {
        finiteCalcDiff(try resultRows(gemmCase, inputs: inputs, d: result), try resultRows(gemmCase, inputs: inputs, d: expected))
    }
}

/// DeepGEMM's `calc_diff` over the elements of every tensor of `result` against `expected`, taken
/// together; NaN when either holds a non-finite value.
public func finiteCalcDiff(_ result: [Tensor], _ expected: [Tensor]) -> Double {
    let x = result.flatMap { $0.doubleValues() }, y = expected.flatMap { $0.doubleValues() }
    guard x.count == y.count, x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else { return .nan }
    return calcDiff(x, y)
}
