/// DeepGEMM's `get_mn_major_tma_aligned_tensor` (spec §3.2): the f32 scale factors `sf`
/// (`[MN, SK]` or `[B, MN, SK]`) in the MN-major, TMA-aligned layout, strides
/// `(align(MN,4)·SK, 1, align(MN,4))` (the batch stride dropped for 2-D).
///
/// When `sf` already has exactly those strides (the batch stride is not checked for 2-D), `sf`
/// itself is returned. Otherwise the values are copied into new storage whose padding rows
/// `MN..<align(MN,4)` are zero (DeepGEMM leaves them uninitialised).
public func getMNMajorTMAAlignedTensor(_ sf: Tensor) throws -> Tensor {
    let source = try ScaleFactorBatches(sf)
    let aligned = source.alignedMN
    if source.hasMNMajorTMAAlignedStrides { return sf }

    let result = source.makeMNMajorOutput(columns: source.sfK, dtype: .float32)
    let input = UnsafeRawPointer(sf.dataPointer), output = result.dataPointer
    let outputBatchStride = aligned * source.sfK
    for batch in 0..<source.batches {
        for column in 0..<source.sfK {
            let inputColumn = batch * source.batchStride + column * source.kStride
            let outputColumn = batch * outputBatchStride + column * aligned
            for row in 0..<source.mn {
                let bits = input.loadUnaligned(fromByteOffset: 4 * (inputColumn + row * source.mnStride), as: UInt32.self)
                output.storeBytes(of: bits, toByteOffset: 4 * (outputColumn + row), as: UInt32.self)
            }
        }
    }
    return result
}
