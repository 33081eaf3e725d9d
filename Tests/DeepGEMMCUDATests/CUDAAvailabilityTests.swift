import DeepGEMM
import DeepGEMMCore
import Foundation
import Testing
@testable import DeepGEMMCUDA

@Suite("Finding CUDA")
struct CUDAAvailabilityTests {
    @Test("a missing driver library is one clear error listing every candidate and why it was rejected")
    func missingDriver() {
        let search = CUDADriver.load(candidates: ["/nonexistent/lib64/libcuda.so.1", "/also/missing/libcuda.so.1"])
        guard case .failure(.backendUnavailable(let backend, let reason)) = search.result else {
            Issue.record("expected backendUnavailable, got \(search.result)")
            return
        }
        #expect(backend == "cuda")
        #expect(reason.contains("no usable CUDA driver library (libcuda.so.1)"))
        #expect(reason.contains("/nonexistent/lib64/libcuda.so.1: rejected: "))
        #expect(reason.contains("/also/missing/libcuda.so.1: rejected: "))
        #expect(reason.contains("DG_CUDA_HOME"))
        #expect(search.attempts.map(\.candidate) == ["/nonexistent/lib64/libcuda.so.1", "/also/missing/libcuda.so.1"])
        #expect(search.attempts.allSatisfy { $0.rejection?.isEmpty == false })
    }

    @Test("a library that is not a CUDA driver is closed and the next candidate tried")
    func notADriver() {
        // libc opens but has no cuGetProcAddress_v2: rejected with the reason, then the next candidate
        let search = CUDADriver.load(candidates: ["libc.so.6", "/nonexistent/libcuda.so.1"])
        #expect(search.attempts.count == 2)
        #expect(search.attempts.first?.rejection?.contains("cuGetProcAddress_v2 is missing") == true)
        #expect(search.attempts.last?.candidate == "/nonexistent/libcuda.so.1")
    }

