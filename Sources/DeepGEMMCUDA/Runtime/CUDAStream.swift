internal import CCUDA

/// A non-blocking CUDA stream; work on it runs in order. Destroyed when released.
public final class CUDAStream: @unchecked Sendable {
    let device: CUDADevice
    let handle: dg_cu_stream

    /// Creates a stream on `device`.
    public init(device: CUDADevice) throws {
        try device.makeCurrent()
        var stream: dg_cu_stream?
        try device.driver.check(device.driver.streamCreate(&stream, UInt32(DG_CU_STREAM_NON_BLOCKING)), "cuStreamCreate")
        guard let stream else { throw CUDAError(library: .driver, call: "cuStreamCreate", code: -1, name: "no stream returned") }
        self.device = device
        self.handle = stream
    }

    /// Waits until all work queued so far has finished.
    public func synchronize() throws {
        try device.makeCurrent()
        try device.driver.check(device.driver.streamSynchronize(handle), "cuStreamSynchronize")
    }

    /// Whether all work queued so far has finished (`cuStreamQuery`), without waiting for it.
    public func isIdle() throws -> Bool {
        try device.makeCurrent()
        let result = device.driver.streamQuery(handle)
        if result == CUDAStream.notReady { return false }
        try device.driver.check(result, "cuStreamQuery")
        return true
    }

    /// `CUDA_ERROR_NOT_READY`: queued work is still running.
    static let notReady: Int32 = 600

    deinit {
        try? device.makeCurrent()
        _ = device.driver.streamDestroy(handle)
    }
}
