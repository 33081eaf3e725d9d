import DeepGEMMCore
import DeepGEMMCPU
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

/// The cast and scale-factor layout kernels' arithmetic (`layout/block_cast.cuh`,
/// `layout/sf_layout.cuh`) compiled for the host and run thread by thread with the arguments the
/// CUDA plans pass (host addresses standing for device ones), compared byte for byte with the CPU
/// backend on random and edge inputs.
@Suite("cast and SF layout kernels on the host")
struct CastLayoutKernelHostTests {
    /// `x` [m, n] of `dtype` with a zero row, NaN, ±Inf, subnormals and ±0 planted.
    static func input(_ m: Int, _ n: Int, dtype: DType, seed: UInt64) throws -> Tensor {
        let x = Tensor.randn([m, n], dtype: dtype, seed: seed, scale: 3)
        if m > 3 { try x.select(dim: 0, index: 3).zero() }
        let specials: [Double] = [.nan, .infinity, -.infinity, 1e-41, -1e-45, 0, -0.0, 1e-30, 65000, -3e-8]
        for (i, value) in specials.enumerated() where i < m * n {
            let index = (i * 7919) % (m * n)
            dtype.encode(value, to: x.dataPointer + index * dtype.size)
        }
        return x
    }

    /// The cast of `x` as the two CUDA passes compute it (scales, data; packed scales when asked).
    static func hostCast(_ x: Tensor, _ problem: CastProblem) throws -> (data: Tensor, sf: Tensor) {
        let data = Tensor(zeros: problem.dataShape, dtype: problem.isFP4 ? .float4E2M1x2 : .float8E4M3)
        let sf = Tensor(zeros: [problem.scaleRows, problem.storedScaleColumns], dtype: .float32)
        let plans = try BlockCastKernel().plans(problem, x: x.layout, dataAddress: data.deviceAddress, sfAddress: sf.deviceAddress)
        #expect(plans.count == 2 && plans[1].arguments.last == .pointer(data.deviceAddress))
        let v = plans[0].arguments.compactMap { if case .u32(let value) = $0 { value } else { nil } }
        let source = UInt32(PerTokenCastKernel.sources.firstIndex { $0.dtype == x.dtype }!)
        dg_host_block_cast(source, problem.isFP4, problem.useUE8M0, x.firstElementAddress, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                           UInt32(BlockCastKernel.scaleThreads), sf.dataPointer.assumingMemoryBound(to: Float.self),
                           data.dataPointer.assumingMemoryBound(to: UInt8.self))
        guard problem.usePackedUE8M0 else { return (data, sf) }
        var shape = sf.shape
        shape[1] /= 4
        let packed = Tensor(zeros: shape, dtype: .int32)
        let bad = dg_host_pack_ue8m0(sf.dataPointer.assumingMemoryBound(to: UInt32.self), UInt64(packed.count),
                                     packed.dataPointer.assumingMemoryBound(to: UInt32.self))
        #expect(bad == UInt64.max)
        return (data, packed)
    }

    @Test("the two-pass casts (per-token FP4 and FP8, per-channel, per-block) equal the CPU bytes (odd sizes, specials, strided inputs)",
          arguments: [DType.float32, .bfloat16, .float16])
    func castsMatchCPU(_ dtype: DType) throws {
        let cases: [(CastProblem.Kind, m: Int, n: Int, granK: Int, ue8m0: Bool, packed: Bool)] = [
            (.perTokenFP4, 37, 300, 128, false, false), (.perTokenFP4, 5, 64, 32, true, true), (.perTokenFP4, 9, 70, 7, true, false),
            (.perTokenFP4, 3, 258, 128, true, true), (.perChannelFP8, 256, 77, 128, false, false), (.perChannelFP8, 36, 10, 12, true, false),
            (.perBlockFP8, 200, 300, 128, false, false), (.perBlockFP8, 33, 17, 8, true, false), (.perBlockFP8, 1, 1, 128, true, false),
            (.perTokenFP8, 37, 300, 128, false, false), (.perTokenFP8, 6, 512, 32, true, true),
        ]
        for (index, c) in cases.enumerated() {
            let base = try Self.input(c.m, c.n, dtype: dtype, seed: UInt64(index))
            // The same values as a transposed view of a [n, m] tensor: element strides (1, m)
            let strided = try base.transposed().clone().transposed()
            for x in [base, strided] {
                let problem = try CastProblem(c.0, x: x, useUE8M0: c.ue8m0, granK: c.granK, usePackedUE8M0: c.packed)
                let expected: QuantizedTensor
                switch c.0 {
                case .perTokenFP4: expected = try DeepGEMMCPU.perTokenCastToFP4(x, useUE8M0: c.ue8m0, granK: c.granK, usePackedUE8M0: c.packed)
                case .perTokenFP8: expected = try DeepGEMMCPU.perTokenCastToFP8(x, useUE8M0: c.ue8m0, granK: c.granK, usePackedUE8M0: c.packed)
                case .perChannelFP8: expected = try DeepGEMMCPU.perChannelCastToFP8(x, useUE8M0: c.ue8m0, granK: c.granK)
                default: expected = try DeepGEMMCPU.perBlockCastToFP8(x, useUE8M0: c.ue8m0, granK: c.granK)
                }
                let host = try Self.hostCast(x, problem)
                #expect(host.data.bitwiseEqual(expected.data), "data of case \(index) strides \(x.strides)")
                #expect(host.sf.bitwiseEqual(expected.sf), "sf of case \(index) strides \(x.strides)")
            }
        }
    }

