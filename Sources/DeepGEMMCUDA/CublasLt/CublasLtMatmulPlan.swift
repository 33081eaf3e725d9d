import DeepGEMMCore
internal import CCUDA

/// One matrix as cuBLASLt sees it: column-major `rows × cols` with leading dimension `ld` (elements).
struct CublasLtMatrix: Sendable, Equatable {
    /// The `cudaDataType` of the elements.
    var dataType: Int32
    /// Rows of the stored (column-major) matrix.
    var rows: Int
    /// Columns of the stored matrix.
    var cols: Int
    /// Elements from one column to the next.
    var ld: Int
}

/// How `D = A · Bᵀ (+ D)` on row/column-major views maps onto one `cublasLtMatmul` call, which
/// computes `D' = op(A') · op(B') (+ D')` on column-major matrices. A pure value, computed from the
/// views alone, so host tests check every orientation.
///
/// A row-major D ([M, N], `stride(-1) == 1`) is stored as the column-major `Dᵀ` (N × M), so the
/// call computes `Dᵀ = B · Aᵀ` with A' = B and B' = A (DeepGEMM's choice); a column-major D
/// (`stride(-2) == 1`) is computed directly with A' = A and B' = B. An A/B view that is K-major is
/// stored as its column-major transpose, so it enters with `op = T` as the first factor and `op = N`
/// as the second; an MN-major view the other way round. FP8 needs `op(A') = T` and `op(B') = N`
/// on SM90 (cuBLASLt's "TN" rule), i.e. both operands K-major.
struct CublasLtMatmulPlan: Sendable, Equatable {
    /// Whether A' is the tensor `b` (and B' is `a`): true for a row-major D.
    var swapsOperands: Bool
    /// `op(A')`: `DG_CUBLAS_OP_N` or `DG_CUBLAS_OP_T`.
    var transA: Int32
    /// `op(B')`.
    var transB: Int32
    /// A' as stored.
    var matrixA: CublasLtMatrix
    /// B' as stored.
    var matrixB: CublasLtMatrix
    /// D' (also C': the call adds into D in place).
    var matrixD: CublasLtMatrix
    /// `cublasComputeType_t`: TF32 tensor cores for F32 inputs (as DeepGEMM), plain F32 otherwise.
    var computeType: Int32
    /// 1 when the product is added to D, else 0.
    var beta: Float

    /// Plans the call for validated nt views `a` [M, K] and `b` [N, K] (same dtype: BF16, F32 or
    /// FP8 E4M3) and `d` [M, N] (BF16 or F32). Throws ``DeepGEMMError/unsupported(argument:rule:)``
    /// naming `d` when it has no unit stride or overlapping rows/columns, and `a`/`b` for an FP8
    /// operand that is not K-major or any operand cuBLASLt cannot address.
    init(a: StridedLayout, b: StridedLayout, d: StridedLayout, accumulate: Bool) throws {
        let majorA = try a.operandMajor(name: "a"), majorB = try b.operandMajor(name: "b")
        if a.dtype == .float8E4M3 {
            try DeepGEMMError.requireSupported(majorA == .k, "a", "cuBLASLt runs FP8 on SM90 only with K-major operands (TN), got an MN-major a")
            try DeepGEMMError.requireSupported(majorB == .k, "b", "cuBLASLt runs FP8 on SM90 only with K-major operands (TN), got an MN-major b")
        }
        let (m, n) = (d.size(0), d.size(1))
        let dType = try CublasLtMatmulPlan.dataType(d.dtype, name: "d")
        if d.stride(1) == 1 || n == 1 {
            swapsOperands = true
            matrixD = CublasLtMatrix(dataType: dType, rows: n, cols: m, ld: try CublasLtMatmulPlan.leadingDimension(stride: d.stride(0), rows: n, cols: m, name: "d"))
        } else {
            try DeepGEMMError.requireSupported(d.stride(0) == 1 || m == 1, "d", "cuBLASLt needs a row-major or column-major d (one unit stride), got strides \(d.strides)")
            swapsOperands = false
            matrixD = CublasLtMatrix(dataType: dType, rows: m, cols: n, ld: try CublasLtMatmulPlan.leadingDimension(stride: d.stride(1), rows: m, cols: n, name: "d"))
        }
        let (first, firstMajor, firstName) = swapsOperands ? (b, majorB, "b") : (a, majorA, "a")
        let (second, secondMajor, secondName) = swapsOperands ? (a, majorA, "a") : (b, majorB, "b")
        matrixA = try CublasLtMatmulPlan.stored(first, major: firstMajor, name: firstName)
        matrixB = try CublasLtMatmulPlan.stored(second, major: secondMajor, name: secondName)
        // a K-major view is stored transposed: the first factor undoes that with T, the second needs it as is
        transA = Int32(firstMajor == .k ? DG_CUBLAS_OP_T : DG_CUBLAS_OP_N)
        transB = Int32(secondMajor == .k ? DG_CUBLAS_OP_N : DG_CUBLAS_OP_T)
        computeType = Int32(a.dtype == .float32 ? DG_CUBLAS_COMPUTE_32F_FAST_TF32 : DG_CUBLAS_COMPUTE_32F)
        beta = accumulate ? 1 : 0
    }

    /// The column-major matrix an [R, K] operand view is stored as: K × R (its transpose) when
    /// K-major, R × K when MN-major.
    private static func stored(_ view: StridedLayout, major: GEMMMajor, name: String) throws -> CublasLtMatrix {
        let (rows, k) = (view.size(0), view.size(1))
        let type = try dataType(view.dtype, name: name)
        switch major {
        case .k: return CublasLtMatrix(dataType: type, rows: k, cols: rows, ld: try leadingDimension(stride: view.stride(0), rows: k, cols: rows, name: name))
        case .mn: return CublasLtMatrix(dataType: type, rows: rows, cols: k, ld: try leadingDimension(stride: view.stride(1), rows: rows, cols: k, name: name))
        }
    }

    /// The leading dimension of a column-major `rows × cols` matrix whose columns are `stride`
    /// apart: any stride of a single column counts as `rows`; columns that overlap are unsupported.
    private static func leadingDimension(stride: Int, rows: Int, cols: Int, name: String) throws -> Int {
        if cols <= 1 { return max(rows, 1) }
        try DeepGEMMError.requireSupported(stride >= max(rows, 1), name, "cuBLASLt needs non-overlapping rows/columns: stride \(stride) is less than \(rows) elements")
        return stride
    }

    /// The `cudaDataType` of `dtype`.
    private static func dataType(_ dtype: DType, name: String) throws -> Int32 {
        switch dtype {
        case .float32: return Int32(DG_CUDA_R_32F)
        case .bfloat16: return Int32(DG_CUDA_R_16BF)
        case .float8E4M3: return Int32(DG_CUDA_R_8F_E4M3)
        default: throw DeepGEMMError.unsupported(argument: name, rule: "cuBLASLt GEMMs take bfloat16, float32 or float8_e4m3fn, got \(dtype)")
        }
    }
}

extension DeepGEMMError {
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` for `argument` unless `condition` holds.
    static func requireSupported(_ condition: Bool, _ argument: String, _ rule: @autoclosure () -> String) throws(DeepGEMMError) {
        if !condition { throw DeepGEMMError.unsupported(argument: argument, rule: rule()) }
    }
}
