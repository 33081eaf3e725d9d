import DeepGEMMCore

extension KernelPlan {
    /// Compiles the plan's kernel (or loads it from the cache) and queues it on `stream`; with
    /// `DG_PRINT_CONFIGS` (or `DG_JIT_DEBUG`) prints `problem -> family: config` once per process,
    /// and with `DG_JIT_DEBUG` the launch's grid, block, shared memory, cluster and PDL.
    func run(describing problem: String, on stream: CUDAStream) throws {
        let jit = try KernelJIT.shared.get()
        if jit.options.printConfigs || jit.options.debug {
            ConfigPrinter.shared.printOnce("\(problem) -> \(selection.family): \(selection.config)")
        }
        let kernel = try jit.kernel(selection.source, on: stream.device)
        let arguments = try packedArguments(on: stream.device)
        if jit.options.debug {
            printToStandardError("DeepGEMM launch: grid \(launch.gridSize) x \(launch.blockSize) threads, \(launch.sharedMemoryBytes) B shared, "
                                 + "cluster \(launch.clusterSize), pdl \(launch.programmaticDependentLaunch)")
        }
        try kernel.launch(launch, arguments: arguments, stream: stream)
    }
}
