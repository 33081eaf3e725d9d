internal import CCUDA
import DeepGEMMCore

/// A CUDA stream: work on it runs in order.
///
/// Ops on CUDA tensors run on ``current(on:)``, the stream PyTorch users know as the current
/// stream: the device's legacy default stream unless one was set with ``setCurrent(_:)``. A stream
/// made by the library (``init(device:)``) is destroyed when released; an adopted one
/// (``init(adopting:device:)``, e.g. `torch.cuda.current_stream().cuda_stream`) stays its owner's.
public final class CUDAStream: @unchecked Sendable {
    /// The device the stream belongs to.
    public let device: CUDADevice
    let handle: dg_cu_stream?
    private let owned: Bool

    /// Creates a non-blocking stream on `device`.
    public init(device: CUDADevice) throws {
        try device.makeCurrent()
        var stream: dg_cu_stream?
        try device.driver.check(device.driver.streamCreate(&stream, UInt32(DG_CU_STREAM_NON_BLOCKING)), "cuStreamCreate")
        guard let stream else { throw CUDAError(library: .driver, call: "cuStreamCreate", code: -1, name: "no stream returned") }
        self.device = device
        self.handle = stream
        self.owned = true
    }

    /// Wraps an existing `CUstream` of `device` without taking ownership (0 is the legacy default
    /// stream). The caller keeps it alive while the library uses it.
    public init(adopting handle: UInt, device: CUDADevice) {
        self.device = device
        self.handle = dg_cu_stream(bitPattern: handle)
        self.owned = false
    }

    /// Waits until all work queued so far has finished.
    public func synchronize() throws {
        try device.makeCurrent()
        try device.driver.check(device.driver.streamSynchronize(handle), "cuStreamSynchronize")
    }

    /// The stream ops on `device` run on: the one given to ``setCurrent(_:)``, else the device's
    /// legacy default stream.
    public static func current(on device: CUDADevice) -> CUDAStream {
        chosen.withLock { $0 } ?? CUDAStream(adopting: 0, device: device)
    }

    /// Makes `stream` the stream every later op on CUDA tensors runs on, in every thread (nil
    /// restores the legacy default stream).
    public static func setCurrent(_ stream: CUDAStream?) {
        chosen.withLock { $0 = stream }
    }

    private static let chosen = Locked<CUDAStream?>(nil)

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
        guard owned else { return }
        try? device.makeCurrent()
        _ = device.driver.streamDestroy(handle)
    }
}

extension CUDAStream {
    /// The current stream (``current(on:)``) of the CUDA device `device` names; throws when it
    /// names the host or a device this version cannot drive.
    public static func current(for device: Device) throws -> CUDAStream {
        current(on: try device.cudaDevice(argument: "device"))
    }
}
