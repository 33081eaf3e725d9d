import Testing
import DeepGEMM

/// The ops with SM90 BF16 CUDA kernels run them only when asked for `.cuda`; without a usable
/// CUDA device that request is a typed error and D is left untouched.
@Suite(.enabled(if: Backend.cudaUnavailableReason != nil, "a CUDA device is present; the GPU suites cover these ops"))
struct CUDADispatchTests {
    static func bf16(_ shape: [Int]) -> Tensor { Tensor.randn(shape, dtype: .bfloat16, seed: 3) }

    @Test func bf16OpsRequestingCUDAThrowWithoutADevice() throws {
        let d = Tensor.randn([8, 16], dtype: .bfloat16, seed: 9), before = d.clone()
        let layout = try Tensor([Int32](repeating: 0, count: 8), shape: [8])
        let calls: [() throws -> Void] = [
            { try bf16GEMM(.nt, a: Self.bf16([8, 64]), b: Self.bf16([16, 64]), d: d, backend: .cuda) },
            { try mGroupedBF16GEMMContiguous(.nt, a: Self.bf16([8, 64]), b: Self.bf16([1, 16, 64]), d: d, groupedLayout: layout, backend: .cuda) },
            { try mGroupedBF16GEMMNTMasked(a: Self.bf16([1, 8, 64]), b: Self.bf16([1, 16, 64]), d: d.reshaped([1, 8, 16]),
                                           maskedM: Tensor([Int32(8)], shape: [1]), expectedM: 8, backend: .cuda) },
        ]
        expectCUDAUnavailable(calls)
        #expect(d.bitwiseEqual(before))
        // `.auto` runs them on the CPU.
        try bf16GEMM(.nt, a: Self.bf16([8, 64]), b: Self.bf16([16, 64]), d: d, backend: .auto)
        #expect(!d.bitwiseEqual(before))
    }
}
