import DeepGEMMCore

/// The registry of kernel families: the one list ``CUDABackend``, the compile check and the config
/// printer read.
public enum GEMMKernelFamilies {
    /// Every family, in the order they are tried.
    public static let all: [any GEMMKernelFamily] = [SM90BF16GEMMFamily(), SM90FP8GEMMFamily(), SM90FP8GEMM1D1DFamily()]

    /// The families whose kernels are compiled for `architecture`.
    public static func families(for architecture: CUDAArchitecture) -> [any GEMMKernelFamily] {
        all.filter { $0.architecture == architecture }
    }

    /// The family that runs `problem` on `architecture`; throws
    /// ``DeepGEMMError/unsupported(argument:rule:)`` naming the device when none does.
    public static func family(for problem: GEMMProblem, architecture: CUDAArchitecture?) throws -> any GEMMKernelFamily {
        let candidates = all.filter { $0.accepts(problem) }
        if let family = candidates.first(where: { $0.architecture == architecture }) { return family }
        let gemms = "\(problem.kind) \(problem.typeA) x \(problem.typeB) -> \(problem.typeCD) GEMMs (\(problem.kernelType.rawValue))"
        let have = candidates.isEmpty ? "no CUDA kernel family runs \(gemms)"
            : "CUDA kernels for \(gemms) exist for \(candidates.map(\.architecture.rawValue).joined(separator: ", ")) only"
        throw DeepGEMMError.unsupported(argument: "device", rule: "\(have); this device is \(architecture?.rawValue ?? "of another architecture")")
    }
}
