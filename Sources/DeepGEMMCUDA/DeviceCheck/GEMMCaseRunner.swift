import DeepGEMMCore

/// Runs a ``GEMMCase`` on the CUDA backend: uploads its inputs (keeping their strides), calls the
/// op's backend entry point and reads D back; or times repeated calls with CUDA events.
public struct GEMMCaseRunner {
    /// The case.
    public let gemmCase: GEMMCase
    /// The stream everything runs on.
    public let stream: CUDAStream
    /// Backend settings.
    public let options: CUDABackend.Options
    private let problem: GEMMProblem
    private let a: DeviceTensor
    private let b: DeviceTensor
    private let d: DeviceTensor
    private let c: DeviceTensor?
    private let layout: DeviceTensor?

    /// Uploads `inputs` for `gemmCase`.
    public init(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, stream: CUDAStream, options: CUDABackend.Options = .init()) throws {
        let device = stream.device
        let (hostA, hostB) = try inputs.ntOperands(gemmCase)
        self.gemmCase = gemmCase
        self.stream = stream
        self.options = options
        let masked = gemmCase.kind == .mGroupedMasked
        problem = GEMMProblem(kind: gemmCase.kind, m: hostA.size(-2), n: hostB.size(-2), k: hostA.size(-1), numGroups: gemmCase.kind == .normal ? 1 : hostB.size(0),
                              majorA: try checkABMajor(hostA, name: "a"), majorB: try checkABMajor(hostB, name: "b"), typeCD: gemmCase.outputType,
                              accumulate: gemmCase.accumulate, expectedM: masked ? gemmCase.expectedM : nil, mkAlignment: GEMMCase.mkAlignment)
        a = try DeviceTensor(copying: hostA, to: device, stream: stream)
        b = try DeviceTensor(copying: hostB, to: device, stream: stream)
        d = try DeviceTensor(copying: inputs.d, to: device, stream: stream)
        c = gemmCase.accumulate ? try DeviceTensor(copying: inputs.d, to: device, stream: stream) : nil
        layout = try inputs.layout.map { try DeviceTensor(copying: $0, to: device, stream: stream) }
    }

    /// Queues one call of the op (restoring D from C first when accumulating).
    public func enqueue() throws {
        if let c { try d.copy(from: c, stream: stream) }
        switch gemmCase.kind {
        case .normal:
            let compiledDims = gemmCase.layout == "nt" || gemmCase.layout == "nn" ? "nk" : "mn"
            try CUDABackend.bf16GEMM(problem, a: a, b: b, d: d, compiledDims: compiledDims, options: options, stream: stream)
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
        return try d.toHost(stream: stream)
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
            for _ in 0..<iterations { try d.copy(from: c, stream: stream) }
            try end.record(on: stream)
            total -= try end.milliseconds(since: start)
        }
        return total / 1000 / Double(iterations)
    }
}
