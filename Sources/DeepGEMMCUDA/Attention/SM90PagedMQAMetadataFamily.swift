import DeepGEMMCore

/// `get_paged_mqa_logits_metadata` on an SM90 device (`impls/sm90_paged_mqa_logits_metadata.cuh`):
/// one warp computes the schedule rows ``PagedMQASchedule/sm90Rows(contextLens:batchSize:nextN:indices:numSMs:)``
/// computes on the host (without `indices`), bit for bit.
public struct SM90PagedMQAMetadataFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_paged_mqa_logits_metadata`.
    public var name: String { "sm90_paged_mqa_logits_metadata" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// The one kernel (batch, next_n and SM count are runtime values; shared memory holds one int32 per request).
    public func select() -> KernelSelection {
        let config = TiledKernelConfig(blockM: 32, blockN: 1, blockK: 0, numStages: 1, numThreads: 32, sharedMemoryBytes: 0,
                                       summary: "one warp, 4 B of shared memory per request")
        let code = """
        #include <deep_gemm/impls/sm90_paged_mqa_logits_metadata.cuh>

        extern "C" __global__ void __launch_bounds__(32, 1) \(CUDAKernel.entryName)(
                dg::u32 batch_size, dg::u32 next_n, dg::u32 num_sms, const dg::u32* context_lens, dg::u32* schedule) {
            dg::sm90_paged_mqa_logits_metadata(batch_size, next_n, num_sms, context_lens, schedule);
        }

        """
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// The launch for `batchSize` requests of `nextN` tokens (context lengths at `contextLens`, int32
    /// [B, next_n]) and `numSMs` rows plus the final one at `schedule` (int32 [num_sms + 1, 2]).
    public func plan(batchSize: Int, nextN: Int, numSMs: Int, contextLens: UInt64, schedule: UInt64, pdl: Bool) -> KernelPlan {
        let arguments: [KernelArgument] = [
            .u32(UInt32(batchSize)), .u32(UInt32(nextN)), .u32(UInt32(numSMs)), .pointer(contextLens), .pointer(schedule),
        ]
        let launch = LaunchConfiguration(gridSize: 1, blockSize: 32, sharedMemoryBytes: 4 * batchSize, clusterSize: 1, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: select(), arguments: arguments, launch: launch)
    }

    /// The one kernel.
    public func representativeLaunches(numSMs: Int) -> [RepresentativeLaunch] {
        [RepresentativeLaunch(op: "get_paged_mqa_logits_metadata", label: "get_paged_mqa_logits_metadata", selection: select())]
    }
}
