import DeepGEMM
import DeepGEMMCUDA

/// One call of a CUDA op that the device check runs (`deepgemm jit smoke|verify|bench`): its host
/// inputs from a seed, the call on the GPU, the CPU backend's result on the same inputs, how the two
/// are compared, the work a call does (for the bench figures) and the JIT kernels it compiles (for
/// `jit precompile`).
///
/// A new op joins the device check with one file under `DeviceCheck/Cases/` (its case type
/// conforming to this protocol, and its ``DeviceCheckFamily`` values with a smoke case, verification
/// cases, bench cases and small host cases) plus one line in ``DeviceCheckFamily/all``. The fake
/// device (`--fake-device`) runs ``reference(_:)`` in place of the GPU, so every case kind goes
/// through the stages' plumbing in CI.
protocol DeviceCheckCase: Sendable, CustomStringConvertible {
    /// The case's host tensors (and whatever else its calls need).
    associatedtype Inputs

    /// DeepGEMM's op name (`bf16_gemm_nt`, `fp8_mqa_logits`, ...), the records' `op` field.
    var op: String { get }
    /// How the GPU's outputs are compared with the CPU backend's.
    var comparison: CaseComparison { get }
    /// The input seed: ``deviceCheckSeed(_:)`` of the description unless the case says otherwise.
    var seed: UInt64 { get }

    /// Host inputs from ``seed``; `fast` (bench stage) may fill large operands with a cheap
    /// generator instead of normal samples.
    func makeInputs(fast: Bool) throws -> Inputs
    /// The CPU backend's outputs on `inputs` (host tensors, in the order ``CaseLauncher/outputs()`` gives them).
    func reference(_ inputs: Inputs) throws -> [Tensor]
    /// Uploads `inputs` to the stream's device and returns what queues the op's calls there.
    func prepareCUDA(_ inputs: Inputs, stream: CUDAStream) throws -> any CaseLauncher
    /// The parts of `outputs` (GPU or reference) that carry results, compared by ``comparison``
    /// (default: all of them; e.g. masked GEMMs drop rows past `masked_m`).
    func compared(_ outputs: [Tensor], inputs: Inputs) throws -> [Tensor]
    /// The work of one call on `inputs`, for the bench figures and the torch peer.
    func workload(_ inputs: Inputs) throws -> CaseWorkload
    /// The JIT kernels the case's calls compile on a device with `numSMs` SMs (none for cuBLASLt).
    func kernelSources(numSMs: Int) throws -> [KernelSource]
}

extension DeviceCheckCase {
    /// ``deviceCheckSeed(_:)`` of the description.
    var seed: UInt64 { deviceCheckSeed(description) }

    /// All of `outputs`.
    func compared(_ outputs: [Tensor], inputs: Inputs) throws -> [Tensor] { outputs }
}

/// One case's inputs on the GPU: queues calls of the op on the case's stream, returning at once.
protocol CaseLauncher: AnyObject {
    /// Queues one call, including any per-call setup (e.g. restoring D from C before accumulating).
    func launch() throws
    /// Whether each call has per-call setup that timings subtract.
    var hasSetup: Bool { get }
    /// Queues the per-call setup alone.
    func launchSetup() throws
    /// The outputs of the last call, read back to the host (waits for the queued work).
    func outputs() throws -> [Tensor]
}

extension CaseLauncher {
    /// No per-call setup.
    var hasSetup: Bool { false }
    /// Nothing to queue.
    func launchSetup() throws {}
}

/// A launcher for ops called through a closure: each launch queues one call and keeps the device
/// tensors it returns (new ones for ops that allocate their outputs, the same D for in-place ones).
final class OpLauncher: CaseLauncher {
    private let call: () throws -> [Tensor]
    private var last: [Tensor] = []

    /// Launches run `call`, which queues the op on the case's stream and returns its outputs.
    init(_ call: @escaping () throws -> [Tensor]) {
        self.call = call
    }

    /// Queues one call.
    func launch() throws { last = try call() }

    /// The last call's outputs, on the host.
    func outputs() throws -> [Tensor] { try last.map { try $0.to(.host) } }
}

/// How a case's GPU outputs are compared with the CPU backend's.
enum CaseComparison: Sendable, Equatable {
    /// Every output equal bit for bit (layouts, casts, schedules).
    case bitwise
    /// DeepGEMM's `calc_diff` over all compared elements taken together below `bound`, every value finite.
    case calcDiff(bound: Double)
    /// Logits: `calc_diff` below `bound` where the reference is finite, and -inf at exactly the same places.
    case logits(bound: Double)

    /// Whether `result` passes against `expected`, with a one-line summary and the records' fields.
    func verdict(_ result: [Tensor], _ expected: [Tensor]) throws -> CaseVerdict {
        switch self {
        case .bitwise:
            let differing = zip(result, expected).enumerated().filter { !$0.element.0.bitwiseEqual($0.element.1) }.map(\.offset)
            let passed = result.count == expected.count && differing.isEmpty
            return CaseVerdict(passed: passed, summary: passed ? "bitwise equal (\(result.count) outputs)"
                                   : "DIFFERS (outputs \(differing.map(String.init).joined(separator: ", ")) of \(expected.count))",
                               fields: [("bitwise", .flag(passed))])
        case .calcDiff(let bound):
            let difference = finiteCalcDiff(result, expected)
            return CaseVerdict(passed: difference < bound, summary: String(format: "calc_diff %.3e (bound %.0e)", difference, bound),
                               fields: [("diff", .number(difference)), ("bound", .number(bound))])
        case .logits(let bound):
            var difference = 0.0, masksMatch = result.count == expected.count
            for (x, y) in zip(result, expected) {
                let (diff, masks) = try logitsDifference(x, y)
                difference = diff.isNaN ? .nan : max(difference, diff)
                masksMatch = masksMatch && masks
            }
            return CaseVerdict(passed: masksMatch && difference < bound,
                               summary: String(format: "calc_diff %.3e (bound %.0e), -inf masks %@", difference, bound, masksMatch ? "equal" : "DIFFER"),
                               fields: [("diff", .number(difference)), ("bound", .number(bound)), ("masks_equal", .flag(masksMatch))])
        }
    }
}

/// A comparison's outcome.
struct CaseVerdict {
    /// Whether the case passed.
    var passed: Bool
    /// One line for the log.
    var summary: String
    /// Fields of the case's JSON record.
    var fields: [(String, JSONField)]
}

/// The work one call of a bench case does, and what a peer needs to rebuild its operands.
struct CaseWorkload {
    /// Floating-point operations per call (0 when throughput is the figure, e.g. casts).
    var flops: Double
    /// Bytes read and written per call.
    var bytes: Double
    /// Fields of the bench record that scripts/device/torch_bench.py reads (shapes, seeds, checksums).
    var fields: [(String, JSONField)]
}
