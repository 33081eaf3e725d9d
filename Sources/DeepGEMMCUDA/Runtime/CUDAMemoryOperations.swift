import DeepGEMMCore
internal import CCUDA

/// Copies and fills of CUDA tensors, on the current stream (``CUDAStream/current(on:)``): what
/// ``Tensor/copy(from:)`` and ``Tensor/zero()`` do when a tensor is on a CUDA device.
///
/// Views are handled as runs of their last dimension, which must be contiguous (`stride(-1) == 1`,
/// as for every C, D and output of DeepGEMM) unless both views are contiguous. A copy that touches
/// host memory has finished when it returns; device-to-device copies and fills are queued.
final class CUDAMemoryOperations: DeviceMemoryOperations {
    let device: CUDADevice

    init(device: CUDADevice) { self.device = device }

    func copy(into destination: Tensor, from source: Tensor) throws {
        let runs = try Self.runs(destination, source)
        let stream = CUDAStream.current(on: device)
        let driver = device.driver
        try device.makeCurrent()
        for run in runs {
            let to = destination.firstElementAddress + run.destination, from = source.firstElementAddress + run.source
            switch (destination.device, source.device) {
            case (.host, .host):
                to.copyMemory(from: from, byteCount: run.bytes)
            case (.host, _):
                try driver.check(driver.memcpyDeviceToHost(to, Self.address(from), run.bytes, stream.handle), "cuMemcpyDtoHAsync")
            case (_, .host):
                try driver.check(driver.memcpyHostToDevice(Self.address(to), from, run.bytes, stream.handle), "cuMemcpyHtoDAsync")
            default:
                try driver.check(driver.memcpyDeviceToDevice(Self.address(to), Self.address(from), run.bytes, stream.handle), "cuMemcpyDtoDAsync")
            }
        }
        if destination.device == .host || source.device == .host { try stream.synchronize() }
    }

    func zero(_ tensor: Tensor) throws {
        let stream = CUDAStream.current(on: device)
        try device.makeCurrent()
        for run in try Self.runs(tensor, tensor) {
            try device.driver.check(device.driver.memsetD8(Self.address(tensor.firstElementAddress + run.destination), 0, run.bytes, stream.handle),
                                    "cuMemsetD8Async")
        }
    }

    /// One contiguous piece of a copy: byte offsets from each view's first element, and its length.
    struct Run {
        var destination: Int, source: Int, bytes: Int
    }

    /// The runs that copy `source` into `destination` (same dtype and shape): one when both are
    /// contiguous, else one per row of the last dimension.
    static func runs(_ destination: Tensor, _ source: Tensor) throws -> [Run] {
        let size = destination.dtype.size
        if destination.count == 0 { return [] }
        if destination.isContiguous && source.isContiguous { return [Run(destination: 0, source: 0, bytes: destination.byteCount)] }
        for (name, view) in [("destination", destination), ("source", source)] {
            try DeepGEMMError.require(view.rank >= 1 && (view.stride(-1) == 1 || view.size(-1) == 1), name,
                                      "CUDA copies need a contiguous last dimension (stride(-1) == 1), got strides \(view.strides)")
        }
        let rowBytes = destination.size(-1) * size
        let outer = Array(destination.shape.dropLast())
        var runs: [Run] = []
        runs.reserveCapacity(outer.reduce(1, *))
        var index = [Int](repeating: 0, count: outer.count)
        for _ in 0..<outer.reduce(1, *) {
            let to = zip(index, destination.strides).reduce(0) { $0 + $1.0 * $1.1 }
            let from = zip(index, source.strides).reduce(0) { $0 + $1.0 * $1.1 }
            runs.append(Run(destination: to * size, source: from * size, bytes: rowBytes))
            var dim = outer.count - 1
            while dim >= 0 {
                index[dim] += 1
                if index[dim] < outer[dim] { break }
                index[dim] = 0
                dim -= 1
            }
        }
        return runs
    }

    private static func address(_ pointer: UnsafeMutableRawPointer) -> dg_cu_deviceptr { dg_cu_deviceptr(UInt(bitPattern: pointer)) }
}
