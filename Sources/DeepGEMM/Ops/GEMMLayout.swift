/// The operand layouts of DeepGEMM's dense GEMMs (`*_gemm_nt`, `*_gemm_nn`, `*_gemm_tn`,
/// `*_gemm_tt`, spec §0). Every layout computes `D = C + A · Bᵀ` with A logically [M, K] and B
/// logically [N, K]; the layout says which operands are given transposed. The nn/tn/tt ops are
/// views on top of nt: a transposed operand is swapped back (data and scale factors alike) before
/// the nt rules apply.
public enum GEMMLayout: String, Sendable, CaseIterable, Hashable {
    /// A given as [M, K], B as [N, K].
    case nt
    /// A given as [M, K], B as [K, N].
    case nn
    /// A given as [K, M], B as [K, N].
    case tn
    /// A given as [K, M], B as [N, K].
    case tt

    /// True when A is given as [K, M].
    public var transposesA: Bool { self == .tn || self == .tt }
    /// True when B is given as [K, N].
    public var transposesB: Bool { self == .nn || self == .tn }
}

extension Tensor {
    /// This 2-D matrix argument `name` in nt orientation: itself, or its transpose when
    /// `transposed` (DeepGEMM's `transpose(0, 1)`).
    func ntMatrix(transposed: Bool, name: String) throws -> Tensor {
        try DeepGEMMError.require(rank == 2, name, "must be a 2-D matrix, got shape \(shape)")
        return transposed ? try self.transposed(0, 1) : self
    }
}

extension QuantizedTensor {
    /// This `(data, sf)` argument `name` in nt orientation: both tensors transposed when
    /// `transposed`, as DeepGEMM's nn/tn/tt wrappers do. The scale factors are named `name_sf`.
    func ntMatrix(transposed: Bool, name: String) throws -> QuantizedTensor {
        QuantizedTensor(data: try data.ntMatrix(transposed: transposed, name: name),
                        sf: try sf.ntMatrix(transposed: transposed, name: name + "_sf"))
    }
}