    /// Every word of `tensor`'s storage from its first element (padding included).
    static func words(_ tensor: Tensor, count: Int) throws -> [UInt32] {
        try Tensor(storage: tensor.storage, dtype: .int32, shape: [count], strides: [1], offset: tensor.offset).elements(as: UInt32.self)
    }

    /// The kernels' `SFBatches` parameters of `rows`, read back from the plan arguments.
    static func batches(_ rows: ScaleFactorBatches) throws -> dg_host_sf_batches {
        let v = try SFLayoutKernel.batchArguments(rows).compactMap { if case .u32(let value) = $0 { value } else { nil } }
        return dg_host_sf_batches(batches: v[0], mn: v[1], sf_k: v[2], batch_stride: v[3], mn_stride: v[4], k_stride: v[5], row_divisor: v[6])
    }

    /// F32 scale tensors of several layouts: contiguous 2-D and 3-D, MN-major, odd MN.
    static func scaleInputs(powersOfTwo: Bool) throws -> [Tensor] {
        func make(_ shape: [Int], seed: UInt64) -> Tensor {
            let t = Tensor.randn(shape, dtype: .float32, seed: seed, scale: 5)
            guard powersOfTwo else { return t }
            let p = t.dataPointer.assumingMemoryBound(to: UInt32.self)
            for i in 0..<t.count { p[i] = i % 11 == 0 ? 0 : UInt32(100 + (i * 37) % 60) << 23 }
            return t
        }
        return [make([37, 9], seed: 1), make([3, 13, 5], seed: 2), try make([7, 40], seed: 3).transposed(), make([4, 3], seed: 4),
                try make([2, 6, 10], seed: 5).transposed(1, 2)]
    }

