import DeepGEMMCore
internal import CCUDA

/// The cuBLASLt entry points `cublaslt_gemm_*` uses, from the first `libcublasLt.so*` found (the
/// same search rules as NVRTC: the CUDA homes, Python's `nvidia/*/lib`, then the system loader).
/// Loaded on first use only: nothing else in the backend needs cuBLASLt.
final class CublasLtLibrary: Sendable {
    /// The library the functions come from.
    let library: DynamicLibrary
    /// `cublasLtGetVersion`, e.g. 130100 for cuBLAS 13.1.0.
    let version: Int

    let create: dg_cublaslt_create_fn
    let getStatusName: dg_cublaslt_get_status_name_fn
    let matmulDescCreate: dg_cublaslt_matmul_desc_create_fn
    let matmulDescDestroy: dg_cublaslt_matmul_desc_destroy_fn
    let matmulDescSetAttribute: dg_cublaslt_matmul_desc_set_attribute_fn
    let matrixLayoutCreate: dg_cublaslt_matrix_layout_create_fn
    let matrixLayoutDestroy: dg_cublaslt_matrix_layout_destroy_fn
    let preferenceCreate: dg_cublaslt_preference_create_fn
    let preferenceDestroy: dg_cublaslt_preference_destroy_fn
    let preferenceSetAttribute: dg_cublaslt_preference_set_attribute_fn
    let algoGetHeuristic: dg_cublaslt_matmul_algo_get_heuristic_fn
    let matmul: dg_cublaslt_matmul_fn

    /// The cuBLASLt search of this process: every candidate tried and the library built from the first accepted one.
    static let search: LibrarySearchResult<CublasLtLibrary> = load(candidates: CUDASearchPaths.current.cublasLtCandidates)

    /// cuBLASLt for this process, loaded on first use, or why it cannot be.
    static let shared: Result<CublasLtLibrary, DeepGEMMError> = search.result

    /// The oldest cuBLASLt with FP8 (E4M3) matmuls on SM90: cuBLAS 12.0.
    static let minimumVersion = 120000

    /// Tries `candidates` in order; the first library that opens, provides every entry point and is
    /// new enough is kept, the others are closed with the reason.
    static func load(candidates: [String]) -> LibrarySearchResult<CublasLtLibrary> {
        DynamicLibrary.load(first: candidates, missing: { attempts in
            "no usable cuBLASLt (libcublasLt.so) among \(attempts.count) candidates (\(LibrarySearch.summary(attempts))); "
                + "pip install nvidia-cublas (or nvidia-cublas-cu12) or set DG_CUDA_HOME"
        }, CublasLtLibrary.init(library:))
    }

    private init(library: DynamicLibrary) throws {
        self.library = library
        let getVersion = try library.function("cublasLtGetVersion", as: dg_cublaslt_get_version_fn.self)
        create = try library.function("cublasLtCreate", as: dg_cublaslt_create_fn.self)
        getStatusName = try library.function("cublasLtGetStatusName", as: dg_cublaslt_get_status_name_fn.self)
        matmulDescCreate = try library.function("cublasLtMatmulDescCreate", as: dg_cublaslt_matmul_desc_create_fn.self)
        matmulDescDestroy = try library.function("cublasLtMatmulDescDestroy", as: dg_cublaslt_matmul_desc_destroy_fn.self)
        matmulDescSetAttribute = try library.function("cublasLtMatmulDescSetAttribute", as: dg_cublaslt_matmul_desc_set_attribute_fn.self)
        matrixLayoutCreate = try library.function("cublasLtMatrixLayoutCreate", as: dg_cublaslt_matrix_layout_create_fn.self)
        matrixLayoutDestroy = try library.function("cublasLtMatrixLayoutDestroy", as: dg_cublaslt_matrix_layout_destroy_fn.self)
        preferenceCreate = try library.function("cublasLtMatmulPreferenceCreate", as: dg_cublaslt_preference_create_fn.self)
        preferenceDestroy = try library.function("cublasLtMatmulPreferenceDestroy", as: dg_cublaslt_preference_destroy_fn.self)
        preferenceSetAttribute = try library.function("cublasLtMatmulPreferenceSetAttribute", as: dg_cublaslt_preference_set_attribute_fn.self)
        algoGetHeuristic = try library.function("cublasLtMatmulAlgoGetHeuristic", as: dg_cublaslt_matmul_algo_get_heuristic_fn.self)
        matmul = try library.function("cublasLtMatmul", as: dg_cublaslt_matmul_fn.self)
        version = Int(getVersion())
        guard version >= CublasLtLibrary.minimumVersion else {
            throw unavailable("\(library.path) is cuBLASLt \(version); \(CublasLtLibrary.minimumVersion) (cuBLAS 12.0) or newer is required")
        }
    }

    /// Throws a ``CUDAError`` naming `call` unless `status` is success.
    func check(_ status: Int32, _ call: @autoclosure () -> String) throws(CUDAError) {
        if status != 0 {
            let name = getStatusName(status).map { String(cString: $0) } ?? "CUBLAS_STATUS_\(status)"
            throw CUDAError(library: .cublasLt, call: call(), code: status, name: name)
        }
    }
}
