import DeepGEMMCore

extension CUDABackend {
    /// `get_mn_major_tma_aligned_tensor` on a CUDA tensor: `rows` (checked by the caller) copied into a
    /// new MN-major TMA-aligned f32 tensor on its device, padding rows zero, queued on `stream`.
    package static func mnMajorTMAAlignedTensor(_ rows: ScaleFactorBatches, stream: CUDAStream) throws -> Tensor {
        let family = SFLayoutKernel()
        let (output, elements) = try mnMajorOutput(rows, columns: rows.sfK, dtype: .float32)
        let plan = try family.plan(.mnMajorCopy, elements: elements, arguments: try SFLayoutKernel.batchArguments(rows) + [.pointer(output.deviceAddress)],
                                   argument: "sf")
        try run(plan, describing: "get_mn_major_tma_aligned_tensor sf=\(rows.tensor.shape)", on: stream)
        return output
    }

    /// `get_mn_major_tma_aligned_packed_ue8m0_tensor` (and §3.5 case 3) on a CUDA tensor: `rows`
    /// packed for the checked row ranges `rowRanges` into a new MN-major int32 tensor, padding and
    /// unlisted rows zero. Reads the bad-scale flag back (synchronising `stream`) and throws naming
    /// `sf` when a packed scale is not +0 or a finite positive power of two.
    package static func mnMajorPackedUE8M0Tensor(_ rows: ScaleFactorBatches, rowRanges: [Range<Int>], stream: CUDAStream) throws -> Tensor {
        let family = SFLayoutKernel()
        let (output, elements) = try mnMajorOutput(rows, columns: ceilDiv(rows.sfK, 4), dtype: .int32)
        let bounds = rowRanges.flatMap { [Int32(truncatingIfNeeded: $0.lowerBound), Int32(truncatingIfNeeded: $0.upperBound)] }
        let ranges = try Tensor(bounds.isEmpty ? [0] : bounds, shape: [max(bounds.count, 1)]).to(rows.tensor.device)
        let flag = try BadScaleFlag(on: rows.tensor.device)
        let arguments = try SFLayoutKernel.batchArguments(rows)
            + [.pointer(ranges.deviceAddress), try SFLayoutKernel.u32(rowRanges.count, "psum_layout"), .pointer(output.deviceAddress), .pointer(flag.address)]
        let plan = try family.plan(.mnMajorPack, elements: elements, arguments: arguments, argument: "sf")
        try run(plan, describing: "get_mn_major_tma_aligned_packed_ue8m0_tensor sf=\(rows.tensor.shape)", on: stream)
        try flag.check(sf: rows.tensor)
        return output
    }

    /// `get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor` on a CUDA `sf` (contiguous f32
    /// [SK, MN], checked with `packing`): a new row-major int32 [P, MN] on its device.
    package static func kGroupedPackedUE8M0Tensor(_ sf: Tensor, packing: KGroupedPacking, stream: CUDAStream) throws -> Tensor {
        let family = SFLayoutKernel()
        let output = try Tensor.empty([packing.rows.count, packing.mn], dtype: .int32, device: sf.device)
        guard output.count > 0 else { return output }
        let table = packing.rows.flatMap { [Int32(truncatingIfNeeded: $0.first), Int32($0.count)] }
        let rows = try Tensor(table, shape: [table.count]).to(sf.device)
        let flag = try BadScaleFlag(on: sf.device)
        let arguments: [KernelArgument] = [.pointer(sf.deviceAddress), try SFLayoutKernel.u32(packing.mn, "sf"), .pointer(rows.deviceAddress),
                                           try SFLayoutKernel.u32(packing.rows.count, "grouped_layout"), .pointer(output.deviceAddress), .pointer(flag.address)]
        let plan = try family.plan(.kGroupedPack, elements: output.count, arguments: arguments, argument: "sf")
        try run(plan, describing: "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor sf=\(sf.shape)", on: stream)
        try flag.check(sf: sf)
        return output
    }

