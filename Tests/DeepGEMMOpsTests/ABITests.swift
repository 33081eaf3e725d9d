import CDeepGEMMABI
import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMC
@testable import DeepGEMMOps

/// The C entry points called from Swift: descriptors, errors, results, DLPack export and the Mega
/// MoE buffer. (No test here changes a process-wide setting: other suites run concurrently.)
@Suite struct ABITests {
    static let f32 = dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 32, lanes: 1)

    @Test func gemmWritesTheCallersMemoryZeroCopyWithAnyStrides() throws {
        let a = Tensor.randn([5, 7], dtype: .float32, seed: 1), b = Tensor.randn([3, 7], dtype: .float32, seed: 2)
        let expected = Tensor(zeros: [5, 3], dtype: .float32)
        try cublasLtGEMM(.nt, a: a, b: b, d: expected, c: nil)
        // a as an MN-major view: the same values with strides (1, 5).
        let storage = TensorStorage(byteCount: 35 * 4)
        let aMNMajor = try Tensor(storage: storage, dtype: .float32, shape: [5, 7], strides: [1, 5])
        try aMNMajor.copy(from: a)
        let d = Tensor(zeros: [5, 3], dtype: .float32)
        let call = CCall()
        call.tensor("a", aMNMajor)
        call.tensor("b", b)
        call.tensor("d", d)
        let (status, results) = call.call("cublaslt_gemm_nt")
        defer { dg_results_free(results) }
        #expect(status == code(DG_OK), "\(lastError())")
        #expect(d.floatValues() == expected.floatValues())
        #expect(dg_results_count(results) == 1)
        #expect(String(cString: try #require(dg_results_name(results, 0))) == "d")
        #expect(dg_results_tensor(results, 0)?.pointee.data == d.dataPointer)
    }

    @Test func badDescriptorsAreRejectedNamingTheArgument() {
        var data = [Float](repeating: 1, count: 16)
        data.withUnsafeMutableBytes { bytes in
            let base = bytes.baseAddress!
            let cases: [(String, (CCall) -> UnsafeMutablePointer<dg_tensor>, dg_status)] = [
                ("null data", { $0.descriptor(data: nil, dtype: Self.f32, shape: [4]) }, DG_ERROR_INVALID_ARGUMENT),
                ("negative size", { $0.descriptor(data: base, dtype: Self.f32, shape: [-1]) }, DG_ERROR_INVALID_ARGUMENT),
                ("negative stride", { $0.descriptor(data: base, dtype: Self.f32, shape: [2, 2], strides: [-2, 1]) }, DG_ERROR_INVALID_ARGUMENT),
                ("ndim 9", { $0.descriptor(data: base, dtype: Self.f32, shape: [Int64](repeating: 1, count: 9)) }, DG_ERROR_INVALID_ARGUMENT),
                ("negative ndim", { $0.descriptor(data: base, dtype: Self.f32, shape: [], ndim: -1) }, DG_ERROR_INVALID_ARGUMENT),
                ("null shape", { $0.descriptor(data: base, dtype: Self.f32, shape: [4], nullShape: true) }, DG_ERROR_INVALID_ARGUMENT),
                ("unknown dtype", { $0.descriptor(data: base, dtype: dg_dtype(code: 99, bits: 32, lanes: 1), shape: [4]) }, DG_ERROR_TYPE),
                ("vector lanes", { $0.descriptor(data: base, dtype: dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 32, lanes: 4), shape: [4]) }, DG_ERROR_TYPE),
                ("unknown device", { $0.descriptor(data: base, dtype: Self.f32, shape: [4], device: 7) }, DG_ERROR_UNSUPPORTED),
            ]
            for (label, make, expected) in cases {
                let call = CCall()
                call.tensor("x", descriptor: make(call))
                let (status, results) = call.call("ceil_to_ue8m0")
                #expect(status == code(expected), "\(label): status \(status), \(lastError())")
                #expect(results == nil, "\(label): no results on failure")
                #expect(lastError().argument == "x", "\(label): names x, got \(lastError())")
            }
            // An empty tensor may have NULL data.
            let empty = CCall()
            empty.tensor("x", descriptor: empty.descriptor(data: nil, dtype: Self.f32, shape: [0, 3]))
            let (status, results) = empty.call("ceil_to_ue8m0")
            #expect(status == code(DG_OK), "\(lastError())")
            dg_results_free(results)
        }
    }

    @Test func callErrorsCarryStatusMessageAndArgument() {
        let x = Tensor(zeros: [2], dtype: .float32)
        #expect(CCall().call("no_such_op").status == code(DG_ERROR_UNKNOWN_OP))
        #expect(lastError().message.contains("no_such_op"))

        let unknown = CCall()
        unknown.tensor("x", x)
        unknown.int("bogus", 1)
        #expect(unknown.call("ceil_to_ue8m0").status == code(DG_ERROR_INVALID_ARGUMENT))
        #expect(lastError().argument == "bogus" && lastError().message.contains("not an argument of ceil_to_ue8m0"))

        let wrongKind = CCall()
        wrongKind.string("x", "tensor please")
        #expect(wrongKind.call("ceil_to_ue8m0").status == code(DG_ERROR_TYPE))
        #expect(lastError().argument == "x")

        let repeated = CCall()
        repeated.tensor("x", x)
        repeated.tensor("x", x)
        #expect(repeated.call("ceil_to_ue8m0").status == code(DG_ERROR_INVALID_ARGUMENT))

        let badKind = CCall()
        badKind.rawKind("x", 42)
        #expect(badKind.call("ceil_to_ue8m0").status == code(DG_ERROR_TYPE))

        let missing = CCall()
        missing.bool("use_ue8m0", true)
        #expect(missing.call("per_token_cast_to_fp8").status == code(DG_ERROR_INVALID_ARGUMENT))
        #expect(lastError().argument == "x")

        // A rule of the op itself: d must be [m, n].
        let gemm = CCall()
        gemm.tensor("a", Tensor(zeros: [4, 8], dtype: .float32))
        gemm.tensor("b", Tensor(zeros: [2, 8], dtype: .float32))
        gemm.tensor("d", Tensor(zeros: [4, 3], dtype: .float32))
        #expect(gemm.call("cublaslt_gemm_nt").status == code(DG_ERROR_INVALID_ARGUMENT))
        #expect(lastError().argument == "d")

        // A success clears the thread's error.
        let fine = CCall()
        fine.tensor("x", x)
        let (status, results) = fine.call("ceil_to_ue8m0")
        #expect(status == code(DG_OK) && lastError().message.isEmpty)
        dg_results_free(results)
    }

    @Test func resultsByIndexIntsAndRangeErrors() throws {
        let call = CCall()
        call.tensor("x", try Tensor([Float(1), -3, 0.2, 100], shape: [2, 2]))
        call.bool("use_ue8m0", true)
        call.int("gran_k", 2)
        let (status, results) = call.call("per_token_cast_to_fp8")
        defer { dg_results_free(results) }
        #expect(status == code(DG_OK), "\(lastError())")
        #expect(dg_results_count(results) == 2)
        #expect((0..<2).map { String(cString: dg_results_name(results, $0)!) } == ["out0", "out1"])
        #expect(dg_results_tensor(results, 0)?.pointee.dtype.code == UInt8(DG_DTYPE_FLOAT8_E4M3FN))
        let sf = try resultTensor(results, 1, dtype: .float32)
        // amax / 448 rounded up to a power of two: 3/448 -> 2^-7, 100/448 -> 2^-2.
        #expect(sf.floatValues() == [0.0078125, 0.25])
        #expect(dg_results_tensor(results, 2) == nil && lastError().argument == "index")
        var value: Int64 = 0
        #expect(dg_results_int(results, 0, &value) == code(DG_ERROR_INVALID_ARGUMENT))

        let size = CCall()
        size.int("x", 100)
        size.int("element_size", 2)
        let aligned = size.call("get_tma_aligned_size")
        defer { dg_results_free(aligned.results) }
        #expect(dg_results_int(aligned.results, 0, &value) == code(DG_OK) && value == 104)
    }

    @Test func dlpackExportOutlivesTheResultsUntilItsDeleterRuns() throws {
        final class Flag: @unchecked Sendable { var released = false }
        let flag = Flag()
        // Results holding the only reference to an FP8 tensor whose release sets the flag.
        func makeResults() throws -> OpaquePointer {
            let storage = TensorStorage(wrapping: UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8), byteCount: 8) { pointer, _ in
                flag.released = true
                pointer.deallocate()
            }
            let tensor = try Tensor(storage: storage, dtype: .float8E4M3, shape: [2, 4], strides: [4, 1])
            return OpaquePointer(Unmanaged.passRetained(ABIResults([("t", tensor)])).toOpaque())
        }
        let results = try makeResults()
        let exported = try #require(dg_results_export_dlpack(results, 0)).assumingMemoryBound(to: dg_dl_managed_tensor.self)
        #expect(exported.pointee.dl_tensor.dtype.code == UInt8(DG_DTYPE_UINT) && exported.pointee.dl_tensor.dtype.bits == 8)
        #expect(exported.pointee.dl_tensor.data == dg_results_tensor(results, 0)?.pointee.data && exported.pointee.dl_tensor.shape[1] == 4)
        #expect(dg_results_tensor(results, 0)?.pointee.dtype.code == UInt8(DG_DTYPE_FLOAT8_E4M3FN), "the results keep the exact type")
        dg_results_free(results)
        #expect(!flag.released, "the export keeps the tensor alive")
        exported.pointee.deleter(exported)
        #expect(flag.released, "the deleter releases it")
        #expect(dg_results_export_dlpack(nil, 0) == nil)
    }

    @Test func tableAndInfoJSONParse() throws {
        let table = try JSONSerialization.jsonObject(with: Data(String(cString: dg_op_table_json()).utf8)) as? [String: Any]
        #expect((table?["ops"] as? [Any])?.count == OpTable.ops(for: .abi).count)
        let info = try JSONSerialization.jsonObject(with: Data(String(cString: dg_info_json()).utf8)) as? [String: Any]
        #expect(info?["version"] as? String == DeepGEMMVersion.string)
        #expect(info?["cpu_threads"] as? Int == CPUParallelism.threadCount)
        #expect(dg_abi_version() == DG_ABI_VERSION)
        #expect(dg_set_tc_util(101) == code(DG_ERROR_INVALID_ARGUMENT) && lastError().argument == "tc_util")
        #expect(String(cString: dg_get_arch()) == (RuntimeSettings.current.arch == .sm90 ? "sm90" : "sm100"))
        #expect(dg_set_arch("sm75") == code(DG_ERROR_INVALID_ARGUMENT))
        #expect(dg_set_num_threads(-1) == -1)
        #expect(dg_cuda_set_current_stream(1, nil) != code(DG_OK))
    }
}

/// CUDA descriptors where no CUDA driver can be used.
@Suite struct ABICUDADescriptorTests {
    @Test(.enabled(if: (try? CUDADevice.current()) == nil, "a CUDA driver is present"))
    func cudaTensorsWithoutADriverAreBackendUnavailable() {
        var data = [Float](repeating: 0, count: 4)
        data.withUnsafeMutableBytes { bytes in
            let call = CCall()
            call.tensor("x", descriptor: call.descriptor(data: bytes.baseAddress, dtype: ABITests.f32, shape: [4], device: Int32(DG_DEVICE_CUDA)))
            #expect(call.call("ceil_to_ue8m0").status == code(DG_ERROR_BACKEND_UNAVAILABLE), "\(lastError())")
        }
    }
}
