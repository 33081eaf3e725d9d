import DeepGEMM
import DeepGEMMCUDA

/// The layout and cast kernels (``BlockCastKernel``, ``SFLayoutKernel``) as device-check cases: the
/// public functions on CUDA tensors against the same calls on host tensors, bit for bit.
enum LayoutCastCases {
    /// The block-scaled casts, and the scale-factor layouts.
    static let families: [DeviceCheckFamily] = [
        DeviceCheckFamily(name: "block casts", kernelFamilies: [BlockCastKernel().name], part: .b,
                          smoke: LayoutCastCase(.cast(.perBlockFP8, useUE8M0: true, granK: 128, packed: false, transposed: false), m: 256, n: 384),
                          verification: LayoutCastCase.castVerification, benchmark: LayoutCastCase.castBenchmark,
                          host: LayoutCastCase.castHost),
        DeviceCheckFamily(name: "sf layouts", kernelFamilies: [SFLayoutKernel().name], part: .b,
                          smoke: LayoutCastCase(.mnMajor, m: 300, n: 56), verification: LayoutCastCase.layoutVerification,
                          benchmark: LayoutCastCase.layoutBenchmark, host: LayoutCastCase.layoutHost),
    ]
}

/// One call of a cast or layout utility on `x` or `sf` [m, n].
struct LayoutCastCase: DeviceCheckCase {
    /// The function and its options.
    enum Call: Sendable {
        /// A cast of x [m, n] (stored transposed, i.e. element strides (1, m), with `transposed`).
        case cast(CastProblem.Kind, useUE8M0: Bool, granK: Int, packed: Bool, transposed: Bool)
        /// `get_mn_major_tma_aligned_tensor` of a K-major f32 sf [m, n].
        case mnMajor
        /// `get_mn_major_tma_aligned_packed_ue8m0_tensor` of powers of two [m, n], with PSUM group ends.
        case mnMajorPacked(psum: [Int32]?)
        /// `get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor` of groups with K sizes `ks`, MN = n.
        case kGrouped(ks: [Int])
        /// `pack_ue8m0_to_int` of powers of two [m, n].
        case packUE8M0
    }

    /// The call.
    var call: Call
    /// The input's extents.
    var m: Int, n: Int

    /// Creates a case.
    init(_ call: Call, m: Int, n: Int) { (self.call, self.m, self.n) = (call, m, n) }

    /// Odd sizes, every source dtype's path, strided inputs, packed scales.
    static let castVerification: [LayoutCastCase] = [
        .init(.cast(.perTokenFP4, useUE8M0: false, granK: 128, packed: false, transposed: false), m: 257, n: 7168),
        .init(.cast(.perTokenFP4, useUE8M0: true, granK: 32, packed: true, transposed: false), m: 100, n: 192),
        .init(.cast(.perTokenFP8, useUE8M0: true, granK: 128, packed: false, transposed: true), m: 130, n: 1000),
        .init(.cast(.perChannelFP8, useUE8M0: false, granK: 128, packed: false, transposed: false), m: 512, n: 300),
        .init(.cast(.perBlockFP8, useUE8M0: false, granK: 128, packed: false, transposed: true), m: 4097, n: 7296),
        .init(.cast(.perBlockFP8, useUE8M0: true, granK: 128, packed: false, transposed: false), m: 7168, n: 2112),
    ]
    /// DeepGEMM's weight and activation shapes.
    static let castBenchmark: [LayoutCastCase] = [
        .init(.cast(.perTokenFP4, useUE8M0: true, granK: 32, packed: true, transposed: false), m: 4096, n: 7168),
        .init(.cast(.perChannelFP8, useUE8M0: false, granK: 128, packed: false, transposed: false), m: 4096, n: 7168),
        .init(.cast(.perBlockFP8, useUE8M0: false, granK: 128, packed: false, transposed: false), m: 7168, n: 4096),
    ]
    /// Odd MN, PSUM ranges, empty groups.
    static let layoutVerification: [LayoutCastCase] = [
        .init(.mnMajor, m: 4097, n: 57), .init(.mnMajorPacked(psum: nil), m: 4097, n: 57),
        .init(.mnMajorPacked(psum: [1000, 2100, 4000]), m: 4097, n: 228), .init(.kGrouped(ks: [256, 0, 640, 7168]), m: 0, n: 4096),
        .init(.packUE8M0, m: 513, n: 56),
    ]
    /// Every cast at a size the fake device runs at once.
    static let castHost: [LayoutCastCase] = [
        .init(.cast(.perTokenFP4, useUE8M0: true, granK: 32, packed: true, transposed: false), m: 8, n: 64),
        .init(.cast(.perChannelFP8, useUE8M0: false, granK: 128, packed: false, transposed: false), m: 256, n: 24),
        .init(.cast(.perBlockFP8, useUE8M0: true, granK: 128, packed: false, transposed: true), m: 136, n: 200),
    ]
    /// Every layout at a size the fake device runs at once.
    static let layoutHost: [LayoutCastCase] = [
        .init(.kGrouped(ks: [256, 0, 640]), m: 0, n: 16), .init(.mnMajor, m: 33, n: 5), .init(.mnMajorPacked(psum: [10, 21]), m: 33, n: 12),
        .init(.packUE8M0, m: 9, n: 8),
    ]
    /// DeepGEMM's test shapes.
    static let layoutBenchmark: [LayoutCastCase] = [.init(.mnMajor, m: 8192, n: 56), .init(.mnMajorPacked(psum: nil), m: 8192, n: 228)]

