import DeepGEMMCore
internal import CCUDA

/// The NVRTC entry points the JIT compiler uses, from the first `libnvrtc.so*` found.
final class NVRTCLibrary: Sendable {
    /// The library the functions come from.
    let library: DynamicLibrary
    /// NVRTC's (major, minor) version.
    let version: (major: Int, minor: Int)

    let getErrorString: dg_nvrtc_get_error_string_fn
    let createProgram: dg_nvrtc_create_program_fn
    let destroyProgram: dg_nvrtc_destroy_program_fn
    let compileProgram: dg_nvrtc_compile_program_fn
    let getProgramLogSize: dg_nvrtc_get_size_fn
    let getProgramLog: dg_nvrtc_get_bytes_fn
    let getCUBINSize: dg_nvrtc_get_size_fn
    let getCUBIN: dg_nvrtc_get_bytes_fn
    let getPTXSize: dg_nvrtc_get_size_fn
    let getPTX: dg_nvrtc_get_bytes_fn

    /// The NVRTC search of this process: every candidate tried and the library built from the first accepted one.
    static let search: LibrarySearchResult<NVRTCLibrary> = load(candidates: CUDASearchPaths.current.nvrtcCandidates)

    /// NVRTC for this process, loaded on first use, or why it cannot be.
    static let shared: Result<NVRTCLibrary, DeepGEMMError> = search.result

    /// The oldest NVRTC that knows `sm_90a` and `sm_100a`.
    static let minimumVersion = (major: 12, minor: 8)

    /// Tries `candidates` in order; the first library that opens, provides every entry point and is
    /// new enough is kept, the others are closed with the reason.
    static func load(candidates: [String]) -> LibrarySearchResult<NVRTCLibrary> {
        DynamicLibrary.load(first: candidates, missing: { attempts in
            "no usable NVRTC (libnvrtc.so) among \(attempts.count) candidates (first \(attempts.prefix(3).map(\.description).joined(separator: "; "))); "
                + "pip install nvidia-cuda-nvrtc or set DG_CUDA_HOME"
        }, NVRTCLibrary.init(library:))
    }

    private init(library: DynamicLibrary) throws {
        self.library = library
        let getVersion = try library.function("nvrtcVersion", as: dg_nvrtc_version_fn.self)
        getErrorString = try library.function("nvrtcGetErrorString", as: dg_nvrtc_get_error_string_fn.self)
        createProgram = try library.function("nvrtcCreateProgram", as: dg_nvrtc_create_program_fn.self)
        destroyProgram = try library.function("nvrtcDestroyProgram", as: dg_nvrtc_destroy_program_fn.self)
        compileProgram = try library.function("nvrtcCompileProgram", as: dg_nvrtc_compile_program_fn.self)
        getProgramLogSize = try library.function("nvrtcGetProgramLogSize", as: dg_nvrtc_get_size_fn.self)
        getProgramLog = try library.function("nvrtcGetProgramLog", as: dg_nvrtc_get_bytes_fn.self)
        getCUBINSize = try library.function("nvrtcGetCUBINSize", as: dg_nvrtc_get_size_fn.self)
        getCUBIN = try library.function("nvrtcGetCUBIN", as: dg_nvrtc_get_bytes_fn.self)
        getPTXSize = try library.function("nvrtcGetPTXSize", as: dg_nvrtc_get_size_fn.self)
        getPTX = try library.function("nvrtcGetPTX", as: dg_nvrtc_get_bytes_fn.self)
        var major: Int32 = 0, minor: Int32 = 0
        guard getVersion(&major, &minor) == 0 else { throw unavailable("nvrtcVersion failed in \(library.path)") }
        version = (Int(major), Int(minor))
        guard version >= NVRTCLibrary.minimumVersion else {
            throw unavailable("\(library.path) is NVRTC \(major).\(minor); \(NVRTCLibrary.minimumVersion.major).\(NVRTCLibrary.minimumVersion.minor) or newer is required")
        }
    }

    /// Throws a ``CUDAError`` naming `call` unless `result` is success.
    func check(_ result: Int32, _ call: @autoclosure () -> String) throws(CUDAError) {
        if result != 0 {
            let name = getErrorString(result).map { String(cString: $0) } ?? "NVRTC_ERROR_\(result)"
            throw CUDAError(library: .nvrtc, call: call(), code: result, name: name)
        }
    }
}
