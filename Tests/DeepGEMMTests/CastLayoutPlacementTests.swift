import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// The public casts and scale-factor layout utilities run where their tensors are: CUDA tensors go
/// to the CUDA backend without the host touching their memory, mixed devices are rejected naming
/// the argument that is elsewhere, host tensors keep the CPU results.
struct CastLayoutPlacementTests {
    @Test("casts and layouts of CUDA tensors reach the CUDA backend without touching their memory",
          .enabled(if: !CUDAState.isUsable, "a CUDA device is present; the GPU suites run these ops"))
    func cudaTensorsReachTheCUDABackend() throws {
        let fake = FakeDeviceMemory()
        let x = fake.tensor([8, 256], dtype: .bfloat16), sf = fake.tensor([8, 4], dtype: .float32)
        let calls: [() throws -> Void] = [
            { _ = try perTokenCastToFP8(x, useUE8M0: true) }, { _ = try perTokenCastToFP4(x, useUE8M0: true, usePackedUE8M0: true) },
            { _ = try perChannelCastToFP8(fake.tensor([128, 16], dtype: .float32), useUE8M0: false) }, { _ = try perBlockCastToFP8(x, useUE8M0: false) },
            { _ = try packUE8M0ToInt(sf) }, { _ = try getMNMajorTMAAlignedTensor(sf) }, { _ = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf) },
            { _ = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: fake.tensor([1], dtype: .int32), ksCPU: [1024], granK: 128,
                                                                    kAlignment: 128) },
            { _ = try transformSFIntoRequiredLayout(sf, mn: 8, k: 512, recipe: .operand(granMN: 1, granK: 128)) },
        ]
        for call in calls {
            #expect { try call() } throws: { isBackendUnavailable($0) }
        }
        #expect(fake.requests == 0)
    }

    @Test("helpers without a CUDA kernel reject CUDA tensors naming the op, without touching their memory")
    func hostOnlyHelpersRejectCUDATensors() throws {
        let fake = FakeDeviceMemory()
        let calls: [(String, () throws -> Void)] = [
            ("per_custom_dims_cast_to_fp8", { _ = try perCustomDimsCastToFP8(fake.tensor([4, 8], dtype: .float32), dims: [0], useUE8M0: false) }),
            ("transpose_packed_fp4", { _ = try transposePackedFP4(fake.tensor([4, 8], dtype: .int8)) }),
            ("cast_back_from_fp4", { _ = try castBackFromFP4(fake.tensor([4, 8], dtype: .int8), sf: fake.tensor([4, 1], dtype: .float32)) }),
            ("ceil_to_ue8m0", { _ = try ceilToUE8M0(fake.tensor([4], dtype: .float32)) }),
            ("unpack_ue8m0_from_int", { _ = try unpackUE8M0FromInt(fake.tensor([4], dtype: .int32)) }),
        ]
        for (op, call) in calls {
            #expect { try call() } throws: { namesArgument($0, op, unsupported: true) }
        }
        #expect(fake.requests == 0)
    }

    @Test func mixedDevicesNameTheArgumentElsewhere() throws {
        let fake = FakeDeviceMemory()
        let sf = Tensor(zeros: [8, 4], dtype: .float32)
        #expect { try getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: fake.tensor([2], dtype: .int32)) } throws: { namesArgument($0, "psum_layout") }
        #expect { try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: fake.tensor([1], dtype: .int32), ksCPU: [1024], granK: 128,
                                                                     kAlignment: 128) } throws: { namesArgument($0, "grouped_layout") }
        #expect { try transformSFIntoRequiredLayout(sf, mn: 8, k: 512, recipe: .operand(granMN: 1, granK: 128), psumLayout: fake.tensor([2], dtype: .int32)) }
            throws: { namesArgument($0, "psum_layout") }
        #expect(fake.requests == 0)
    }

    @Test("host tensors keep the CPU backend's results through the routed functions")
    func hostTensorsRunOnTheCPU() throws {
        let x = Tensor.randn([16, 256], dtype: .bfloat16, seed: 1)
        let routed = try perTokenCastToFP4(x, useUE8M0: true, granK: 32, usePackedUE8M0: true)
        let direct = try DeepGEMMCPU.perTokenCastToFP4(x, useUE8M0: true, granK: 32, usePackedUE8M0: true)
        #expect(routed.data.bitwiseEqual(direct.data) && routed.sf.bitwiseEqual(direct.sf) && routed.sf.device == .host)
        let sf = Tensor.randn([5, 7], dtype: .float32, seed: 2)
        let mnMajor = try getMNMajorTMAAlignedTensor(sf)
        #expect(mnMajor.strides == [1, 8] && mnMajor.bitwiseEqual(sf))
        #expect { try perBlockCastToFP8(Tensor(zeros: [4], dtype: .float32), useUE8M0: false) } throws: { namesArgument($0, "x") }
    }
}
