import DeepGEMMCore

/// The registry of non-GEMM kernel families (``CUDAKernelFamily``), read with
/// ``GEMMKernelFamilies`` by the compile check and the config printer.
public enum KernelFamilies {
    /// Every non-GEMM family.
    public static let all: [any CUDAKernelFamily] = [
        SM90FP8MQALogitsFamily(), SMXXCleanLogitsFamily(), SM90PagedMQAMetadataFamily(), SM90FP8PagedMQALogitsFamily(), PerTokenCastKernel(),
        SM90BatchedSumFamily(), SM90HCPrenormFamily(),
        BlockCastKernel(), SFLayoutKernel(),
    ]

    /// The families whose kernels are compiled for `architecture`.
    public static func families(for architecture: CUDAArchitecture) -> [any CUDAKernelFamily] {
        all.filter { $0.architecture == architecture }
    }

    /// Every representative launch of every family for `architecture`.
    public static func launches(for architecture: CUDAArchitecture, numSMs: Int) throws -> [RepresentativeLaunch] {
        try families(for: architecture).flatMap { try $0.representativeLaunches(numSMs: numSMs) }
    }
}
