import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// Ops run where their tensors are: mixed devices are rejected naming the argument, ops without a
/// CUDA kernel reject CUDA tensors naming the op, and ops with CUDA kernels never touch CUDA
/// tensors' memory from the host (no copy is asked for before the CUDA backend is reached).
struct DevicePlacementTests {
    static func host(_ shape: [Int], _ dtype: DType = .bfloat16) -> Tensor { Tensor(zeros: shape, dtype: dtype) }

    @Test func mixedDevicesNameTheFirstArgumentElsewhere() throws {
        let fake = FakeDeviceMemory()
        let d = Self.host([8, 16])
        #expect { try bf16GEMM(.nt, a: Self.host([8, 64]), b: fake.tensor([16, 64], dtype: .bfloat16), d: d) } throws: { namesArgument($0, "b") }
        #expect { try bf16GEMM(.nt, a: fake.tensor([8, 64], dtype: .bfloat16), b: fake.tensor([16, 64], dtype: .bfloat16), d: d) } throws: {
            namesArgument($0, "d")
        }
        let a = QuantizedTensor(data: Self.host([8, 128], .float8E4M3), sf: fake.tensor([8, 1], dtype: .float32))
        let b = QuantizedTensor(data: Self.host([16, 128], .float8E4M3), sf: Self.host([1, 1], .float32))
        #expect { try fp8FP4GEMM(.nt, a: a, b: b, d: d) } throws: { namesArgument($0, "a_sf") }
        #expect(fake.requests == 0)
    }

    @Test func opsWithoutCUDAKernelsRejectCUDATensorsNamingTheOp() throws {
        let fake = FakeDeviceMemory()
        func t(_ shape: [Int], _ dtype: DType = .bfloat16) -> Tensor { fake.tensor(shape, dtype: dtype) }
        let q = QuantizedTensor(data: t([8, 128], .float8E4M3), sf: t([8, 1], .float32))
        let calls: [(String, () throws -> Void)] = [
            ("swiglu_apply_weight_to_fp8", { _ = try swigluApplyWeightToFP8(t([4, 64]), topkWeights: nil) }),
            ("k_grouped_fp8_gemm_tn_contiguous", {
                try kGroupedFP8GEMMContiguous(.tn, a: q, b: q, d: t([1, 8, 8], .float32), ksCPU: [128], groupedLayout: t([1], .int32), c: nil)
            }),
            ("k_grouped_bf16_gemm_tn_contiguous", {
                try kGroupedBF16GEMMTNContiguous(a: t([128, 8]), b: t([128, 8]), d: t([1, 8, 8], .float32), ksCPU: [128], groupedLayout: t([1], .int32), c: nil)
            }),
        ]
        for (op, call) in calls {
            #expect { try call() } throws: { namesArgument($0, op, unsupported: true) }
        }
        #expect(fake.requests == 0)
    }

    @Test("einsum, fp8_einsum and tf32_hc_prenorm_gemm on CUDA tensors go to the CUDA backend without touching their memory",
          .enabled(if: !CUDAState.isUsable, "a CUDA device is present; the GPU suites run these ops"))
    func einsumAndHCOpsReachTheCUDABackend() throws {
        let fake = FakeDeviceMemory()
        func t(_ shape: [Int], _ dtype: DType = .bfloat16) -> Tensor { fake.tensor(shape, dtype: dtype) }
        let d = t([64, 64], .float32)
        let x = QuantizedTensor(data: t([4, 2, 128], .float8E4M3), sf: t([4, 2, 1], .float32))
        let y = QuantizedTensor(data: t([2, 128, 128], .float8E4M3), sf: t([2, 1, 1], .float32))
        let calls: [() throws -> Void] = [
            { try einsum("bmk,bnk->mn", a: t([2, 64, 64]), b: t([2, 64, 64]), d: d, c: d) },
            { try einsum("bhr,hdr->bhd", a: t([4, 2, 64]), b: t([2, 128, 64]), d: t([4, 2, 128])) },
            { try fp8Einsum("bhr,hdr->bhd", a: x, b: y, d: t([4, 2, 128])) },
            { try tf32HCPrenormGEMM(a: t([4, 64]), b: t([16, 64], .float32), d: t([4, 16], .float32), sqrSum: t([4], .float32)) },
        ]
        for call in calls {
            #expect { try call() } throws: { isBackendUnavailable($0) }
        }
        #expect(fake.requests == 0)
    }

    @Test("BF16 GEMMs, cuBLASLt GEMMs and the indexer ops on CUDA tensors go to the CUDA backend without touching their memory",
          .enabled(if: !CUDAState.isUsable, "a CUDA device is present; the GPU suites run these ops"))
    func bf16OpsReachTheCUDABackend() throws {
        let fake = FakeDeviceMemory()
        let calls: [() throws -> Void] = [
            { try bf16GEMM(.nt, a: fake.tensor([8, 64], dtype: .bfloat16), b: fake.tensor([16, 64], dtype: .bfloat16), d: fake.tensor([8, 16], dtype: .float32)) },
            { try mGroupedBF16GEMMNTMasked(a: fake.tensor([1, 8, 64], dtype: .bfloat16), b: fake.tensor([1, 16, 64], dtype: .bfloat16),
                                           d: fake.tensor([1, 8, 16], dtype: .bfloat16), maskedM: fake.tensor([1], dtype: .int32), expectedM: 8) },
            { _ = try fp8MQALogits(q: fake.tensor([4, 32, 64], dtype: .float8E4M3), kv: (fake.tensor([16, 64], dtype: .float8E4M3), fake.tensor([16], dtype: .float32)),
                                   weights: fake.tensor([4, 32], dtype: .float32), cuSeqLenKStart: fake.tensor([4], dtype: .int32),
                                   cuSeqLenKEnd: fake.tensor([4], dtype: .int32)) },
            { _ = try fp8PagedMQALogits(q: fake.tensor([2, 1, 32, 64], dtype: .float8E4M3), kvCache: fake.tensor([4, 64, 1, 68], dtype: .uint8),
                                        weights: fake.tensor([2, 32], dtype: .float32), contextLens: fake.tensor([2, 1], dtype: .int32),
                                        blockTable: fake.tensor([2, 4], dtype: .int32), scheduleMeta: fake.tensor([9, 2], dtype: .int32), maxContextLen: 64) },
            { _ = try getPagedMQALogitsMetadata(contextLens: fake.tensor([2, 1], dtype: .int32), blockKV: 64, numSMs: 8) },
            { try cublasLtGEMM(.nt, a: fake.tensor([8, 64], dtype: .float8E4M3), b: fake.tensor([16, 64], dtype: .float8E4M3),
                               d: fake.tensor([8, 16], dtype: .bfloat16), c: fake.tensor([8, 16], dtype: .bfloat16)) },
        ]
        for call in calls {
            #expect { try call() } throws: { isBackendUnavailable($0) }
        }
        #expect(fake.requests == 0)
    }

    @Test("FP8 GEMM ops on CUDA tensors go to the CUDA backend without touching their memory",
          .enabled(if: !CUDAState.isUsable, "a CUDA device is present; the GPU suites run these ops"))
    func fp8OpsReachTheCUDABackend() throws {
        let fake = FakeDeviceMemory()
        func t(_ shape: [Int], _ dtype: DType = .bfloat16) -> Tensor { fake.tensor(shape, dtype: dtype) }
        let q = QuantizedTensor(data: t([8, 128], .float8E4M3), sf: t([8, 1], .float32))
        let grouped = QuantizedTensor(data: t([1, 8, 128], .float8E4M3), sf: t([1, 8, 1], .float32))
        let calls: [() throws -> Void] = [
            { try fp8FP4GEMM(.nt, a: q, b: q, d: t([8, 8])) },
            { try mGroupedFP8FP4GEMMNTMasked(a: grouped, b: grouped, d: t([1, 8, 8]), maskedM: t([1], .int32), expectedM: 8) },
            { try mGroupedFP8FP4GEMMContiguous(.nt, a: q, b: grouped, d: t([8, 8]), groupedLayout: t([8], .int32)) },
            { try fp8GEMMNTSkipHeadMid(a: q, b: q, d: t([8, 16]), headSplits: [4, 8, 4]) },
            { try fp8FP4GEMM(.nt, a: q, b: q, d: t([8, 8], .float32), c: t([8, 8], .float32), recipe: [1, 1, 128]) },
            { try kGroupedFP8GEMMContiguous(.nt, a: q, b: q, d: t([1, 8, 8], .float32), ksCPU: [128], groupedLayout: t([1], .int32), c: t([1, 8, 8], .float32)) },
        ]
        for call in calls {
            #expect { try call() } throws: { isBackendUnavailable($0) }
        }
        #expect(fake.requests == 0)
    }

    @Test func commonDeviceSkipsAbsentTensors() throws {
        let fake = FakeDeviceMemory()
        #expect(try Device.common([("a", nil), ("b", fake.tensor([1], dtype: .int32)), ("c", nil)]) == .cuda(0))
        #expect(try Device.common([("a", nil)]) == .host)
        #expect { try Device.common([("a", fake.tensor([1], dtype: .int32)), ("b", fake.tensor([1], dtype: .int32, device: .cuda(1)))]) } throws: {
            namesArgument($0, "b")
        }
    }
}
