import DeepGEMM
import DeepGEMMCore
import Foundation
import Testing
@testable import DeepGEMMCUDA

@Suite("Finding CUDA")
struct CUDAAvailabilityTests {
    @Test("a missing driver library is one clear error listing where it looked")
    func missingDriver() {
        let result = CUDADriver.load(candidates: ["/nonexistent/lib64/libcuda.so.1", "/also/missing/libcuda.so.1"])
        guard case .failure(.backendUnavailable(let backend, let reason)) = result else {
            Issue.record("expected backendUnavailable, got \(result)")
            return
        }
        #expect(backend == "cuda")
        #expect(reason.contains("libcuda.so.1 was not found"))
        #expect(reason.contains("/nonexistent/lib64/libcuda.so.1, /also/missing/libcuda.so.1"))
        #expect(reason.contains("DG_CUDA_HOME"))
    }

    @Test("a missing NVRTC names the wheel to install")
    func missingNVRTC() {
        let result = NVRTCLibrary.load(candidates: ["/nonexistent/libnvrtc.so.13"])
        guard case .failure(.backendUnavailable(_, let reason)) = result else {
            Issue.record("expected backendUnavailable, got \(result)")
            return
        }
        #expect(reason.contains("pip install nvidia-cuda-nvrtc"))
    }

    @Test("search order: DG_CUDA_HOME, CUDA_HOME, /usr/local/cuda, Python's nvidia wheels, then the system loader")
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
        #expect(Array(paths.driverCandidates.prefix(2)) == ["/opt/dg/lib64/libcuda.so.1", "/opt/dg/compat/libcuda.so.1"])
        #expect(paths.driverCandidates.contains("libcuda.so.1"))
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