    /// `pack_ue8m0_to_int` on a CUDA `x` (f32 [..., n], n % 4 == 0, checked by the caller): a new
    /// contiguous int32 [..., n/4] on its device. With `validate`, reads the bad-scale flag back
    /// (synchronising) and throws naming `x` for a value that is not +0 or a finite positive power of
    /// two; the casts, whose UE8M0 scales always are, pass false and stay asynchronous.
    public static func packUE8M0ToInt(_ x: Tensor, validate: Bool = true, stream: CUDAStream) throws -> Tensor {
        let family = SFLayoutKernel()
        var shape = x.shape
        shape[shape.count - 1] /= 4
        let output = try Tensor.empty(shape, dtype: .int32, device: x.device)
        guard output.count > 0 else { return output }
        let input = x.isContiguous ? x : try x.contiguousOnDevice()
        let flag = try BadScaleFlag(on: x.device)
        let arguments: [KernelArgument] = [.pointer(input.deviceAddress), try SFLayoutKernel.u32(output.count, "x"), .pointer(output.deviceAddress),
                                           .pointer(flag.address)]
        try run(try family.plan(.packUE8M0, elements: output.count, arguments: arguments, argument: "x"),
                describing: "pack_ue8m0_to_int x=\(x.shape)", on: stream)
        if validate { try flag.check(sf: input, argument: "x") }
        return output
    }

    /// A new MN-major output of `rows`' extents with `columns` columns on its device, and the
    /// elements its storage holds (padding included).
    private static func mnMajorOutput(_ rows: ScaleFactorBatches, columns: Int, dtype: DType) throws -> (Tensor, Int) {
        let geometry = rows.mnMajorOutput(columns: columns)
        let buffer = try Tensor.empty([geometry.elements], dtype: dtype, device: rows.tensor.device)
        return (try Tensor(storage: buffer.storage, dtype: dtype, shape: geometry.shape, strides: geometry.strides), geometry.elements)
    }

    /// Queues `plan` unless its grid is empty.
    static func run(_ plan: KernelPlan, describing problem: String, on stream: CUDAStream) throws {
        if plan.launch.gridSize > 0 { try plan.run(describing: problem, on: stream) }
    }
}

/// The 8-byte device flag the packing kernels lower to the element offset of the first scale
/// without a UE8M0 encoding (all ones when there is none).
struct BadScaleFlag {
    /// Two int32 words on the device, initialised to all ones.
    let words: Tensor

    /// A fresh flag on `device` (a host-to-device copy on the current stream).
    init(on device: Device) throws {
        words = try Tensor([Int32(-1), Int32(-1)], shape: [2]).to(device)
    }

    /// The flag's device address.
    var address: UInt64 { words.deviceAddress }

    /// Reads the flag back (synchronising) and throws naming `argument` for the scale it points to
    /// (an element offset from `sf`'s first element).
    func check(sf: Tensor, argument: String = "sf") throws {
        let halves = try words.to(.host).elements(as: UInt32.self)
        let offset = UInt64(halves[0]) | UInt64(halves[1]) << 32
        guard offset != UInt64.max else { return }
        let element = try Tensor(storage: sf.storage, dtype: .float32, shape: [1], strides: [1], offset: sf.offset + Int(offset))
        let bits = try element.to(.host).elements(as: UInt32.self)[0]
        let error = unpackableScaleError(bits: bits, at: "at element offset \(offset)")
        guard case .invalidArgument(_, let rule) = error else { throw error }
        throw DeepGEMMError.invalidArgument(argument: argument, rule: rule)
    }
}

extension Tensor {
    /// A contiguous copy of this CUDA view on its device (queued on the current stream; the view's
    /// last dimension must be contiguous, as for every device copy).
    func contiguousOnDevice() throws -> Tensor {
        let copy = try Tensor.empty(shape, dtype: dtype, device: device)
        try copy.copy(from: self)
        return copy
    }
}
