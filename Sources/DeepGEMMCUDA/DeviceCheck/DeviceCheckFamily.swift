import DeepGEMMCore

/// A kernel family as the device check enumerates it: its smoke case (one small call, run first
/// under the watchdog) and its share of the verification and benchmark lists.
public struct DeviceCheckFamily: Sendable {
    /// `sm90 bf16 gemm`, `m-grouped contiguous`, ...
    public var name: String
    /// The op kinds the family's kernels serve.
    public var kinds: Set<GEMMKind>
    /// One small case.
    public var smoke: GEMMCase
    /// Whether the family is cuBLASLt (`cublaslt_gemm_*`, no JIT kernel) rather than a JIT kernel family.
    public var cublasLt = false

    /// The families of today's CUDA ops (the SM90 BF16 GEMM kernel in its four scheduling modes).
    public static let all: [DeviceCheckFamily] = [
        DeviceCheckFamily(name: "sm90 bf16 gemm", kinds: [.normal], smoke: GEMMCase(op: "bf16_gemm_nt", m: 128, n: 256, k: 256)),
        DeviceCheckFamily(name: "m-grouped contiguous", kinds: [.mGroupedContiguous],
                          smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 256, k: 256, groups: 2, expectedM: 128)),
        DeviceCheckFamily(name: "m-grouped contiguous psum", kinds: [.mGroupedContiguousPsum],
                          smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 256, k: 256, groups: 2, expectedM: 128, psumLayout: true)),
        DeviceCheckFamily(name: "m-grouped masked", kinds: [.mGroupedMasked],
                          smoke: GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 128, n: 256, k: 256, groups: 2, expectedM: 64)),
        DeviceCheckFamily(name: "cublaslt gemm", kinds: [.normal], smoke: GEMMCase(op: "cublaslt_gemm_nt", m: 128, n: 256, k: 256), cublasLt: true),
    ]

    /// The family's verification cases.
    public var verification: [GEMMCase] { GEMMCase.verification.filter(contains) }
    /// The family's benchmark cases.
    public var benchmark: [GEMMCase] { GEMMCase.benchmark.filter(contains) }

    /// Whether `gemmCase` belongs to the family.
    public func contains(_ gemmCase: GEMMCase) -> Bool { kinds.contains(gemmCase.kind) && gemmCase.usesCublasLt == cublasLt }
}

/// The device check's stages that run cases, and the cases each runs.
public enum DeviceCheckStage: String, Sendable, CaseIterable {
    /// One small case per family.
    case smoke
    /// Every op on representative shapes against the CPU backend.
    case verify
    /// Throughput on DeepGEMM's test shapes.
    case bench

    /// The stage's cases on a GPU, or with `fakeDevice` the small host set (every op and layout at
    /// sizes the CPU runs in seconds: the fake device checks plumbing, not kernels).
    public func cases(fakeDevice: Bool) -> [GEMMCase] {
        switch (self, fakeDevice) {
        case (.smoke, _): return DeviceCheckFamily.all.map(\.smoke)
        case (.verify, false): return DeviceCheckFamily.all.flatMap(\.verification)
        case (.bench, false): return DeviceCheckFamily.all.flatMap(\.benchmark)
        case (.verify, true), (.bench, true): return GEMMCase.host
        }
    }
}

extension GEMMCase {
    /// Small cases covering every op, layout, output type and grouped layout with M/N/K tails (rows of
    /// 16 bytes, as TMA needs), for the fake device.
    public static let host: [GEMMCase] = {
        var cases = ["nt", "nn", "tn", "tt"].map { GEMMCase(op: "bf16_gemm_\($0)", m: 104, n: 136, k: 72) }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 64, n: 128, k: 64, outputType: .float32, accumulate: true))
        for layout in ["nt", "nn"] {
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_\(layout)_contiguous", m: 0, n: 128, k: 64, groups: 3, expectedM: 100))
        }
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 128, k: 64, groups: 3, expectedM: 100, psumLayout: true))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 64, n: 128, k: 64, groups: 3, expectedM: 40))
        cases += ["nt", "nn", "tn", "tt"].map { GEMMCase(op: "cublaslt_gemm_\($0)", m: 104, n: 136, k: 72, accumulate: $0 == "tn") }
        return cases
    }()
}
