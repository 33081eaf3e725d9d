import DeepGEMMCore
internal import CCUDA

/// The GPU the backend runs on (device 0 of the visible devices) with its primary context.
public final class CUDADevice: Sendable {
    /// The device name, e.g. "NVIDIA H200".
    public let name: String
    /// Streaming multiprocessors.
    public let multiprocessorCount: Int
    /// Compute capability (major, minor), e.g. (9, 0).
    public let computeCapability: (major: Int, minor: Int)
    /// Opt-in shared memory per block, in bytes.
    public let maxSharedMemoryPerBlock: Int
    /// The architecture the JIT compiles for.
    public let architecture: CUDAArchitecture?
    /// The driver version, e.g. 13000.
    public let driverVersion: Int
    /// Visible devices (the backend uses the first).
    public let deviceCount: Int

    let driver: CUDADriver
    private nonisolated(unsafe) let context: dg_cu_context

    /// The device of this process, opened on first use, or why there is none.
    public static let shared: Result<CUDADevice, DeepGEMMError> = CUDADriver.shared.flatMap { driver in
        do throws(DeepGEMMError) { return .success(try CUDADevice(driver: driver)) } catch { return .failure(error) }
    }

    /// The device, or the reason it is unavailable as an error.
    public static func current() throws -> CUDADevice { try shared.get() }

    private init(driver: CUDADriver) throws(DeepGEMMError) {
        self.driver = driver
        self.driverVersion = Int(driver.driverVersion)
        var count: Int32 = 0
        guard driver.deviceGetCount(&count) == 0, count > 0 else { throw unavailable("the CUDA driver reports no device") }
        self.deviceCount = Int(count)
        var device: dg_cu_device = 0
        var context: dg_cu_context?
        do {
            try driver.check(driver.deviceGet(&device, 0), "cuDeviceGet")
            try driver.check(driver.primaryContextRetain(&context, device), "cuDevicePrimaryCtxRetain")
        } catch {
            throw unavailable("\(error)")
        }
        guard let context else { throw unavailable("cuDevicePrimaryCtxRetain returned no context") }
        self.context = context

        func attribute(_ attribute: Int32) -> Int {
            var value: Int32 = 0
            return driver.deviceGetAttribute(&value, attribute, device) == 0 ? Int(value) : 0
        }
        multiprocessorCount = attribute(Int32(DG_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT))
        computeCapability = (attribute(Int32(DG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)),
                             attribute(Int32(DG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)))
        maxSharedMemoryPerBlock = attribute(Int32(DG_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN))
        architecture = CUDAArchitecture(computeCapabilityMajor: computeCapability.major)
        var nameBuffer = [CChar](repeating: 0, count: 256)
        _ = driver.deviceGetName(&nameBuffer, Int32(nameBuffer.count), device)
        name = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes the primary context current on the calling thread; every driver call path starts here.
    func makeCurrent() throws(CUDAError) {
        try driver.check(driver.contextSetCurrent(context), "cuCtxSetCurrent")
    }
}