    @Test("the search takes the first candidate that opens and builds; a failed build (cuInit) falls through to the next")
    func searchFallback() throws {
        var closed: [String] = []
        let libraries = ["system": "cuInit failed: CUDA_ERROR_NO_DEVICE (100)", "/opt/dg/lib64/libcuda.so.1": nil,
                         "/usr/local/cuda/compat/libcuda.so.1": nil] as [String: String?]
        let search = LibrarySearch.first(
            of: ["system", "/missing/libcuda.so.1", "/opt/dg/lib64/libcuda.so.1", "/usr/local/cuda/compat/libcuda.so.1"],
            open: { candidate -> Result<String, LibraryOpenError> in
                libraries[candidate] == nil ? .failure(LibraryOpenError(message: "\(candidate): cannot open shared object file")) : .success(candidate)
            },
            close: { closed.append($0) },
            missing: { _ in "none" },
            build: { (library: String) throws -> String in
                if let failure = libraries[library] ?? nil { throw DeepGEMMError.backendUnavailable(backend: "cuda", reason: failure) }
                return library
            })
        #expect(try search.result.get() == "/opt/dg/lib64/libcuda.so.1")
        #expect(closed == ["system"])
        #expect(search.attempts.map(\.description) == [
            "system: rejected: cuInit failed: CUDA_ERROR_NO_DEVICE (100)",
            "/missing/libcuda.so.1: rejected: /missing/libcuda.so.1: cannot open shared object file",
            "/opt/dg/lib64/libcuda.so.1: loaded",
        ])
    }

    @Test("when every candidate is rejected the error lists each one with its reason")
    func searchExhausted() {
        let search = LibrarySearch.first(
            of: ["a", "b"], open: { Result<String, LibraryOpenError>.success($0) }, close: { _ in },
            missing: { "tried: " + LibrarySearch.summary($0) },
            build: { (library: String) throws -> Int in throw DeepGEMMError.backendUnavailable(backend: "cuda", reason: "\(library) is broken") })
        guard case .failure(.backendUnavailable(_, let reason)) = search.result else {
            Issue.record("expected backendUnavailable, got \(search.result)")
            return
        }
        #expect(reason == "tried: a: rejected: a is broken; b: rejected: b is broken")
        #expect(search.attempts.count == 2)
    }

    @Test("a missing NVRTC names the wheel to install")
    func missingNVRTC() {
        let result = NVRTCLibrary.load(candidates: ["/nonexistent/libnvrtc.so.13"]).result
        guard case .failure(.backendUnavailable(_, let reason)) = result else {
            Issue.record("expected backendUnavailable, got \(result)")
            return
        }
        #expect(reason.contains("pip install nvidia-cuda-nvrtc"))
    }

    @Test("search order: the system loader's libcuda.so.1 first, then the CUDA homes, Python's nvidia wheels, system folders, compat last")
    func searchOrder() throws {
        let site = NSTemporaryDirectory() + "deepgemm-site-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: site) }
        try FileManager.default.createDirectory(atPath: site + "/nvidia/cu13/lib", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: site + "/nvidia/cu13/include", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: site + "/nvidia/cu13/lib/libnvrtc.so.13", contents: Data()))
        #expect(FileManager.default.createFile(atPath: site + "/nvidia/cu13/lib/libnvrtc-builtins.so.13.0", contents: Data()))
        #expect(FileManager.default.createFile(atPath: site + "/nvidia/cu13/include/cuda_bf16.h", contents: Data()))

        let paths = CUDASearchPaths(environment: ["DG_CUDA_HOME": "/opt/dg", "CUDA_HOME": "/opt/cuda"], sitePackages: [site])
        #expect(paths.homes == ["/opt/dg", "/opt/cuda", "/usr/local/cuda"])
        #expect(paths.pythonPackages == [site + "/nvidia/cu13"])
        #expect(paths.driverCandidates == [
            "libcuda.so.1",
            "/opt/dg/lib64/libcuda.so.1", "/opt/cuda/lib64/libcuda.so.1", "/usr/local/cuda/lib64/libcuda.so.1",
            site + "/nvidia/cu13/lib/libcuda.so.1",
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
            "/opt/dg/compat/libcuda.so.1", "/opt/cuda/compat/libcuda.so.1", "/usr/local/cuda/compat/libcuda.so.1",
        ])
        let nvrtc = paths.nvrtcCandidates
        #expect(nvrtc.contains(site + "/nvidia/cu13/lib/libnvrtc.so.13"))
        #expect(!nvrtc.contains { $0.contains("builtins") })
        #expect(nvrtc.last == "libnvrtc.so")
        #expect(paths.includeCandidates.first == "/opt/dg/include")
        #expect(paths.includeDirectory(containing: "cuda_bf16.h") == site + "/nvidia/cu13/include")
    }

    @Test("without a usable device, CUDA tensors cannot be made and info says why", .enabled(if: !isCUDAAvailable))
    func noDevice() throws {
        guard case .unavailable(let reason) = CUDAProbe.availability else {
            Issue.record("CUDA is available here")
            return
        }
        #expect(!reason.isEmpty)
        #expect { try Tensor.empty([4], dtype: .float32, device: .cuda(0)) } throws: {
            if case .backendUnavailable("cuda", _)? = $0 as? DeepGEMMError { return true }
            return false
        }
        #expect(try Tensor(zeros: [2], dtype: .float32).to(.host).device == .host)
        #expect(CUDAProbe.report.contains { $0.component == "driver" })
        #expect(CUDAProbe.driverSearch.first?.candidate == "libcuda.so.1")
    }
}

/// Whether the CUDA backend can run here (a GPU with kernels, NVRTC and headers).
let isCUDAAvailable: Bool = {
    if case .available = CUDAProbe.availability { return true }
    return false
}()

/// Whether NVRTC and the CUDA headers are found (enough for compile tests).
let isNVRTCAvailable: Bool = {
    if case .success = NVRTCCompiler.shared { return true }
    return false
}()
