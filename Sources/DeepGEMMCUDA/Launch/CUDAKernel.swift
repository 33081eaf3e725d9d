import DeepGEMMCore
internal import CCUDA

/// A compiled kernel loaded into the device's context: the module from a cubin and its entry function.
public final class CUDAKernel: @unchecked Sendable {
    /// The entry point every generated translation unit defines (`extern "C"`).
    public static let entryName = "deepgemm_kernel"

    let device: CUDADevice
    private let module: dg_cu_module
    private let function: dg_cu_function
    private let sharedMemoryLimit: Locked<Int>

    /// Loads `cubin` and finds the entry function.
    init(device: CUDADevice, cubin: [UInt8]) throws {
        try device.makeCurrent()
        var module: dg_cu_module?
        try cubin.withUnsafeBytes { image in
            try device.driver.check(device.driver.moduleLoadData(&module, image.baseAddress), "cuModuleLoadData")
        }
        guard let module else { throw CUDAError(library: .driver, call: "cuModuleLoadData", code: -1, name: "no module returned") }
        var function: dg_cu_function?
        do {
            try device.driver.check(device.driver.moduleGetFunction(&function, module, CUDAKernel.entryName), "cuModuleGetFunction(\(CUDAKernel.entryName))")
        } catch {
            _ = device.driver.moduleUnload(module)
            throw error
        }
        guard let function else { throw CUDAError(library: .driver, call: "cuModuleGetFunction", code: -1, name: "no function returned") }
        self.device = device
        self.module = module
        self.function = function
        self.sharedMemoryLimit = Locked(0)
    }

    /// Queues the kernel on `stream`.
    public func launch(_ configuration: LaunchConfiguration, arguments: KernelArguments, stream: CUDAStream) throws {
        try device.makeCurrent()
        try sharedMemoryLimit.withLock { limit in
            if configuration.sharedMemoryBytes > limit {
                try device.driver.check(
                    device.driver.functionSetAttribute(function, Int32(DG_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), Int32(configuration.sharedMemoryBytes)),
                    "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = \(configuration.sharedMemoryBytes))")
                limit = configuration.sharedMemoryBytes
            }
        }
        var attributes = configuration.attributes
        try attributes.withUnsafeMutableBufferPointer { attributeBuffer in
            var config = dg_cu_launch_config()
            config.grid_dim_x = UInt32(configuration.gridSize)
            config.grid_dim_y = 1
            config.grid_dim_z = 1
            config.block_dim_x = UInt32(configuration.blockSize)
            config.block_dim_y = 1
            config.block_dim_z = 1
            config.shared_mem_bytes = UInt32(configuration.sharedMemoryBytes)
            config.stream = stream.handle
            config.attrs = attributeBuffer.baseAddress
            config.num_attrs = UInt32(attributeBuffer.count)
            try arguments.withParameterArray { parameters in
                try device.driver.check(device.driver.launchKernelEx(&config, function, parameters, nil), "cuLaunchKernelEx")
            }
        }
    }

    deinit {
        try? device.makeCurrent()
        _ = device.driver.moduleUnload(module)
    }
}
