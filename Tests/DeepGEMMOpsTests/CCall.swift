import Testing
import CDeepGEMMABI
import DeepGEMM
#if canImport(Glibc)
import Glibc
#endif

/// Builds the arguments of one `dg_call` from Swift as a C caller would, owning every C string,
/// descriptor, shape and list until it is released.
final class CCall {
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Tensors whose memory the descriptors point to.
    private var kept: [Tensor] = []
    /// The arguments so far.
    private(set) var args: [dg_arg] = []

    deinit { allocations.forEach { free($0) } }

    /// A copy of `values` in C memory owned by this call.
    private func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = malloc(max(values.count, 1) * MemoryLayout<T>.stride)!
        allocations.append(pointer)
        let typed = pointer.bindMemory(to: T.self, capacity: max(values.count, 1))
        for (index, value) in values.enumerated() { typed[index] = value }
        return typed
    }

    /// A C string owned by this call.
    func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(text)!
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// Adds an argument of `kind` whose value `fill` sets.
    private func add(_ name: String, _ kind: dg_arg_kind, _ fill: (inout dg_arg) -> Void = { _ in }) {
        var arg = dg_arg()
        arg.name = UnsafePointer(cString(name))
        arg.kind = Int32(kind.rawValue)
        fill(&arg)
        args.append(arg)
    }

    /// A raw descriptor (shape and strides copied; nil strides: contiguous).
    func descriptor(data: UnsafeMutableRawPointer?, dtype: dg_dtype, shape: [Int64], strides: [Int64]? = nil,
                    device: Int32 = Int32(DG_DEVICE_CPU), ndim: Int32? = nil, nullShape: Bool = false) -> UnsafeMutablePointer<dg_tensor> {
        copy([dg_tensor(data: data, device: dg_device(device_type: device, device_id: 0), ndim: ndim ?? Int32(shape.count), dtype: dtype,
                        shape: nullShape ? nil : copy(shape), strides: strides.map { copy($0) }, byte_offset: 0)])
    }

    /// A host tensor argument viewing `tensor`'s memory with its strides.
    func tensor(_ name: String, _ tensor: Tensor) {
        kept.append(tensor)
        let descriptor = descriptor(data: tensor.dataPointer, dtype: DType.cDType(tensor.dtype), shape: tensor.shape.map(Int64.init),
                                    strides: tensor.strides.map(Int64.init))
        add(name, DG_ARG_TENSOR) { $0.value.tensor = UnsafePointer(descriptor) }
    }

    /// A tensor argument from a descriptor.
    func tensor(_ name: String, descriptor: UnsafePointer<dg_tensor>) { add(name, DG_ARG_TENSOR) { $0.value.tensor = descriptor } }

    /// An int argument.
    func int(_ name: String, _ value: Int64) { add(name, DG_ARG_INT) { $0.value.i = value } }

    /// A bool argument.
    func bool(_ name: String, _ value: Bool) { add(name, DG_ARG_BOOL) { $0.value.b = value ? 1 : 0 } }

    /// A string argument.
    func string(_ name: String, _ value: String) {
        let text = cString(value)
        add(name, DG_ARG_STRING) { $0.value.s = UnsafePointer(text) }
    }

    /// A None argument.
    func none(_ name: String) { add(name, DG_ARG_NONE) }

    /// A buffer argument.
    func buffer(_ name: String, _ buffer: OpaquePointer) { add(name, DG_ARG_BUFFER) { $0.value.buffer = buffer } }

    /// An argument with an arbitrary kind code.
    func rawKind(_ name: String, _ kind: Int32) {
        add(name, DG_ARG_NONE)
        args[args.count - 1].kind = kind
    }

    /// Runs `dg_call(op, args)`: the status and the results (nil on failure).
    func call(_ op: String) -> (status: Int32, results: OpaquePointer?) {
        var results: OpaquePointer?
        let status = args.withUnsafeBufferPointer { dg_call(op, $0.baseAddress, Int64($0.count), &results) }
        return (status, results)
    }
}

extension DType {
    /// The exact DLPack type of `dtype`.
    static func cDType(_ dtype: DType) -> dg_dtype {
        switch dtype {
        case .float32: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT), bits: 32, lanes: 1)
        case .bfloat16: return dg_dtype(code: UInt8(DG_DTYPE_BFLOAT), bits: 16, lanes: 1)
        case .int32: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 32, lanes: 1)
        case .int64: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 64, lanes: 1)
        case .int8: return dg_dtype(code: UInt8(DG_DTYPE_INT), bits: 8, lanes: 1)
        case .float8E4M3: return dg_dtype(code: UInt8(DG_DTYPE_FLOAT8_E4M3FN), bits: 8, lanes: 1)
        default: fatalError("test helper: add \(dtype)")
        }
    }
}

/// The status code of `status` as dg_call returns it.
func code(_ status: dg_status) -> Int32 { Int32(status.rawValue) }

/// The calling thread's last error: message and argument.
func lastError() -> (message: String, argument: String) {
    (String(cString: dg_last_error_message()), String(cString: dg_last_error_argument()))
}

/// A Tensor viewing result `index` of `results` (host memory, borrowed).
func resultTensor(_ results: OpaquePointer?, _ index: Int64, dtype: DType) throws -> Tensor {
    let t = try #require(dg_results_tensor(results, index)).pointee
    let shape = (0..<Int(t.ndim)).map { Int(t.shape[$0]) }, strides = (0..<Int(t.ndim)).map { Int(t.strides[$0]) }
    let span = zip(shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
    return try Tensor(storage: TensorStorage(wrapping: t.data, byteCount: span * dtype.size, release: nil), dtype: dtype, shape: shape, strides: strides)
}
