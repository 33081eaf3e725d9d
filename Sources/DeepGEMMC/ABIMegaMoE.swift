import CDeepGEMMABI
import DeepGEMM

/// What `dg_mega_moe_buffer` points to: this rank's buffer and descriptors of its input views.
final class ABIMegaMoEBuffer {
    /// The rank's buffer.
    let buffer: MegaMoERankBuffer
    /// Descriptors of `x`, `x_sf`, `topk_idx` and `topk_weights` (no `x_sf` for BF16 buffers).
    private let views: [String: TensorDescriptor]

    init(_ buffer: MegaMoERankBuffer) {
        self.buffer = buffer
        let inputs = buffer.inputs
        var views = ["x": TensorDescriptor(inputs.x), "topk_idx": TensorDescriptor(inputs.topkIdx),
                     "topk_weights": TensorDescriptor(inputs.topkWeights)]
        if let xSF = inputs.xSF { views["x_sf"] = TensorDescriptor(xSF) }
        self.views = views
    }

    /// The buffer behind a `dg_mega_moe_buffer` pointer (not retained).
    static func from(_ pointer: OpaquePointer) -> ABIMegaMoEBuffer {
        Unmanaged<ABIMegaMoEBuffer>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// The view called `name`.
    func view(_ name: String) throws -> dg_tensor {
        guard let view = views[name] else {
            throw DeepGEMMError.invalidArgument(argument: "name", rule: "must be one of " + views.keys.sorted().joined(separator: ", ")
                                                + " for this \(buffer.mmaType.rawValue) buffer, got '\(name)'")
        }
        return view.descriptor.pointee
    }
}

/// `dg_mega_moe_buffer_create`: joins (rank 0: creates) the group's shared-memory buffer.
@_cdecl("dg_mega_moe_buffer_create")
public func abiMegaMoEBufferCreate(_ options: UnsafePointer<dg_mega_moe_buffer_options>?, _ buffer: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    buffer?.pointee = nil
    return withStatus {
        guard let o = options?.pointee else { throw DeepGEMMError.invalidArgument(argument: "options", rule: "must not be NULL") }
        guard let buffer else { throw DeepGEMMError.invalidArgument(argument: "buffer", rule: "must not be NULL") }
        let groupID = try string(o.group_id, argument: "group_id")
        try DeepGEMMError.require(!groupID.isEmpty, "group_id", "must not be empty")
        try DeepGEMMError.require(o.num_ranks >= 1 && o.rank >= 0 && o.rank < o.num_ranks, "rank",
                                  "must be in 0..<num_ranks (\(o.num_ranks)), got \(o.rank)")
        try DeepGEMMError.require((-1...1).contains(o.use_fp8_dispatch), "use_fp8_dispatch", "must be -1 (None), 0 or 1, got \(o.use_fp8_dispatch)")
        let mmaName = o.mma_type.map { String(cString: $0) } ?? MegaMoEBufferLayout.MMAType.fp8xfp4.rawValue
        guard let mmaType = MegaMoEBufferLayout.MMAType(rawValue: mmaName) else {
            throw DeepGEMMError.invalidArgument(argument: "mma_type", rule: "must be fp8xfp4 or bf16xbf16, got '\(mmaName)'")
        }
        let rankBuffer = try getSymmBufferForMegaMoE(
            rankEnvironment: RankEnvironment(rank: Int(o.rank), rankCount: Int(o.num_ranks), jobID: groupID),
            numExperts: Int(o.num_experts), numMaxTokensPerRank: Int(o.num_max_tokens_per_rank), numTopk: Int(o.num_topk),
            hidden: Int(o.hidden), intermediateHidden: Int(o.intermediate_hidden),
            useFP8Dispatch: o.use_fp8_dispatch < 0 ? nil : o.use_fp8_dispatch == 1, mmaType: mmaType,
            activation: o.activation.map { String(cString: $0) } ?? "swiglu",
            timeout: .milliseconds(Int64((o.timeout_seconds > 0 ? o.timeout_seconds : 60) * 1000)),
            threadsPerRank: o.threads_per_rank > 0 ? Int(o.threads_per_rank) : nil)
        buffer.pointee = OpaquePointer(Unmanaged.passRetained(ABIMegaMoEBuffer(rankBuffer)).toOpaque())
    }
}

/// `dg_mega_moe_buffer_tensor`: a view of one of the buffer's inputs.
@_cdecl("dg_mega_moe_buffer_tensor")
public func abiMegaMoEBufferTensor(_ buffer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ view: UnsafeMutablePointer<dg_tensor>?) -> Int32 {
    withStatus {
        guard let buffer else { throw DeepGEMMError.invalidArgument(argument: "buffer", rule: "must not be NULL") }
        guard let view else { throw DeepGEMMError.invalidArgument(argument: "view", rule: "must not be NULL") }
        view.pointee = try ABIMegaMoEBuffer.from(buffer).view(try string(name, argument: "name"))
    }
}

/// `dg_mega_moe_buffer_destroy`: leaves the group and releases the buffer.
@_cdecl("dg_mega_moe_buffer_destroy")
public func abiMegaMoEBufferDestroy(_ buffer: OpaquePointer?) {
    guard let buffer else { return }
    let box = Unmanaged<ABIMegaMoEBuffer>.fromOpaque(UnsafeRawPointer(buffer))
    box.takeUnretainedValue().buffer.close()
    box.release()
}
