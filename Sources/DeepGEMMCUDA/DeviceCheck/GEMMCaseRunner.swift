import DeepGEMMCore

/// Runs a ``GEMMCase`` on the CUDA backend: uploads its inputs (keeping their strides), calls the
/// op's backend entry point and reads D back. Everything runs on the current stream
/// (``CUDAStream/current(on:)``); calls are queued without waiting, so a watchdog can poll the
/// stream while they run.
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
    private let d: Tensor
    private let c: Tensor?
    private let layout: Tensor?

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

    /// Whether each call first restores D from C (accumulating cases), work a timing subtracts.
    public var restoresC: Bool { c != nil }

    /// Queues the copy of C into D that precedes each accumulating call (nothing otherwise).
    public func restoreC() throws {
        if let c { try d.copy(from: c) }
    }

    /// Queues one call of the op (restoring D from C first when accumulating).
    public func enqueue() throws {
        try restoreC()
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
        return try output()
    }

    /// D read back to the host (waits for the queued work).
    public func output() throws -> Tensor {
        try d.to(.host)
    }
}
