import DeepGEMMCUDA

// DeepGEMM's scale-factor layout utilities (spec §3), run where `sf` is (``Placement``): host
// tensors on the CPU, CUDA tensors with the layout kernels on the device's current stream, outputs
// on the same device, bit-identical either way. The rules are checked once (DeepGEMMCore); the
// small int32 layouts whose values the rules read are copied to the host first on a CUDA device.
// These shadow DeepGEMMCore's functions of the same names for importers of `DeepGEMM`.

/// `get_mn_major_tma_aligned_tensor` on the CPU or a CUDA device; see
/// ``DeepGEMMCore/getMNMajorTMAAlignedTensor(_:)``.
public func getMNMajorTMAAlignedTensor(_ sf: Tensor) throws -> Tensor {
    switch try Placement([("sf", sf)]) {
    case .cpu:
        return try DeepGEMMCore.getMNMajorTMAAlignedTensor(sf)
    case .cuda(let stream):
        let rows = try ScaleFactorBatches(sf)
        return rows.hasMNMajorTMAAlignedStrides ? sf : try CUDABackend.mnMajorTMAAlignedTensor(rows, stream: stream)
    }
}

/// `get_mn_major_tma_aligned_packed_ue8m0_tensor` on the CPU or a CUDA device (a CUDA call reads a
/// validity flag back, so it synchronises); see
/// ``DeepGEMMCore/getMNMajorTMAAlignedPackedUE8M0Tensor(_:psumLayout:settings:)``.
public func getMNMajorTMAAlignedPackedUE8M0Tensor(
    _ sf: Tensor, psumLayout: Tensor? = nil, settings: DeepGEMMSettings = .default
) throws -> Tensor {
    let placement = try Placement([("sf", sf), ("psum_layout", psumLayout)])
    guard case .cuda(let stream) = placement else {
        return try DeepGEMMCore.getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: psumLayout, settings: settings)
    }
    return try packedOnCUDA(try ScaleFactorBatches(sf), psumLayout: psumLayout, placement: placement, settings: settings, stream: stream)
}

/// `get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor` on the CPU or a CUDA device (a CUDA call
/// copies `grouped_layout` to the host and reads a validity flag back, so it synchronises); see
/// ``DeepGEMMCore/getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(_:groupedLayout:ksCPU:granK:kAlignment:usePsumLayout:)``.
public func getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
    _ sf: Tensor, groupedLayout: Tensor, ksCPU: [Int]?, granK: Int, kAlignment: Int, usePsumLayout: Bool = false
) throws -> Tensor {
    let placement = try Placement([("sf", sf), ("grouped_layout", groupedLayout)])
    guard case .cuda(let stream) = placement else {
        return try DeepGEMMCore.getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: groupedLayout, ksCPU: ksCPU, granK: granK,
                                                                             kAlignment: kAlignment, usePsumLayout: usePsumLayout)
    }
    let packing = try KGroupedPacking(sf, groupedLayout: try placement.readable(groupedLayout)!, ksCPU: ksCPU, granK: granK,
                                      kAlignment: kAlignment, usePsumLayout: usePsumLayout)
    return try CUDABackend.kGroupedPackedUE8M0Tensor(sf, packing: packing, stream: stream)
}

/// `transform_sf_into_required_layout` on the CPU or a CUDA device; see
/// ``DeepGEMMCore/transformSFIntoRequiredLayout(_:mn:k:recipe:numGroups:isSFA:disableUE8M0Cast:psumLayout:settings:)``.
/// On a CUDA device the device's architecture stands for `settings.arch`: an SM90 device takes the
/// SM90 cases (f32 per-token scales made MN-major and TMA-aligned, per-block scales unchanged) and
/// throws "Unknown SF transformation" for the SM100-only ones.
public func transformSFIntoRequiredLayout(
    _ sf: Tensor, mn: Int, k: Int, recipe: ScaleRecipe, numGroups: Int? = nil, isSFA: Bool? = nil,
    disableUE8M0Cast: Bool = false, psumLayout: Tensor? = nil, settings: DeepGEMMSettings = .default
) throws -> Tensor {
    let placement = try Placement([("sf", sf), ("psum_layout", psumLayout)])
    guard case .cuda(let stream) = placement else {
        return try DeepGEMMCore.transformSFIntoRequiredLayout(sf, mn: mn, k: k, recipe: recipe, numGroups: numGroups, isSFA: isSFA,
                                                             disableUE8M0Cast: disableUE8M0Cast, psumLayout: psumLayout, settings: settings)
    }
    let rules = placement.rules(settings)
    switch try SFTransformation(sf, mn: mn, k: k, recipe: recipe, numGroups: numGroups, isSFA: isSFA, disableUE8M0Cast: disableUE8M0Cast,
                                settings: rules) {
    case .mnMajorTMAAligned: return try getMNMajorTMAAlignedTensor(sf)
    case .unchanged: return sf
    case .packedUE8M0(let rows): return try packedOnCUDA(rows, psumLayout: psumLayout, placement: placement, settings: rules, stream: stream)
    }
}

/// The MN-major UE8M0 packing of `rows` on a CUDA device, with the PSUM layout read on the host.
private func packedOnCUDA(_ rows: ScaleFactorBatches, psumLayout: Tensor?, placement: Placement, settings: DeepGEMMSettings,
                          stream: CUDAStream) throws -> Tensor {
    let ranges = try rows.packedRowRanges(psumLayout: try placement.readable(psumLayout), settings: placement.rules(settings))
    return try CUDABackend.mnMajorPackedUE8M0Tensor(rows, rowRanges: ranges, stream: stream)
}