    @Test("get_mn_major_tma_aligned_tensor's kernel writes the CPU result's storage, padding rows zero")
    func mnMajorCopy() throws {
        for sf in try Self.scaleInputs(powersOfTwo: false) {
            let rows = try ScaleFactorBatches(sf)
            let expected = try DeepGEMMCore.getMNMajorTMAAlignedTensor(sf)
            let count = rows.mnMajorOutput(columns: rows.sfK).elements
            #expect(expected.shape == rows.mnMajorOutput(columns: rows.sfK).shape && expected.strides == rows.mnMajorOutput(columns: rows.sfK).strides
                    || rows.hasMNMajorTMAAlignedStrides)
            guard !rows.hasMNMajorTMAAlignedStrides else { continue }
            var out = [UInt32](repeating: 0xDEAD_BEEF, count: count)
            dg_host_mn_major_copy(sf.firstElementAddress.assumingMemoryBound(to: UInt32.self), try Self.batches(rows), &out)
            #expect(out == (try Self.words(expected, count: count)), "shape \(sf.shape) strides \(sf.strides)")
        }
    }

    @Test("the MN-major UE8M0 packing kernel equals the CPU packing, with and without PSUM ranges; bad scales are reported")
    func mnMajorPack() throws {
        for sf in try Self.scaleInputs(powersOfTwo: true) {
            let rows = try ScaleFactorBatches(sf)
            var layouts: [Tensor?] = [nil]
            if rows.batches == 1 && sf.isContiguous { layouts.append(try Tensor([Int32(5), Int32(20), Int32(30)], shape: [3])) }
            for psum in layouts {
                let settings = DeepGEMMSettings.default
                let expected = try DeepGEMMCore.getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: psum, settings: settings)
                let ranges = try rows.packedRowRanges(psumLayout: psum, settings: settings).flatMap { [UInt32($0.lowerBound), UInt32($0.upperBound)] }
                let count = rows.mnMajorOutput(columns: ceilDiv(rows.sfK, 4)).elements
                var out = [UInt32](repeating: 0xDEAD_BEEF, count: count)
                let bad = dg_host_mn_major_pack(sf.firstElementAddress.assumingMemoryBound(to: UInt32.self), try Self.batches(rows), ranges,
                                                UInt32(ranges.count / 2), &out)
                #expect(bad == UInt64.max)
                #expect(out == (try Self.words(expected, count: count)), "shape \(sf.shape) strides \(sf.strides) psum \(psum != nil)")
            }
        }
        let sf = try Self.scaleInputs(powersOfTwo: true)[0]
        sf.dataPointer.storeBytes(of: Float(3), toByteOffset: 4 * 20, as: Float.self)
        #expect(throws: DeepGEMMError.self) { try DeepGEMMCore.getMNMajorTMAAlignedPackedUE8M0Tensor(sf) }
        let rows = try ScaleFactorBatches(sf)
        var out = [UInt32](repeating: 0, count: rows.mnMajorOutput(columns: ceilDiv(rows.sfK, 4)).elements)
        #expect(dg_host_mn_major_pack(sf.firstElementAddress.assumingMemoryBound(to: UInt32.self), try Self.batches(rows), [0, UInt32(rows.mn)], 1, &out) == 20)
    }

    @Test("the k-grouped packing kernel equals the CPU packing (groups restart at packed rows, empty groups, PSUM bounds)")
    func kGroupedPack() throws {
        let mn = 12
        let cases: [(ks: [Int], psum: Bool, layout: [Int32])] = [
            ([256, 0, 640, 128], false, [256, 0, 640, 128]), ([1024], false, [1024]), ([128, 384], true, [128, 512]), ([], true, [96, 300]),
        ]
        for c in cases {
            let sfRows = c.ks.isEmpty ? 6 : c.ks.reduce(0) { $0 + ceilDiv($1, 128) }
            let sf = Tensor(zeros: [sfRows, mn], dtype: .float32)
            let p = sf.dataPointer.assumingMemoryBound(to: UInt32.self)
            for i in 0..<sf.count { p[i] = i % 5 == 0 ? 0 : UInt32(110 + i % 30) << 23 }
            let layout = try Tensor(c.layout, shape: [c.layout.count])
            let expected = try DeepGEMMCore.getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: layout, ksCPU: c.ks, granK: 128,
                                                                                          kAlignment: 128, usePsumLayout: c.psum)
            let packing = try KGroupedPacking(sf, groupedLayout: layout, ksCPU: c.ks, granK: 128, kAlignment: 128, usePsumLayout: c.psum)
            let table = packing.rows.flatMap { [UInt32($0.first), UInt32($0.count)] }
            var out = [UInt32](repeating: 0xDEAD_BEEF, count: packing.rows.count * mn)
            let bad = dg_host_k_grouped_pack(p, UInt32(mn), table, UInt32(packing.rows.count), &out)
            #expect(bad == UInt64.max)
            #expect(out == (try expected.elements(as: UInt32.self)), "ks \(c.ks) psum \(c.psum)")
        }
    }

    @Test("the pack_ue8m0_to_int kernel equals the CPU packing (+inf included) and reports the first bad scale")
    func packUE8M0() throws {
        let x = Tensor(zeros: [6, 16], dtype: .float32)
        let p = x.dataPointer.assumingMemoryBound(to: UInt32.self)
        for i in 0..<x.count { p[i] = i % 7 == 0 ? 0 : UInt32(1 + (i * 13) % 254) << 23 }
        var out = [UInt32](repeating: 0, count: 24)
        #expect(dg_host_pack_ue8m0(p, 24, &out) == UInt64.max)
        #expect(out == (try DeepGEMMCPU.packUE8M0ToInt(x).elements(as: UInt32.self)))
        let infinity = x.clone()
        infinity.dataPointer.storeBytes(of: 0x7F80_0000 as UInt32, toByteOffset: 4 * 50, as: UInt32.self)
        #expect(dg_host_pack_ue8m0(infinity.dataPointer.assumingMemoryBound(to: UInt32.self), 24, &out) == UInt64.max)
        #expect(out == (try DeepGEMMCPU.packUE8M0ToInt(infinity).elements(as: UInt32.self)))  // +inf packs as 0xFF, as on the CPU
        for (index, bits) in [(9, 0x8000_0000 as UInt32), (50, 0x7F80_0001), (77, 0x3FC0_0000)] {
            let y = x.clone()
            y.dataPointer.storeBytes(of: bits, toByteOffset: 4 * index, as: UInt32.self)
            #expect(dg_host_pack_ue8m0(y.dataPointer.assumingMemoryBound(to: UInt32.self), 24, &out) == UInt64(index))
            #expect(throws: DeepGEMMError.self) { try DeepGEMMCPU.packUE8M0ToInt(y) }
        }
    }

    @Test("the compile check lists both cast passes per op and source, and the four layout kernels")
    func representativeLaunches() throws {
        let casts = try BlockCastKernel().representativeLaunches(numSMs: 132)
        #expect(casts.count == 3 * 3 * 3 && Set(casts.map(\.selection.source)).count == 2 * 3 * 2 + 2 * 3)
        let layouts = try SFLayoutKernel().representativeLaunches(numSMs: 132)
        #expect(Set(layouts.map(\.op)) == ["pack_ue8m0_to_int", "get_mn_major_tma_aligned_tensor", "get_mn_major_tma_aligned_packed_ue8m0_tensor",
                                           "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor"])
        #expect(KernelFamilies.all.contains { $0.name == "sm90_block_cast" } && KernelFamilies.all.contains { $0.name == "sm90_sf_layout" })
    }
}
