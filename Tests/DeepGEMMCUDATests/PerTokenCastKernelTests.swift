import DeepGEMMCore
import DeepGEMMCPU
import Testing
@testable import DeepGEMMCUDA

@Suite("per_token_cast_to_fp8 kernel plans")
struct PerTokenCastKernelTests {
    @Test("one warp per (row, group): the grid covers m · ceil(n / gran_k) warps, arguments in the entry's order")
    func plan() throws {
        let x = StridedLayout(address: 0x1000, dtype: .bfloat16, shape: [5, 300], strides: [320, 1])
        let plan = try PerTokenCastKernel().plan(x: x, granK: 128, useUE8M0: true, dataAddress: 0x2000, sfAddress: 0x3000)
        #expect(plan.arguments == [.pointer(0x1000), .u32(320), .pointer(0x2000), .pointer(0x3000), .u32(5), .u32(300), .u32(128)])
        #expect(plan.launch.gridSize == 2 && plan.launch.blockSize == 256 && plan.launch.sharedMemoryBytes == 0)
        #expect(plan.selection.source.code.contains("dg::per_token_cast_to_fp8<dg::CastSource::BF16, true>"))
        let odd = try PerTokenCastKernel().plan(x: StridedLayout(address: 0, dtype: .float32, shape: [3, 7], strides: [7, 1]), granK: 2,
                                                useUE8M0: false, dataAddress: 0, sfAddress: 0)
        #expect(odd.launch.gridSize == 2)  // 3 rows x 4 groups = 12 warps of 8 per CTA
        #expect(odd.selection.source.code.contains("CastSource::F32, false"))
    }

    @Test("inputs the kernel cannot read are named: a column stride, an integer dtype")
    func unsupportedInputs() {
        #expect { try PerTokenCastKernel().plan(x: StridedLayout(address: 0, dtype: .bfloat16, shape: [4, 8], strides: [1, 4]), granK: 4,
                                                 useUE8M0: false, dataAddress: 0, sfAddress: 0) } throws: {
            ($0 as? DeepGEMMError)?.argument == "x"
        }
        #expect { try PerTokenCastKernel().plan(x: StridedLayout(address: 0, dtype: .int32, shape: [4, 8], strides: [8, 1]), granK: 4,
                                                 useUE8M0: false, dataAddress: 0, sfAddress: 0) } throws: {
            ($0 as? DeepGEMMError) == .invalidArgument(argument: "x", rule: "must be float32, bfloat16 or float16, got \(DType.int32)")
        }
    }

    @Test("the compile check lists one kernel per source dtype and rounding")
    func representativeLaunches() throws {
        let launches = try PerTokenCastKernel().representativeLaunches(numSMs: 132)
        #expect(launches.count == 6 && Set(launches.map(\.selection.source)).count == 6)
        #expect(launches.allSatisfy { $0.op == "per_token_cast_to_fp8" })
    }
}

/// The CUDA cast against the CPU cast on the same input, byte for byte (skipped without a device).
@Suite("per_token_cast_to_fp8 on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUCastTests {
    @Test("data and scales equal the CPU backend's bytes (tails, NaN and zero groups included)",
          arguments: [(DType.bfloat16, false, 128), (.float32, true, 128), (.float16, false, 32), (.bfloat16, true, 100)])
    func matchesCPU(_ dtype: DType, _ useUE8M0: Bool, _ granK: Int) throws {
        let x = Tensor.randn([37, 1000], dtype: dtype, seed: 5, scale: 3)
        try x.select(dim: 0, index: 3).zero()
        dtype.encode(.nan, to: x.dataPointer + (5 * 1000 + 17) * dtype.size)
        let cpu = try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: granK)
        let stream = CUDAStream.current(on: try CUDADevice.current())
        let gpu = try CUDABackend.perTokenCastToFP8(try x.to(.cuda(0)), useUE8M0: useUE8M0, granK: granK, stream: stream)
        #expect(try gpu.data.to(.host).bitwiseEqual(cpu.data))
        #expect(try gpu.sf.to(.host).bitwiseEqual(cpu.sf))
    }
}
