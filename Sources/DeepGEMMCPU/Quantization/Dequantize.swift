import DeepGEMMCore

/// Dequantizes FP8 E4M3 (or E5M2) `data` [rows, cols] with F32 scales `sf`
/// [ceil(rows/granMN), ceil(cols/granK)] to F32: `data[i, j] * sf[i / granMN, j / granK]`, the
/// reference value every FP8 GEMM computes with.
public func dequantizeFP8(_ data: Tensor, sf: Tensor, granMN: Int, granK: Int) throws -> Tensor {
    try DeepGEMMError.require(data.dtype == .float8E4M3 || data.dtype == .float8E5M2, "data", "must be FP8, got \(data.dtype)")
    try DeepGEMMError.require(data.rank == 2, "data", "must be 2-D, got shape \(data.shape)")
    try requirePositive(granMN, "gran_mn")
    try requirePositive(granK, "gran_k")
    let rows = data.size(0), cols = data.size(1)
    let scales = try FloatInput(sf, name: "sf")
    try DeepGEMMError.require(sf.shape == [ceilDiv(rows, granMN), ceilDiv(cols, granK)], "sf",
                              "must have shape [\(ceilDiv(rows, granMN)), \(ceilDiv(cols, granK))], got \(sf.shape)")
    let values = try convert(data, to: .float32)
    let output = values.dataPointer.assumingMemoryBound(to: Float.self)
    let sfColumns = sf.size(1)
    for i in 0..<rows {
        for j in 0..<cols { output[i * cols + j] *= scales.load((i / granMN) * sfColumns + j / granK) }
    }
    return values
}
