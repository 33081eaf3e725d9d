/// Argument checks shared by the lightning-indexer ops.
enum MQAArgumentChecks {
    /// `tensor` (argument `name`) must be contiguous.
    static func contiguous(_ tensor: Tensor, _ name: String) throws {
        try DeepGEMMError.require(tensor.isContiguous, name, "must be contiguous, got strides \(tensor.strides) for shape \(tensor.shape)")
    }

    /// `tensor` (argument `name`) must hold packed FP4 (int8 storage).
    static func packedFP4(_ tensor: Tensor, _ name: String) throws {
        try DeepGEMMError.require(tensor.dtype == .int8 || tensor.dtype == .float4E2M1x2, name, "must be packed FP4 (int8), got \(tensor.dtype)")
    }

    /// The values of argument `name`, which must be an int32 vector of `count` (`countName`)
    /// entries, contiguous.
    static func int32Vector(_ tensor: Tensor, _ name: String, count: Int, countName: String) throws -> [Int32] {
        try DeepGEMMError.require(tensor.rank == 1 && tensor.size(0) == count, name, "must be 1-D [\(countName)] = [\(count)], got shape \(tensor.shape)")
        try contiguous(tensor, name)
        try DeepGEMMError.require(tensor.dtype == .int32, name, "must be int32, got \(tensor.dtype)")
        return try tensor.elements(as: Int32.self)
    }
}
