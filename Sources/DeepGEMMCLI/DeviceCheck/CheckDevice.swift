import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// Where the device check runs its cases: the GPU (``CUDACheckDevice``), or the CPU standing in for
/// it (``HostCheckDevice``, `--fake-device`) so every stage's plumbing runs without one.
protocol CheckDevice {
    /// `NVIDIA H200 (132 SMs, sm_90a)` or `fake device (CPU)`.
    var name: String { get }
    /// Puts `inputs` where `testCase` runs.
    func prepare<Case: DeviceCheckCase>(_ testCase: Case, inputs: Case.Inputs) throws -> any PreparedCase
}

/// One case's inputs on a ``CheckDevice``: launches return at once, and the caller polls
/// ``isFinished()`` under a ``Watchdog`` before reading results.
protocol PreparedCase {
    /// Queues one call of the op.
    func launch() throws
    /// Queues `warmup` calls, then `iterations` timed calls.
    func launchTimed(warmup: Int, iterations: Int) throws
    /// Whether everything queued so far has finished.
    func isFinished() throws -> Bool
    /// The outputs after the queued work finished.
    func outputs() throws -> [Tensor]
    /// Mean seconds per timed call, after the timed work finished.
    func secondsPerCall() throws -> Double
}

/// The GPU: the case uploads its inputs and queues its calls on one stream; finished-ness from
/// `cuStreamQuery`, timings from CUDA events.
struct CUDACheckDevice: CheckDevice {
    /// The stream the cases run on.
    let stream: CUDAStream
    /// Where cases upload their inputs: the device ``CUDADevice/current()`` opens (the driver's device 0).
    static let placement = Device.cuda(0)

    /// The device check on `stream`'s device; makes `stream` the current stream (every op and copy
    /// of the check runs on it).
    init(stream: CUDAStream) {
        self.stream = stream
        CUDAStream.setCurrent(stream)
    }

    /// `NVIDIA H200 (132 SMs, sm_90a)`.
    var name: String {
        let device = stream.device
        return "\(device.name) (\(device.multiprocessorCount) SMs, \(device.architecture?.rawValue ?? "no kernels"))"
    }

    /// Uploads the inputs.
    func prepare<Case: DeviceCheckCase>(_ testCase: Case, inputs: Case.Inputs) throws -> any PreparedCase {
        CUDAPreparedCase(launcher: try testCase.prepareCUDA(inputs, stream: stream), stream: stream)
    }
}

/// A case on the GPU.
final class CUDAPreparedCase: PreparedCase {
    let launcher: any CaseLauncher
    let stream: CUDAStream
    private var timing: (start: CUDAEvent, end: CUDAEvent, setupEnd: CUDAEvent?, iterations: Int)?

    init(launcher: any CaseLauncher, stream: CUDAStream) {
        self.launcher = launcher
        self.stream = stream
    }

    func launch() throws { try launcher.launch() }

    /// `warmup` calls, then `iterations` calls between two events, then (cases with per-call setup)
    /// the same number of setups alone, timed to be subtracted. Returns without waiting.
    func launchTimed(warmup: Int, iterations: Int) throws {
        let iterations = max(iterations, 1)
        for _ in 0..<warmup { try launcher.launch() }
        let start = try CUDAEvent(device: stream.device), end = try CUDAEvent(device: stream.device)
        try start.record(on: stream)
        for _ in 0..<iterations { try launcher.launch() }
        try end.record(on: stream)
        var setupEnd: CUDAEvent?
        if launcher.hasSetup {
            let event = try CUDAEvent(device: stream.device)
            for _ in 0..<iterations { try launcher.launchSetup() }
            try event.record(on: stream)
            setupEnd = event
        }
        timing = (start, end, setupEnd, iterations)
    }

    func isFinished() throws -> Bool { try stream.isIdle() }

    func outputs() throws -> [Tensor] { try launcher.outputs() }

    func secondsPerCall() throws -> Double {
        guard let timing else { throw DeepGEMMError.invalidArgument(argument: "timing", rule: "launchTimed must run first") }
        var total = try timing.end.milliseconds(since: timing.start)
        if let setupEnd = timing.setupEnd { total -= try setupEnd.milliseconds(since: timing.end) }
        return total / 1000 / Double(timing.iterations)
    }
}

/// The CPU standing in for the GPU (`--fake-device`): a launch runs the case's CPU reference at
/// once; a case whose description contains `hangingCase` never finishes (to prove the watchdog), and
/// one containing `failingCase` returns corrupted outputs (to prove that failures fail the stage).
struct HostCheckDevice: CheckDevice {
    /// Cases whose description contains this text never finish.
    let hangingCase: String?
    /// Cases whose description contains this text give wrong outputs.
    let failingCase: String?

    /// A fake device; empty texts inject nothing.
    init(hangingCase: String? = nil, failingCase: String? = nil) {
        self.hangingCase = hangingCase.flatMap { $0.isEmpty ? nil : $0 }
        self.failingCase = failingCase.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `fake device (CPU)`.
    var name: String { "fake device (CPU)" }

    /// Keeps the host inputs.
    func prepare<Case: DeviceCheckCase>(_ testCase: Case, inputs: Case.Inputs) throws -> any PreparedCase {
        let description = testCase.description
        return HostPreparedCase(run: { try testCase.reference(inputs) }, hangs: hangingCase.map(description.contains) ?? false,
                                fails: failingCase.map(description.contains) ?? false)
    }

    /// `outputs` with every byte's top bit flipped: signs of floats flip (and -inf becomes finite),
    /// integers and codes change, so every comparison rule fails.
    static func corrupted(_ outputs: [Tensor]) -> [Tensor] {
        outputs.map { output in
            let copy = output.clone()
            let bytes = copy.dataPointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<copy.byteCount { bytes[i] ^= 0x80 }
            return copy
        }
    }
}

/// A case on the ``HostCheckDevice``.
final class HostPreparedCase: PreparedCase {
    let run: () throws -> [Tensor]
    let hangs: Bool
    let fails: Bool
    private var result: [Tensor]?
    private var seconds = 0.0

    init(run: @escaping () throws -> [Tensor], hangs: Bool, fails: Bool) {
        self.run = run
        self.hangs = hangs
        self.fails = fails
    }

    func launch() throws {
        guard !hangs else { return }
        let outputs = try run()
        result = fails ? HostCheckDevice.corrupted(outputs) : outputs
    }

    func launchTimed(warmup: Int, iterations: Int) throws {
        let start = Date()
        for _ in 0..<max(1, iterations) { try launch() }
        seconds = Date().timeIntervalSince(start) / Double(max(1, iterations))
    }

    func isFinished() throws -> Bool { !hangs }

    func outputs() throws -> [Tensor] {
        guard let result else { throw DeepGEMMError.invalidArgument(argument: "outputs", rule: "read before the launch finished") }
        return result
    }

    func secondsPerCall() throws -> Double { seconds }
}
