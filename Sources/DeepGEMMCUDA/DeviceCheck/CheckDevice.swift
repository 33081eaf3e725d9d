import DeepGEMMCore
import Foundation

/// Where the device check runs its cases: the GPU (``CUDACheckDevice``), or the CPU standing in for
/// it (``HostCheckDevice``, `--fake-device`) so every stage's plumbing runs without one.
public protocol CheckDevice {
    /// `NVIDIA H200 (132 SMs, sm_90a)` or `fake device (CPU)`.
    var name: String { get }
    /// Puts the inputs of `gemmCase` where the case runs.
    func prepare(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs) throws -> any PreparedCase
}

/// One case's inputs on a ``CheckDevice``: launches return at once, and the caller polls
/// ``isFinished()`` under a ``Watchdog`` before reading results.
public protocol PreparedCase {
    /// Queues one call of the op.
    func launch() throws
    /// Queues `warmup` calls, then `iterations` timed calls.
    func launchTimed(warmup: Int, iterations: Int) throws
    /// Whether everything queued so far has finished.
    func isFinished() throws -> Bool
    /// D after the queued work finished.
    func output() throws -> Tensor
    /// Mean seconds per timed call, after the timed work finished.
    func secondsPerCall() throws -> Double
}

/// The GPU: inputs uploaded with ``GEMMCaseRunner``, finished-ness from `cuStreamQuery`.
public struct CUDACheckDevice: CheckDevice {
    /// The stream the cases run on.
    public let stream: CUDAStream

    /// The device check on `stream`'s device; makes `stream` the current stream (every op and copy
    /// of the check runs on it).
    public init(stream: CUDAStream) {
        self.stream = stream
        CUDAStream.setCurrent(stream)
    }

    /// `NVIDIA H200 (132 SMs, sm_90a)`.
    public var name: String {
        let device = stream.device
        return "\(device.name) (\(device.multiprocessorCount) SMs, \(device.architecture?.rawValue ?? "no kernels"))"
    }

    /// Uploads the inputs.
    public func prepare(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs) throws -> any PreparedCase {
        try GEMMCaseRunner(gemmCase, inputs: inputs)
    }
}

extension GEMMCaseRunner: PreparedCase {
    /// Queues one call.
    public func launch() throws { try enqueue() }
    /// Queues the timed calls between two events.
    public func launchTimed(warmup: Int, iterations: Int) throws { try enqueueTimed(warmup: warmup, iterations: iterations) }
    /// `cuStreamQuery`.
    public func isFinished() throws -> Bool { try stream.isIdle() }
    /// D read back (the stream is idle, so this does not wait).
    public func output() throws -> Tensor { try d.to(.host) }
    /// From the events of the timed calls.
    public func secondsPerCall() throws -> Double { try timedSeconds() }
}

/// The CPU standing in for the GPU (`--fake-device`): a launch runs the CPU reference at once; a case
/// whose description contains `hangingCase` never finishes (to prove the watchdog), and one containing
/// `failingCase` returns a negated D (to prove that failures fail the stage).
public struct HostCheckDevice: CheckDevice {
    /// The 2-D GEMM the launches run (the CPU backend's).
    public let gemm: GEMMCaseCheck.GEMM
    /// Cases whose description contains this text never finish.
    public let hangingCase: String?
    /// Cases whose description contains this text give a wrong D.
    public let failingCase: String?

    /// A fake device computing with `gemm`.
    public init(gemm: @escaping GEMMCaseCheck.GEMM, hangingCase: String? = nil, failingCase: String? = nil) {
        self.gemm = gemm
        self.hangingCase = hangingCase.flatMap { $0.isEmpty ? nil : $0 }
        self.failingCase = failingCase.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `fake device (CPU)`.
    public var name: String { "fake device (CPU)" }

    /// Keeps the host inputs.
    public func prepare(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs) throws -> any PreparedCase {
        let description = gemmCase.description
        return HostPreparedCase(gemmCase: gemmCase, inputs: inputs, gemm: gemm,
                                hangs: hangingCase.map(description.contains) ?? false, fails: failingCase.map(description.contains) ?? false)
    }
}

/// A case on the ``HostCheckDevice``.
final class HostPreparedCase: PreparedCase {
    let gemmCase: GEMMCase
    let inputs: GEMMCaseInputs
    let gemm: GEMMCaseCheck.GEMM
    let hangs: Bool
    let fails: Bool
    private var result: Tensor?
    private var seconds = 0.0

    init(gemmCase: GEMMCase, inputs: GEMMCaseInputs, gemm: @escaping GEMMCaseCheck.GEMM, hangs: Bool, fails: Bool) {
        self.gemmCase = gemmCase
        self.inputs = inputs
        self.gemm = gemm
        self.hangs = hangs
        self.fails = fails
    }

    func launch() throws {
        guard !hangs else { return }
        let d = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: gemm)
        if fails { try d.copy(from: Tensor(converting: d.doubleValues().map { -$0 - 1 }, shape: d.shape, dtype: d.dtype)) }
        result = d
    }

    func launchTimed(warmup: Int, iterations: Int) throws {
        let start = Date()
        for _ in 0..<max(1, iterations) { try launch() }
        seconds = Date().timeIntervalSince(start) / Double(max(1, iterations))
    }

    func isFinished() throws -> Bool { !hangs }

    func output() throws -> Tensor {
        guard let result else { throw DeepGEMMError.invalidArgument(argument: "output", rule: "read before the launch finished") }
        return result
    }

    func secondsPerCall() throws -> Double { seconds }
}
