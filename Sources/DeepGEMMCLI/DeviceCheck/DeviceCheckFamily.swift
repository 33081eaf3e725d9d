import DeepGEMM
import DeepGEMMCUDA

/// A group of device-check cases that exercise one kernel family (or one scheduling mode of it):
/// its smoke case (one small call, run first under the watchdog), its verification and benchmark
/// cases on a GPU, and its small host cases for the fake device.
struct DeviceCheckFamily: Sendable {
    /// `sm90 bf16 gemm`, `m-grouped contiguous`, `fp8 mqa logits`, ...
    var name: String
    /// Names of the registered CUDA kernel families (``GEMMKernelFamily/name``, ``CUDAKernelFamily/name``)
    /// whose kernels these cases launch; `cublaslt` for cuBLASLt. A test requires every registered
    /// family to be named by some device-check family.
    var kernelFamilies: [String]
    /// The device-check run that holds the family (`scripts/device-check.sh run --part`).
    var part: DeviceCheckPart
    /// One small case.
    var smoke: any DeviceCheckCase
    /// Cases checked against the CPU backend on a GPU.
    var verification: [any DeviceCheckCase]
    /// Cases timed on a GPU, next to a torch peer.
    var benchmark: [any DeviceCheckCase]
    /// Small cases the fake device runs (the CPU reference in seconds: plumbing, not kernels).
    var host: [any DeviceCheckCase]

    /// Every family of today's CUDA ops: one line per case file under `DeviceCheck/Cases/`.
    static let all: [DeviceCheckFamily] = [
        BF16GEMMCases.families,
        FP8GEMMCases.families,
        IndexerCases.families,
        CastCases.families,
        FP81D1DGEMMCases.families,
        LayoutCastCases.families,
        EinsumHCCases.families,
    ].flatMap { $0 }
}

/// The device check split into runs that each fit one device-tool call (`--part`); without a part
/// a stage runs every family.
enum DeviceCheckPart: String, Sendable, CaseIterable {
    /// BF16 GEMMs and cuBLASLt.
    case a = "A"
    /// FP8 GEMMs, the indexer kernels and the layout/cast kernels.
    case b = "B"
}

/// The device check's stages that run cases, and the cases each runs.
enum DeviceCheckStage: String, Sendable, CaseIterable {
    /// One small case per family.
    case smoke
    /// Every op on representative shapes against the CPU backend.
    case verify
    /// Throughput on DeepGEMM's test shapes.
    case bench

    /// The stage's cases of the families in `part` (all when nil) on a GPU, or with `fakeDevice` the
    /// families' host cases (smoke: the smoke cases either way).
    func cases(fakeDevice: Bool, part: DeviceCheckPart? = nil) -> [any DeviceCheckCase] {
        let families = DeviceCheckFamily.all.filter { family in part.map { family.part == $0 } ?? true }
        switch (self, fakeDevice) {
        case (.smoke, _): return families.map(\.smoke)
        case (.verify, false): return families.flatMap(\.verification)
        case (.bench, false): return families.flatMap(\.benchmark)
        case (.verify, true), (.bench, true): return families.flatMap(\.host)
        }
    }
}
