internal import CCUDA

/// A block of device memory from `cuMemAlloc`, freed when the last reference goes away.
public final class DeviceBuffer: @unchecked Sendable {
    /// The device the memory lives on.
    public let device: CUDADevice
    /// The device address of the first byte.
    public let address: UInt64
    /// Size in bytes.
    public let byteCount: Int

    /// Allocates `byteCount` bytes (contents unspecified until written).
    public init(device: CUDADevice, byteCount: Int) throws {
        precondition(byteCount >= 0, "negative device allocation")
        try device.makeCurrent()
        var address: dg_cu_deviceptr = 0
        try device.driver.check(device.driver.memAlloc(&address, max(byteCount, 1)), "cuMemAlloc(\(byteCount) bytes)")
        self.device = device
        self.address = address
        self.byteCount = byteCount
    }

    deinit {
        try? device.makeCurrent()
        _ = device.driver.memFree(address)
    }
}
