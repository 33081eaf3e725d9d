/// A failed CUDA driver, NVRTC or cuBLASLt call, with the library's own name for the code (as
/// `cuGetErrorName` / `nvrtcGetErrorString` / `cublasLtGetStatusName` give it), so an unlisted code
/// still reads well.
public struct CUDAError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Which library returned the code.
    public enum Library: String, Sendable {
        /// The CUDA driver (`CUresult`).
        case driver
        /// NVRTC (`nvrtcResult`).
        case nvrtc
        /// cuBLASLt (`cublasStatus_t`).
        case cublasLt
    }

    /// The library that failed.
    public let library: Library
    /// The function that failed, e.g. `cuTensorMapEncodeTiled`.
    public let call: String
    /// The raw result code.
    public let code: Int32
    /// The library's name for the code, e.g. `CUDA_ERROR_INVALID_VALUE`.
    public let name: String

    /// Creates an error for `call` returning `code`, named `name`.
    public init(library: Library, call: String, code: Int32, name: String) {
        self.library = library
        self.call = call
        self.code = code
        self.name = name
    }

    /// `cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)`.
    public var description: String { "\(call) failed: \(name) (\(code))" }
}
