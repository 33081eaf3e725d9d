import DeepGEMMCore
internal import CCUDA

/// A device's cuBLASLt handle and matmul workspace, made on first use and kept for the life of the
/// process (as DeepGEMM keeps one handle and one 32 MiB workspace). Calls on one device share the
/// workspace, so they must be ordered (one stream, or streams the caller synchronises), as with
/// DeepGEMM's.
final class CublasLtContext: @unchecked Sendable {
    /// Bytes of the workspace cuBLASLt may use for split-K and other schemes.
    static let workspaceBytes = 32 << 20

    /// The library the handle belongs to.
    let library: CublasLtLibrary
    /// The device.
    let device: CUDADevice
    /// `cublasLtHandle_t`.
    let handle: dg_cublaslt_handle
    /// The workspace.
    let workspace: DeviceBuffer

    private init(library: CublasLtLibrary, device: CUDADevice) throws {
        try device.makeCurrent()
        var handle: dg_cublaslt_handle?
        try library.check(library.create(&handle), "cublasLtCreate")
        guard let handle else { throw CUDAError(library: .cublasLt, call: "cublasLtCreate", code: -1, name: "no handle returned") }
        self.library = library
        self.device = device
        self.handle = handle
        self.workspace = try DeviceBuffer(device: device, byteCount: CublasLtContext.workspaceBytes)
    }

    private static let contexts = Locked<[ObjectIdentifier: CublasLtContext]>([:])

    /// The context of `device`, made on first use; throws backendUnavailable when cuBLASLt is absent.
    static func shared(on device: CUDADevice) throws -> CublasLtContext {
        let library = try CublasLtLibrary.shared.get()
        return try contexts.withLock { contexts in
            if let context = contexts[ObjectIdentifier(device)] { return context }
            let context = try CublasLtContext(library: library, device: device)
            contexts[ObjectIdentifier(device)] = context
            return context
        }
    }

    /// Queues `plan` on `stream`: A' at `addressA`, B' at `addressB`, D at `addressD` (also read as C
    /// when the plan's beta is 1). Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `a`
    /// when cuBLASLt's heuristic has no algorithm for the problem.
    func matmul(_ plan: CublasLtMatmulPlan, addressA: UInt64, addressB: UInt64, addressD: UInt64, stream: CUDAStream) throws {
        try device.makeCurrent()
        var description: dg_cublaslt_matmul_desc?
        try library.check(library.matmulDescCreate(&description, plan.computeType, Int32(DG_CUDA_R_32F)), "cublasLtMatmulDescCreate")
        defer { _ = library.matmulDescDestroy(description) }
        try setAttribute(description, Int32(DG_CUBLASLT_MATMUL_DESC_TRANSA), plan.transA)
        try setAttribute(description, Int32(DG_CUBLASLT_MATMUL_DESC_TRANSB), plan.transB)
        let layoutA = try makeLayout(plan.matrixA)
        defer { _ = library.matrixLayoutDestroy(layoutA) }
        let layoutB = try makeLayout(plan.matrixB)
        defer { _ = library.matrixLayoutDestroy(layoutB) }
        let layoutD = try makeLayout(plan.matrixD)
        defer { _ = library.matrixLayoutDestroy(layoutD) }

        var preference: dg_cublaslt_preference?
        try library.check(library.preferenceCreate(&preference), "cublasLtMatmulPreferenceCreate")
        defer { _ = library.preferenceDestroy(preference) }
        var workspaceBytes = UInt64(workspace.byteCount)
        try library.check(library.preferenceSetAttribute(preference, Int32(DG_CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES), &workspaceBytes, 8),
                          "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)")
        // split-K partial sums are reduced in FP32, never in D's type
        var reductionMask = UInt32(DG_CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE)
        try library.check(library.preferenceSetAttribute(preference, Int32(DG_CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK), &reductionMask, 4),
                          "cublasLtMatmulPreferenceSetAttribute(REDUCTION_SCHEME_MASK)")
        var heuristic = dg_cublaslt_heuristic_result()
        var found: Int32 = 0
        try library.check(library.algoGetHeuristic(handle, description, layoutA, layoutB, layoutD, layoutD, preference, 1, &heuristic, &found),
                          "cublasLtMatmulAlgoGetHeuristic")
        try DeepGEMMError.requireSupported(found > 0, "a", "cuBLASLt has no algorithm for this problem (\(plan))")

        var alpha: Float = 1, beta = plan.beta
        let d = UnsafeMutableRawPointer(bitPattern: UInt(addressD))
        try library.check(library.matmul(handle, description, &alpha, UnsafeRawPointer(bitPattern: UInt(addressA)), layoutA,
                                         UnsafeRawPointer(bitPattern: UInt(addressB)), layoutB, &beta, d, layoutD, d, layoutD,
                                         &heuristic.algo, UnsafeMutableRawPointer(bitPattern: UInt(workspace.address)), workspace.byteCount,
                                         stream.handle), "cublasLtMatmul")
    }

    private func setAttribute(_ description: dg_cublaslt_matmul_desc?, _ attribute: Int32, _ value: Int32) throws {
        var value = value
        try library.check(library.matmulDescSetAttribute(description, attribute, &value, 4), "cublasLtMatmulDescSetAttribute(\(attribute))")
    }

    private func makeLayout(_ matrix: CublasLtMatrix) throws -> dg_cublaslt_matrix_layout? {
        var layout: dg_cublaslt_matrix_layout?
        try library.check(library.matrixLayoutCreate(&layout, matrix.dataType, UInt64(matrix.rows), UInt64(matrix.cols), Int64(matrix.ld)),
                          "cublasLtMatrixLayoutCreate")
        return layout
    }
}
