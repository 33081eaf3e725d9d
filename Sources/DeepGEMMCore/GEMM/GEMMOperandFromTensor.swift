/// The ``GEMMOperand`` of an A or B argument already in nt orientation (a 2-D [MN, K] view, or the
/// packed int8 storage of FP4), following DeepGEMM's `get_major_type_ab` and `check_ab_fp8_fp4`:
/// stride(-1) == 1 is K-major, otherwise stride(-2) == 1 is MN-major, anything else is an error.
///
/// dtypes: FP8 E4M3 (`e4m3`); int8 or packed FP4 (`e2m1`, two codes per byte, the packed dimension
/// doubled: K-major storage [MN, K/2], MN-major storage [MN/2, K]); BF16; F32.
public func gemmOperand(_ data: Tensor, name: String, scales: ScaleGrid?) throws -> GEMMOperand {
    try DeepGEMMError.require(data.rank == 2, name, "must be a 2-D matrix here, got shape \(data.shape)")
    let kMajor = data.stride(-1) == 1 || data.size(-1) == 1
    let mnMajor = data.stride(-2) == 1 || data.size(-2) == 1
    try DeepGEMMError.require(kMajor || mnMajor, name, "must be K-major (stride(-1) == 1) or MN-major (stride(-2) == 1), got strides \(data.strides)")
    let rows = data.size(0), columns = data.size(1)
    switch data.dtype {
    case .float8E4M3:
        return try GEMMOperand(format: .e4m3, rows: rows, k: columns, data: data, scales: scales)
    case .bfloat16:
        return try GEMMOperand(format: .bf16, rows: rows, k: columns, data: data, scales: scales)
    case .float32:
        return try GEMMOperand(format: .f32, rows: rows, k: columns, data: data, scales: scales)
    case .int8, .float4E2M1x2:
        let bytes = try data.viewing(as: .float4E2M1x2)
        if data.stride(-1) == 1 {
            return try GEMMOperand(format: .e2m1, rows: rows, k: 2 * columns, data: bytes, fp4PackedAlongK: true, scales: scales)
        }
        return try GEMMOperand(format: .e2m1, rows: 2 * rows, k: columns, data: bytes, fp4PackedAlongK: false, scales: scales)
    default:
        throw DeepGEMMError.invalidArgument(argument: name, rule: "must be float8_e4m3fn, packed FP4 (int8), bfloat16 or float32, got \(data.dtype)")
    }
}
