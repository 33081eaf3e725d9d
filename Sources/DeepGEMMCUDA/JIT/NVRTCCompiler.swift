import DeepGEMMCore
import Foundation
internal import CCUDA

/// A kernel NVRTC compiled: the cubin, the PTX when asked for, and the compile log.
public struct CompiledKernel: Sendable {
    /// The SASS binary for the target architecture.
    public var cubin: [UInt8]
    /// The PTX, when requested.
    public var ptx: String?
    /// NVRTC's log, including ptxas' resource report.
    public var log: String
    /// The parsed resource report.
    public var report: PtxasReport { PtxasReport(log: log) }
}

/// A JIT compilation failure with the compiler's log.
public struct KernelCompileError: Error, CustomStringConvertible, Sendable {
    /// The kernel family that failed.
    public var kernel: String
    /// The architecture it was compiled for.
    public var architecture: CUDAArchitecture
    /// What went wrong (the NVRTC log, or the resource check that failed).
    public var message: String

    /// `sm90_bf16_gemm for sm_90a: ...`.
    public var description: String { "\(kernel) for \(architecture.rawValue): \(message)" }
}

/// Compiles kernel sources to cubins with NVRTC; needs NVRTC and the CUDA headers, not a GPU.
public final class NVRTCCompiler: Sendable {
    let nvrtc: NVRTCLibrary
    /// The folder holding the CUDA headers the kernels include.
    public let includeDirectory: String

    /// The header whose folder is passed to NVRTC with `-I`.
    static let requiredHeader = "cuda_bf16.h"

    /// The compiler of this process, or why it cannot be built.
    public static let shared: Result<NVRTCCompiler, DeepGEMMError> = NVRTCLibrary.shared.flatMap { nvrtc in
        let paths = CUDASearchPaths.current
        guard let include = paths.includeDirectory(containing: requiredHeader) else {
            return .failure(unavailable(
                "the CUDA headers (\(requiredHeader)) were not found in \(paths.includeCandidates.joined(separator: ", ")); "
                    + "pip install nvidia-cuda-runtime or set DG_CUDA_HOME"))
        }
        return .success(NVRTCCompiler(nvrtc: nvrtc, includeDirectory: include))
    }

    init(nvrtc: NVRTCLibrary, includeDirectory: String) {
        self.nvrtc = nvrtc
        self.includeDirectory = includeDirectory
    }

    /// Path of the NVRTC library in use.
    public var libraryPath: String { nvrtc.library.path }
    /// NVRTC's version as "major.minor".
    public var version: String { "\(nvrtc.version.major).\(nvrtc.version.minor)" }

    /// The NVRTC options for `architecture`; the ptxas report is always requested so resource use
    /// can be checked and cached.
    public func options(for architecture: CUDAArchitecture) -> [String] {
        [
            "--gpu-architecture=\(architecture.rawValue)",
            "-std=c++17",
            "-default-device",
            "-I\(includeDirectory)",
            "--ptxas-options=--verbose",
            "--ptxas-options=--warn-on-local-memory-usage",
            "--ptxas-options=--register-usage-level=10",
        ]
    }

    /// Compiles `source` with the embedded headers for `architecture`.
    public func compile(_ source: KernelSource, for architecture: CUDAArchitecture, keepPTX: Bool) throws -> CompiledKernel {
        let headers = KernelSource.headers
        var program: dg_nvrtc_program?
        try withCStrings(headers.map(\.text)) { texts in
            try withCStrings(headers.map(\.name)) { names in
                try nvrtc.check(nvrtc.createProgram(&program, source.code, source.name + ".cu", Int32(headers.count), texts, names), "nvrtcCreateProgram")
            }
        }
        guard program != nil else { throw KernelCompileError(kernel: source.name, architecture: architecture, message: "nvrtcCreateProgram returned no program") }
        defer { _ = nvrtc.destroyProgram(&program) }

        let flags = options(for: architecture)
        let result = withCStrings(flags) { nvrtc.compileProgram(program, Int32(flags.count), $0) }
        let log = try read(program, size: nvrtc.getProgramLogSize, bytes: nvrtc.getProgramLog, call: "nvrtcGetProgramLog")
        let logText = String(decoding: log.prefix { $0 != 0 }, as: UTF8.self)
        guard result == 0 else {
            throw KernelCompileError(kernel: source.name, architecture: architecture, message: logText.isEmpty ? "NVRTC error \(result)" : logText)
        }
        let cubin = try read(program, size: nvrtc.getCUBINSize, bytes: nvrtc.getCUBIN, call: "nvrtcGetCUBIN")
        let ptx = keepPTX ? String(decoding: try read(program, size: nvrtc.getPTXSize, bytes: nvrtc.getPTX, call: "nvrtcGetPTX").prefix { $0 != 0 }, as: UTF8.self) : nil
        return CompiledKernel(cubin: cubin, ptx: ptx, log: logText)
    }

    private func read(_ program: dg_nvrtc_program?, size: dg_nvrtc_get_size_fn, bytes: dg_nvrtc_get_bytes_fn, call: String) throws -> [UInt8] {
        var count = 0
        try nvrtc.check(size(program, &count), call + "Size")
        var buffer = [UInt8](repeating: 0, count: count)
        try buffer.withUnsafeMutableBytes { raw in
            try nvrtc.check(bytes(program, raw.baseAddress?.assumingMemoryBound(to: CChar.self)), call)
        }
        return buffer
    }
}

/// Calls `body` with a C array of C strings for `strings`, valid for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R) rethrows -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    // A trailing null keeps the array non-empty, so it always has an address
    let pointers = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return try body(pointers)
}
