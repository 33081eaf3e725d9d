import DeepGEMMCore

/// Runs a ``GEMMCase`` on the CUDA backend: uploads its inputs (keeping their strides), calls the
/// op's backend entry point and reads D back; or times repeated calls with CUDA events. Everything
/// runs on the current stream (``CUDAStream/current(on:)``); timed calls are queued without
/// waiting, so a watchdog can poll the stream while they run.
public final class GEMMCaseRunner {
    /// The case.
    public let gemmCase: GEMMCase
    /// The stream everything runs on: the current one when the runner was made.
    public let stream: CUDAStream
    /// Backend settings.
    public let options: CUDABackend.Options
    private let problem: GEMMProblem
    private let a: Tensor
    private let b: Tensor
    let d: Tensor
    private let c: Tensor?
    private let layout: Tensor?
    private var timing: (start: CUDAEvent, end: CUDAEvent, restoreEnd: CUDAEvent?, iterations: Int)?

    /// Uploads `inputs` for `gemmCase` to CUDA device 0.
    public init(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, options: CUDABackend.Options = .init()) throws {
        let (hostA, hostB) = try inputs.ntOperands(gemmCase)
        self.gemmCase = gemmCase
        self.stream = CUDAStream.current(on: try CUDADevice.current())
        self.options = options
        problem = gemmCase.problem(rows: hostA.size(-2), majorA: try checkABMajor(hostA, name: "a"), majorB: try checkABMajor(hostB, name: "b"))
        let device = Device.cuda(0)
        a = try hostA.to(device)
        b = try hostB.to(device)
        d = try inputs.d.to(device)
        c = gemmCase.accumulate ? try inputs.d.to(device) : nil
        layout = try inputs.layout.map { try $0.to(device) }
    }

    /// Queues one call of the op (restoring D from C first when accumulating).
    public func enqueue() throws {
        if let c { try d.copy(from: c) }
        switch gemmCase.kind {
        case .normal where gemmCase.usesCublasLt:
            try CUDABackend.cublasLtGEMM(problem, a: a, b: b, d: d, stream: stream)
        case .normal:
            try CUDABackend.bf16GEMM(problem, a: a, b: b, d: d, compiledDims: gemmCase.compiledDims, options: options, stream: stream)
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            guard let layout else { throw DeepGEMMError.invalidArgument(argument: "grouped_layout", rule: "missing") }
            try CUDABackend.mGroupedBF16GEMMContiguous(problem, a: a, b: b, d: d, groupedLayout: layout, options: options, stream: stream)
        case .mGroupedMasked:
            guard let layout else { throw DeepGEMMError.invalidArgument(argument: "masked_m", rule: "missing") }
            try CUDABackend.mGroupedBF16GEMMMasked(problem, a: a, b: b, d: d, maskedM: layout, options: options, stream: stream)
        }
    }

    /// Runs the op once and returns D.
    public func run() throws -> Tensor {
        try enqueue()
        return try d.to(.host)
    }

    /// Queues `warmup` calls, then `iterations` calls between two events, then (accumulating cases)
    /// the same number of C -> D restores alone, timed to be subtracted. Returns without waiting.
    public func enqueueTimed(warmup: Int = 3, iterations: Int = 20) throws {
        for _ in 0..<warmup { try enqueue() }
        let start = try CUDAEvent(device: stream.device), end = try CUDAEvent(device: stream.device)
        try start.record(on: stream)
        for _ in 0..<iterations { try enqueue() }
        try end.record(on: stream)
        var restoreEnd: CUDAEvent?
        if let c {
            let event = try CUDAEvent(device: stream.device)
            for _ in 0..<iterations { try d.copy(from: c) }
            try event.record(on: stream)
            restoreEnd = event
        }
        timing = (start, end, restoreEnd, iterations)
    }

    /// Mean seconds per call of the last ``enqueueTimed(warmup:iterations:)`` (waits for its events).
    public func timedSeconds() throws -> Double {
        guard let timing else { throw DeepGEMMError.invalidArgument(argument: "timing", rule: "enqueueTimed must run first") }
        var total = try timing.end.milliseconds(since: timing.start)
        if let restoreEnd = timing.restoreEnd { total -= try restoreEnd.milliseconds(since: timing.end) }
        return total / 1000 / Double(timing.iterations)
    }
}
