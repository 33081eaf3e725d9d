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

    deinit {
        try? device.makeCurrent()
        _ = device.driver.streamDestroy(handle)
    }
}
