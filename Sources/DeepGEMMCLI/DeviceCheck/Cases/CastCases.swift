import DeepGEMM
import DeepGEMMCUDA

/// The CUDA `per_token_cast_to_fp8` kernel as device-check cases: its FP8 data and F32 scales
/// against the CPU backend's cast of the same input, byte for byte (tails, zero rows, UE8M0).
enum CastCases {
    /// The per-token cast family.
    static let families: [DeviceCheckFamily] = [
        DeviceCheckFamily(
            name: "sm90 per-token cast", kernelFamilies: [PerTokenCastKernel().name], part: .b,
            smoke: PerTokenCastCase(m: 64, n: 512, dtype: .bfloat16),
            verification: [
                PerTokenCastCase(m: 37, n: 1000, dtype: .bfloat16), PerTokenCastCase(m: 4096, n: 7168, dtype: .bfloat16, useUE8M0: true),
                PerTokenCastCase(m: 129, n: 2048, dtype: .float32), PerTokenCastCase(m: 300, n: 1536, dtype: .float16, granK: 32),
                PerTokenCastCase(m: 16, n: 1000, dtype: .bfloat16, granK: 100, useUE8M0: true),
            ],
            benchmark: [PerTokenCastCase(m: 4096, n: 7168, dtype: .bfloat16), PerTokenCastCase(m: 128, n: 7168, dtype: .bfloat16)],
            host: [PerTokenCastCase(m: 9, n: 300, dtype: .bfloat16, useUE8M0: true), PerTokenCastCase(m: 5, n: 256, dtype: .float32)]),
    ]
}

/// One `per_token_cast_to_fp8(x, use_ue8m0, gran_k)` call on a random [m, n] input whose row 3 (when
/// there is one) is zero.
struct PerTokenCastCase: DeviceCheckCase {
    /// Rows and columns of x.
    var m: Int, n: Int
    /// x's dtype (float32, bfloat16 or float16).
    var dtype: DType
    /// Columns per scale.
    var granK: Int
    /// Power-of-two scales.
    var useUE8M0: Bool

    /// Creates a case.
    init(m: Int, n: Int, dtype: DType, granK: Int = 128, useUE8M0: Bool = false) {
        (self.m, self.n, self.dtype, self.granK, self.useUE8M0) = (m, n, dtype, granK, useUE8M0)
    }

    /// `per_token_cast_to_fp8`.
    var op: String { "per_token_cast_to_fp8" }
    /// `per_token_cast_to_fp8 m=.. n=.. x=bfloat16 gran_k=128 ue8m0`.
    var description: String { "\(op) m=\(m) n=\(n) x=\(dtype) gran_k=\(granK)" + (useUE8M0 ? " ue8m0" : "") }
    /// The cast is exact arithmetic: bit for bit.
    var comparison: CaseComparison { .bitwise }

    /// Normal samples times 3, row 3 zero.
    func makeInputs(fast: Bool) throws -> Tensor {
        let x = Tensor.randn([m, n], dtype: dtype, seed: seed, scale: 3)
        if m > 3 { try x.select(dim: 0, index: 3).zero() }
        return x
    }

    /// Data and scales from the CPU backend.
    func reference(_ x: Tensor) throws -> [Tensor] {
        let cast = try perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: granK)
        return [cast.data, cast.sf]
    }

    /// x on the GPU; each launch returns new data and scales.
    func prepareCUDA(_ x: Tensor, stream: CUDAStream) throws -> any CaseLauncher {
        let input = try x.to(CUDACheckDevice.placement)
        return OpLauncher {
            let cast = try CUDABackend.perTokenCastToFP8(input, useUE8M0: useUE8M0, granK: granK, stream: stream)
            return [cast.data, cast.sf]
        }
    }

    /// x read, FP8 data and F32 scales written.
    func workload(_ x: Tensor) throws -> CaseWorkload {
        CaseWorkload(flops: 0, bytes: Double(x.byteCount + m * n + m * ((n + granK - 1) / granK) * 4), fields: [
            ("m", .number(Double(m))), ("n", .number(Double(n))), ("dtype", .text(dtype.rawValue)), ("gran_k", .number(Double(granK))),
            ("ue8m0", .flag(useUE8M0)),
        ])
    }

    /// The kernel for x's dtype and the scale format.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        [PerTokenCastKernel().selection(source: dtype, useUE8M0: useUE8M0).source]
    }
}
