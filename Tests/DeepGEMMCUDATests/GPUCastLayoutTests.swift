import DeepGEMM
import Testing
@testable import DeepGEMMCUDA

/// The public casts and scale-factor layout utilities on CUDA tensors against the same calls on
/// host tensors, byte for byte (skipped without a device): outputs stay on the input's device.
@Suite("casts and SF layouts on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUCastLayoutTests {
    /// `x` [m, n] with a zero row and NaN, infinities and subnormals planted.
    static func input(_ m: Int, _ n: Int, dtype: DType, seed: UInt64) throws -> Tensor {
        let x = Tensor.randn([m, n], dtype: dtype, seed: seed, scale: 3)
        if m > 3 { try x.select(dim: 0, index: 3).zero() }
        for (i, value) in [Double.nan, .infinity, -.infinity, 1e-41, -0.0].enumerated() where i < m * n {
            dtype.encode(value, to: x.dataPointer + ((i * 7919) % (m * n)) * dtype.size)
        }
        return x
    }

    /// Both results on the host, compared bytewise (shapes and dtypes included); the GPU one on `.cuda(0)`.
    static func expectSame(_ gpu: QuantizedTensor, _ cpu: QuantizedTensor, _ label: String) throws {
        #expect(gpu.data.device == .cuda(0) && gpu.sf.device == .cuda(0), "\(label) outputs on the device")
        #expect(try gpu.data.to(.host).bitwiseEqual(cpu.data), "\(label) data")
        #expect(try gpu.sf.to(.host).bitwiseEqual(cpu.sf), "\(label) sf")
    }

    @Test("casts: per-token FP8/FP4 (packed UE8M0 too), per-channel and per-block FP8 equal the CPU bytes, strided inputs included",
          arguments: [DType.bfloat16, .float32, .float16])
    func casts(_ dtype: DType) throws {
        let x = try Self.input(256, 520, dtype: dtype, seed: 3)
        let strided = try x.transposed().clone().transposed()
        for source in [x, strided] {
            let device = try source.to(.cuda(0))
            try Self.expectSame(try perTokenCastToFP8(device, useUE8M0: true, granK: 130),
                                try perTokenCastToFP8(source, useUE8M0: true, granK: 130), "per_token fp8")
            try Self.expectSame(try perTokenCastToFP8(device, useUE8M0: true, granK: 130, usePackedUE8M0: true),
                                try perTokenCastToFP8(source, useUE8M0: true, granK: 130, usePackedUE8M0: true), "per_token fp8 packed")
            try Self.expectSame(try perTokenCastToFP4(device, useUE8M0: false, granK: 32),
                                try perTokenCastToFP4(source, useUE8M0: false, granK: 32), "per_token fp4")
            try Self.expectSame(try perTokenCastToFP4(device, useUE8M0: true, granK: 100, usePackedUE8M0: true),
                                try perTokenCastToFP4(source, useUE8M0: true, granK: 100, usePackedUE8M0: true), "per_token fp4 packed")
            try Self.expectSame(try perChannelCastToFP8(device, useUE8M0: false), try perChannelCastToFP8(source, useUE8M0: false), "per_channel")
            try Self.expectSame(try perBlockCastToFP8(device, useUE8M0: true), try perBlockCastToFP8(source, useUE8M0: true), "per_block")
        }
    }

    /// Host and device results with the same shape and strides and the same values.
    static func expectSame(_ gpu: Tensor, _ cpu: Tensor, _ label: String) throws {
        #expect(gpu.device == .cuda(0) && gpu.shape == cpu.shape && gpu.strides == cpu.strides, "\(label) layout")
        #expect(try gpu.to(.host).bitwiseEqual(cpu), "\(label) values")
    }

    @Test("layouts: MN-major TMA-aligned copies and UE8M0 packings (PSUM, k-grouped) equal the CPU results; bad scales throw naming sf")
    func layouts() throws {
        let sf = try perBlockCastToFP8(Tensor.randn([4097, 7296], dtype: .bfloat16, seed: 9), useUE8M0: true, granK: 128).sf.transposed()
        let sf3 = try Tensor.randn([3, 4097, 57], dtype: .float32, seed: 4).transposed(1, 2).clone().transposed(1, 2)
        for s in [sf, sf3] {
            try Self.expectSame(try getMNMajorTMAAlignedTensor(try s.to(.cuda(0))), try getMNMajorTMAAlignedTensor(s), "mn_major \(s.shape)")
        }
        let pow2 = try ceilToUE8M0(Tensor.randn([4097, 57], dtype: .float32, seed: 2))
        let psum = try Tensor([Int32(1000), Int32(2100), Int32(4000)], shape: [3])
        try Self.expectSame(try getMNMajorTMAAlignedPackedUE8M0Tensor(try pow2.to(.cuda(0))), try getMNMajorTMAAlignedPackedUE8M0Tensor(pow2), "packed")
        try Self.expectSame(try getMNMajorTMAAlignedPackedUE8M0Tensor(try pow2.to(.cuda(0)), psumLayout: try psum.to(.cuda(0))),
                            try getMNMajorTMAAlignedPackedUE8M0Tensor(pow2, psumLayout: psum), "packed psum")
        let kSF = try ceilToUE8M0(Tensor.randn([2 + 5 + 1, 64], dtype: .float32, seed: 6))
        let ks = [256, 640, 128], layout = try Tensor(ks.map(Int32.init), shape: [3])
        try Self.expectSame(try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(try kSF.to(.cuda(0)), groupedLayout: try layout.to(.cuda(0)), ksCPU: ks,
                                                                              granK: 128, kAlignment: 128),
                            try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(kSF, groupedLayout: layout, ksCPU: ks, granK: 128, kAlignment: 128), "k_grouped")
        let words = try ceilToUE8M0(Tensor.randn([33, 16], dtype: .float32, seed: 8))
        try Self.expectSame(try packUE8M0ToInt(try words.to(.cuda(0))), try packUE8M0ToInt(words), "pack_ue8m0_to_int")
        let bad = words.clone()
        bad.dataPointer.storeBytes(of: Float(3), toByteOffset: 4 * 40, as: Float.self)
        #expect { try packUE8M0ToInt(try bad.to(.cuda(0))) } throws: { ($0 as? DeepGEMMError)?.argument == "x" }
        #expect { try getMNMajorTMAAlignedPackedUE8M0Tensor(try bad.to(.cuda(0))) } throws: { ($0 as? DeepGEMMError)?.argument == "sf" }
    }

    @Test("transform_sf_into_required_layout on an SM90 device: per-token scales MN-major, per-block unchanged, SM100 cases unsupported")
    func transform() throws {
        let sfa = Tensor.randn([300, 56], dtype: .float32, seed: 1)
        let device = try sfa.to(.cuda(0))
        try Self.expectSame(try transformSFIntoRequiredLayout(device, mn: 300, k: 7168, recipe: .shared(granM: 1, granN: 128, granK: 128), isSFA: true),
                            try transformSFIntoRequiredLayout(sfa, mn: 300, k: 7168, recipe: .shared(granM: 1, granN: 128, granK: 128), isSFA: true,
                                                              settings: DeepGEMMSettings(arch: .sm90)), "sfa")
        let sfb = try Tensor.randn([3, 56], dtype: .float32, seed: 2).to(.cuda(0))
        #expect(try transformSFIntoRequiredLayout(sfb, mn: 300, k: 7168, recipe: .operand(granMN: 128, granK: 128)).firstElementAddress == sfb.firstElementAddress)
        #expect { try transformSFIntoRequiredLayout(try Tensor.randn([300, 224], dtype: .float32, seed: 3).to(.cuda(0)), mn: 300, k: 7168,
                                                    recipe: .operand(granMN: 1, granK: 32)) } throws: { error in
            if case .unsupported(let argument, _) = error as? DeepGEMMError { return argument == "recipe" } else { return false }
        }
    }
}
