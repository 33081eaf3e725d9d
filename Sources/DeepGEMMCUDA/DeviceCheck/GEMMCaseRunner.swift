import DeepGEMMCore

/// Runs a ``GEMMCase`` on the CUDA backend: uploads its inputs (keeping their strides), calls the
/// op's backend entry point and reads D back; or times repeated calls with CUDA events. Everything
/// runs on the current stream (``CUDAStream/current(on:)``).
public struct GEMMCaseRunner {
    /// The case.
    public let gemmCase: GEMMCase
    /// The stream everything runs on: the current one when the runner was made.
    public let stream: CUDAStream
    /// Backend settings.
    public let options: CUDABackend.Options
    private let a: Tensor
    private let b: Tensor
    private let d: Tensor
    private let c: Tensor?
    private let layout: Tensor?

    /// Uploads `inputs` for `gemmCase` to CUDA device 0.
    public init(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, options: CUDABackend.Options = .init()) throws {
        let (hostA, hostB) = try inputs.ntOperands(gemmCase)
        self.gemmCase = gemmCase
        self.stream = CUDAStream.current(on: try CUDADevice.current())
        self.options = options
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
        case .normal:
            let compiledDims = gemmCase.layout == "nt" || gemmCase.layout == "nn" ? "nk" : "mn"
            try CUDABackend.bf16GEMM(a: a, b: b, d: d, accumulate: gemmCase.accumulate, compiledDims: compiledDims, options: options, stream: stream)
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            guard let layout else { throw DeepGEMMError.invalidArgument(argument: "grouped_layout", rule: "missing") }
            try CUDABackend.mGroupedBF16GEMMContiguous(a: a, b: b, d: d, groupedLayout: layout, usePsumLayout: gemmCase.psumLayout,
                                                       options: options, stream: stream)
        case .mGroupedMasked:
            guard let layout else { throw DeepGEMMError.invalidArgument(argument: "masked_m", rule: "missing") }
            try CUDABackend.mGroupedBF16GEMMMasked(a: a, b: b, d: d, maskedM: layout, expectedM: gemmCase.expectedM, options: options, stream: stream)
        }
    }

    /// Runs the op once and returns D.
    public func run() throws -> Tensor {
        try enqueue()
        return try d.to(.host)
    }

    /// Mean seconds per call over `iterations` calls after `warmup` calls (the C -> D restore of
    /// accumulating cases is timed separately and subtracted).
    public func time(warmup: Int = 3, iterations: Int = 20) throws -> Double {
        for _ in 0..<warmup { try enqueue() }
        let start = try CUDAEvent(device: stream.device), end = try CUDAEvent(device: stream.device)
        try start.record(on: stream)
        for _ in 0..<iterations { try enqueue() }
        try end.record(on: stream)
        var total = try end.milliseconds(since: start)
        if let c {
            try start.record(on: stream)
            for _ in 0..<iterations { try d.copy(from: c) }
            try end.record(on: stream)
            total -= try end.milliseconds(since: start)
        }
        return total / 1000 / Double(iterations)
    }
}
