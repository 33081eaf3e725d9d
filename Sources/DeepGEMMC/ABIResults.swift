import CDeepGEMMABI
import DeepGEMM
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `dg_results` points to: the results of one call, by name, kept alive until `dg_results_free`.
final class ABIResults {
    /// Result names as C strings.
    private let names: [UnsafeMutablePointer<CChar>]
    /// One descriptor per result.
    let descriptors: [TensorDescriptor]

    init(_ outputs: [(name: String, tensor: Tensor)]) {
        names = outputs.map { strdup($0.name)! }
        descriptors = outputs.map { TensorDescriptor($0.tensor) }
    }

    deinit { names.forEach { free($0) } }

    /// The results behind a `dg_results` pointer (not retained).
    static func from(_ pointer: OpaquePointer) -> ABIResults { Unmanaged<ABIResults>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue() }

    /// Result `index`, or nil (with the error recorded) when `results` is NULL or `index` out of range.
    static func entry(_ results: OpaquePointer?, _ index: Int64) -> (name: UnsafeMutablePointer<CChar>, descriptor: TensorDescriptor)? {
        guard let results else {
            record(DeepGEMMError.invalidArgument(argument: "results", rule: "must not be NULL"))
            return nil
        }
        let box = from(results)
        guard index >= 0 && index < box.names.count else {
            record(DeepGEMMError.invalidArgument(argument: "index", rule: "must be in 0..<\(box.names.count), got \(index)"))
            return nil
        }
        return (box.names[Int(index)], box.descriptors[Int(index)])
    }
}

/// `dg_results_count`: the number of results (0 for NULL).
@_cdecl("dg_results_count")
public func abiResultsCount(_ results: OpaquePointer?) -> Int64 {
    results.map { Int64(ABIResults.from($0).descriptors.count) } ?? 0
}

/// `dg_results_name`: the name of result `index` (NULL when out of range).
@_cdecl("dg_results_name")
public func abiResultsName(_ results: OpaquePointer?, _ index: Int64) -> UnsafePointer<CChar>? {
    ABIResults.entry(results, index).map { UnsafePointer($0.name) }
}

/// `dg_results_tensor`: the view of result `index` (NULL when out of range).
@_cdecl("dg_results_tensor")
public func abiResultsTensor(_ results: OpaquePointer?, _ index: Int64) -> UnsafePointer<dg_tensor>? {
    ABIResults.entry(results, index).map { UnsafePointer($0.descriptor.descriptor) }
}

/// `dg_results_int`: result `index` as an integer, when it is a one-element integer tensor on the host.
@_cdecl("dg_results_int")
public func abiResultsInt(_ results: OpaquePointer?, _ index: Int64, _ value: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus {
        guard let entry = ABIResults.entry(results, index) else {
            throw DeepGEMMError.invalidArgument(argument: "index", rule: "no result \(index)")
        }
        guard let value else { throw DeepGEMMError.invalidArgument(argument: "value", rule: "must not be NULL") }
        let tensor = entry.descriptor.tensor
        try DeepGEMMError.require(tensor.count == 1 && tensor.device == .host && !tensor.dtype.isFloatingPoint && tensor.dtype != .bool,
                                  String(cString: entry.name), "is not an integer (\(tensor.dtype) \(tensor.shape))")
        let address = UnsafeRawPointer(tensor.dataPointer)
        switch tensor.dtype {
        case .int8: value.pointee = Int64(address.load(as: Int8.self))
        case .uint8: value.pointee = Int64(address.load(as: UInt8.self))
        case .int16: value.pointee = Int64(address.loadUnaligned(as: Int16.self))
        case .int32: value.pointee = Int64(address.loadUnaligned(as: Int32.self))
        default: value.pointee = address.loadUnaligned(as: Int64.self)
        }
    }
}

/// `dg_results_free`.
@_cdecl("dg_results_free")
public func abiResultsFree(_ results: OpaquePointer?) {
    guard let results else { return }
    Unmanaged<ABIResults>.fromOpaque(UnsafeRawPointer(results)).release()
}

/// `dg_results_export_dlpack`: result `index` as a legacy `DLManagedTensor` that keeps the tensor
/// alive until its deleter runs (also after `dg_results_free`).
@_cdecl("dg_results_export_dlpack")
public func abiResultsExportDLPack(_ results: OpaquePointer?, _ index: Int64) -> UnsafeMutableRawPointer? {
    guard let entry = ABIResults.entry(results, index) else { return nil }
    let tensor = entry.descriptor.tensor
    let owner = TensorDescriptor(tensor, dtype: tensor.dtype.dlpackExportType)
    let managed = UnsafeMutablePointer<dg_dl_managed_tensor>.allocate(capacity: 1)
    managed.initialize(to: dg_dl_managed_tensor(dl_tensor: owner.descriptor.pointee,
                                                manager_ctx: Unmanaged.passRetained(owner).toOpaque(),
                                                deleter: releaseManagedTensor))
    dg_internal_clear_error()
    return UnsafeMutableRawPointer(managed)
}

/// The deleter of exported tensors: releases the tensor and frees the struct.
private func releaseManagedTensor(_ managed: UnsafeMutablePointer<dg_dl_managed_tensor>?) {
    guard let managed else { return }
    if let owner = managed.pointee.manager_ctx { Unmanaged<TensorDescriptor>.fromOpaque(owner).release() }
    managed.deinitialize(count: 1)
    managed.deallocate()
}
