import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// Every CUDA op on the GPU against the CPU backend on the same random inputs (skipped without a device).
@Suite("CUDA ops on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUOpsTests {
    static let cases: [GEMMCase] = {
        var cases: [GEMMCase] = []
        for layout in ["nt", "nn", "tn", "tt"] {
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 1, n: 256, k: 512))
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 300, n: 520, k: 1032))
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 512, n: 1024, k: 512, outputType: .float32, accumulate: true))
        }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 1024, n: 2048, k: 256, accumulate: true))
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 256, n: 256, k: 7168, outputType: .float32))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nn_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 1024, k: 512, groups: 4, expectedM: 300, psumLayout: true))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 512, n: 1024, k: 512, groups: 4, expectedM: 200))
        return cases
    }()

    @Test("matches the CPU backend (calc_diff < 1e-5)", arguments: cases)
    func matchesCPU(gemmCase: GEMMCase) throws {
        let stream = try CUDAStream(device: try CUDADevice.current())
        let inputs = try GEMMCaseInputs(gemmCase, seed: 11)
        let result = try GEMMCaseRunner(gemmCase, inputs: inputs, stream: stream).run()
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let difference = try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected)
        #expect(difference < GEMMCaseCheck.tolerance, "\(gemmCase): calc_diff \(difference)")
    }

    @Test("device tensors round-trip with their strides")
    func roundTrip() throws {
        let device = try CUDADevice.current()
        let stream = try CUDAStream(device: device)
        let host = try Tensor.randn([64, 48], dtype: .bfloat16, seed: 2).transposed()
        let back = try DeviceTensor(copying: host, to: device, stream: stream).toHost(stream: stream)
        #expect(back.strides == host.strides && back.bitwiseEqual(host))
    }
}