    /// DeepGEMM's op name.
    var op: String {
        switch call {
        case .cast(let kind, _, _, _, _):
            switch kind {
            case .perTokenFP8: "per_token_cast_to_fp8"
            case .perTokenFP4: "per_token_cast_to_fp4"
            case .perChannelFP8: "per_channel_cast_to_fp8"
            case .perBlockFP8: "per_block_cast_to_fp8"
            }
        case .mnMajor: "get_mn_major_tma_aligned_tensor"
        case .mnMajorPacked: "get_mn_major_tma_aligned_packed_ue8m0_tensor"
        case .kGrouped: "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor"
        case .packUE8M0: "pack_ue8m0_to_int"
        }
    }

    /// Layouts and casts are exact.
    var comparison: CaseComparison { .bitwise }

    /// The op, shape and options.
    var description: String {
        switch call {
        case .cast(_, let useUE8M0, let granK, let packed, let transposed):
            "\(op) \(m)x\(n) gran_k=\(granK) use_ue8m0=\(useUE8M0) packed=\(packed)\(transposed ? " x transposed" : "")"
        case .mnMajorPacked(let psum): "\(op) \(m)x\(n)\(psum.map { " psum=\($0)" } ?? "")"
        case .kGrouped(let ks): "\(op) ks=\(ks) mn=\(n)"
        default: "\(op) \(m)x\(n)"
        }
    }

    /// The input tensor(s): bf16 x for casts (stored [n, m] when transposed), f32 scales otherwise
    /// (powers of two where packed), the int32 group layout last.
    func makeInputs(fast: Bool) throws -> [Tensor] {
        switch call {
        case .cast(_, _, _, _, let transposed):
            return [Tensor.randn(transposed ? [n, m] : [m, n], dtype: .bfloat16, seed: seed, scale: 2)]
        case .mnMajor:
            return [Tensor.randn([m, n], dtype: .float32, seed: seed)]
        case .mnMajorPacked(let psum):
            let sf = try ceilToUE8M0(Tensor.randn([m, n], dtype: .float32, seed: seed))
            return [sf] + (try psum.map { [try Tensor($0, shape: [$0.count])] } ?? [])
        case .kGrouped(let ks):
            let rows = ks.reduce(0) { $0 + ceilDiv($1, 128) }
            return [try ceilToUE8M0(Tensor.randn([rows, n], dtype: .float32, seed: seed)), try Tensor(ks.map(Int32.init), shape: [ks.count])]
        case .packUE8M0:
            return [try ceilToUE8M0(Tensor.randn([m, n], dtype: .float32, seed: seed))]
        }
    }

    /// The call on `inputs` wherever they are.
    func run(_ inputs: [Tensor]) throws -> [Tensor] {
        switch call {
        case .cast(let kind, let useUE8M0, let granK, let packed, let transposed):
            let x = transposed ? try inputs[0].transposed() : inputs[0]
            let result: QuantizedTensor
            switch kind {
            case .perTokenFP8: result = try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: packed)
            case .perTokenFP4: result = try perTokenCastToFP4(x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: packed)
            case .perChannelFP8: result = try perChannelCastToFP8(x, useUE8M0: useUE8M0, granK: granK)
            case .perBlockFP8: result = try perBlockCastToFP8(x, useUE8M0: useUE8M0, granK: granK)
            }
            return [result.data, result.sf]
        case .mnMajor:
            return [try getMNMajorTMAAlignedTensor(inputs[0])]
        case .mnMajorPacked:
            return [try getMNMajorTMAAlignedPackedUE8M0Tensor(inputs[0], psumLayout: inputs.count > 1 ? inputs[1] : nil)]
        case .kGrouped(let ks):
            return [try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(inputs[0], groupedLayout: inputs[1], ksCPU: ks, granK: 128, kAlignment: 128)]
        case .packUE8M0:
            return [try packUE8M0ToInt(inputs[0])]
        }
    }

    /// The same call on the host tensors.
    func reference(_ inputs: [Tensor]) throws -> [Tensor] { try run(inputs) }

    /// The inputs uploaded to device 0 (views keep their strides).
    func prepareCUDA(_ inputs: [Tensor], stream: CUDAStream) throws -> any CaseLauncher {
        LayoutCastLauncher(self, inputs: try inputs.map { try $0.to(.cuda(0)) })
    }

    /// Bytes read (the input) and written (about the input's elements again); no FLOPs.
    func workload(_ inputs: [Tensor]) throws -> CaseWorkload {
        let bytes = Double(inputs.reduce(0) { $0 + $1.byteCount })
        return CaseWorkload(flops: 0, bytes: 2 * bytes, fields: [("m", .number(Double(m))), ("n", .number(Double(n))), ("case", .text(description))])
    }

    /// Every kernel the op's families list for it.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        let families: [any CUDAKernelFamily] = [BlockCastKernel(), SFLayoutKernel()]
        return try families.flatMap { try $0.representativeLaunches(numSMs: numSMs) }.filter { $0.op == op }.map(\.selection.source)
    }
}

/// A case's device inputs: each launch calls the public function on them (the packing calls read
/// their validity flag back, so they synchronise).
final class LayoutCastLauncher: CaseLauncher {
    /// The case.
    let layoutCase: LayoutCastCase
    /// Its inputs on the device.
    let inputs: [Tensor]
    /// The outputs of the last call.
    private var last: [Tensor] = []

    /// A launcher of `layoutCase` on device `inputs`.
    init(_ layoutCase: LayoutCastCase, inputs: [Tensor]) { (self.layoutCase, self.inputs) = (layoutCase, inputs) }

    /// Queues one call.
    func launch() throws { last = try layoutCase.run(inputs) }
    /// The last call's outputs on the host.
    func outputs() throws -> [Tensor] { try last.map { try $0.to(.host) } }
}
