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
            ("fp8_fp4_gemm_nt", { try fp8FP4GEMM(.nt, a: q, b: q, d: t([8, 8])) }),
            ("einsum", { try einsum("bmk,bnk->mn", a: t([2, 8, 64]), b: t([2, 8, 64]), d: t([8, 8], .float32)) }),
            ("tf32_hc_prenorm_gemm", { try tf32HCPrenormGEMM(a: t([4, 64]), b: t([16, 64], .float32), d: t([4, 16], .float32), sqrSum: t([4], .float32)) }),
            ("swiglu_apply_weight_to_fp8", { _ = try swigluApplyWeightToFP8(t([4, 64]), topkWeights: nil) }),
            ("m_grouped_fp8_fp4_gemm_nt_masked", {
                try mGroupedFP8FP4GEMMNTMasked(a: q, b: q, d: t([1, 8, 8]), maskedM: t([1], .int32), expectedM: 8)
            }),
            ("m_grouped_fp8_fp4_gemm_nt_contiguous", { try mGroupedFP8FP4GEMMContiguous(.nt, a: q, b: q, d: t([8, 8]), groupedLayout: t([8], .int32)) }),
            ("k_grouped_fp8_gemm_tn_contiguous", {
                try kGroupedFP8GEMMContiguous(.tn, a: q, b: q, d: t([1, 8, 8], .float32), ksCPU: [128], groupedLayout: t([1], .int32), c: nil)
            }),
            ("k_grouped_bf16_gemm_tn_contiguous", {
                try kGroupedBF16GEMMTNContiguous(a: t([128, 8]), b: t([128, 8]), d: t([1, 8, 8], .float32), ksCPU: [128], groupedLayout: t([1], .int32), c: nil)
            }),
            ("fp8_gemm_nt_skip_head_mid", { try fp8GEMMNTSkipHeadMid(a: q, b: q, d: t([8, 8]), headSplits: [2, 4, 2]) }),
            ("fp8_einsum", { try fp8Einsum("bhr,hdr->bhd", a: q, b: q, d: t([1, 1, 2])) }),
            ("fp8_fp4_paged_mqa_logits", {
                _ = try fp8PagedMQALogits(q: t([2, 1, 32, 64], .float8E4M3), kvCache: t([4, 64, 1, 68], .uint8), weights: t([2, 32], .float32),
                                          contextLens: t([2], .int32), blockTable: t([2, 4], .int32), scheduleMeta: t([9, 2], .int32), maxContextLen: 64)
            }),
            ("fp8_fp4_mqa_logits", {
                _ = try fp8MQALogits(q: t([4, 32, 64], .float8E4M3), kv: (t([16, 64], .float8E4M3), t([16], .float32)), weights: t([4, 32], .float32),
                                     cuSeqLenKStart: t([4], .int32), cuSeqLenKEnd: t([4], .int32))
            }),
        ]
        for (op, call) in calls {
            #expect { try call() } throws: { namesArgument($0, op, unsupported: true) }
        }
        #expect(fake.requests == 0)
    }

    @Test("BF16 and cuBLASLt ops on CUDA tensors go to the CUDA backend without touching their memory",
          .enabled(if: !CUDAState.isUsable, "a CUDA device is present; the GPU suites run these ops"))
    func bf16OpsReachTheCUDABackend() throws {
        let fake = FakeDeviceMemory()
        let calls: [() throws -> Void] = [
            { try bf16GEMM(.nt, a: fake.tensor([8, 64], dtype: .bfloat16), b: fake.tensor([16, 64], dtype: .bfloat16), d: fake.tensor([8, 16], dtype: .float32)) },
            { try mGroupedBF16GEMMNTMasked(a: fake.tensor([1, 8, 64], dtype: .bfloat16), b: fake.tensor([1, 16, 64], dtype: .bfloat16),
                                           d: fake.tensor([1, 8, 16], dtype: .bfloat16), maskedM: fake.tensor([1], dtype: .int32), expectedM: 8) },
            { try cublasLtGEMM(.nt, a: fake.tensor([8, 64], dtype: .float8E4M3), b: fake.tensor([16, 64], dtype: .float8E4M3),
                               d: fake.tensor([8, 16], dtype: .bfloat16), c: fake.tensor([8, 16], dtype: .bfloat16)) },
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
