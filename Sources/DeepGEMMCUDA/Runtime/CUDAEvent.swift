internal import CCUDA

/// A CUDA event for timing work on a stream. Destroyed when released.
public final class CUDAEvent: @unchecked Sendable {
    let device: CUDADevice
    let handle: dg_cu_event

    /// Creates a timing event on `device`.
    public init(device: CUDADevice) throws {
        try device.makeCurrent()
        var event: dg_cu_event?
        try device.driver.check(device.driver.eventCreate(&event, UInt32(DG_CU_EVENT_DEFAULT)), "cuEventCreate")
        guard let event else { throw CUDAError(library: .driver, call: "cuEventCreate", code: -1, name: "no event returned") }
        self.device = device
        self.handle = event
    }

    /// Records the event after the work queued so far on `stream`.
    public func record(on stream: CUDAStream) throws {
        try device.makeCurrent()
        try device.driver.check(device.driver.eventRecord(handle, stream.handle), "cuEventRecord")
    }

    /// Milliseconds between `start` and this event, waiting for this event first.
    public func milliseconds(since start: CUDAEvent) throws -> Double {
        try device.makeCurrent()
        try device.driver.check(device.driver.eventSynchronize(handle), "cuEventSynchronize")
        var elapsed: Float = 0
        try device.driver.check(device.driver.eventElapsedTime(&elapsed, start.handle, handle), "cuEventElapsedTime")
        return Double(elapsed)
    }

    deinit {
        try? device.makeCurrent()
        _ = device.driver.eventDestroy(handle)
    }
}
