/// How the elements of a GEMM operand are encoded.
public enum GEMMElementFormat: String, Sendable, Hashable {
    /// FP8 E4M3FN bytes.
    case e4m3
    /// FP4 E2M1 codes packed two per byte (see ``GEMMOperand/fp4PackedAlongK``).
    case e2m1
    /// bfloat16.
    case bf16
    /// binary32.
    case f32
}

/// Per-block scale factors of a GEMM operand as dense FP32 values: the element at (row, k) is
/// multiplied by `values[row / granRows, k / granK]`.
public struct ScaleGrid: Sendable {
    /// F32 [ceil(rows / granRows), ceil(k / granK)] (any strides).
    public var values: Tensor {
        didSet { decodedFromUE8M0 = false }
    }
    /// Rows sharing one scale.
    public var granRows: Int
    /// K elements sharing one scale.
    public var granK: Int
    /// Whether the library decoded `values` from UE8M0 bytes (so each is 2^e with e in -127...127,
    /// or NaN): the AMX GEMMs then take them as powers of two without checking. Assigning `values`
    /// clears it.
    public private(set) var decodedFromUE8M0 = false

    /// Creates a grid; `values` must be 2-D F32.
    public init(values: Tensor, granRows: Int, granK: Int) throws {
        try DeepGEMMError.require(values.dtype == .float32 && values.rank == 2, "sf", "scale grid must be 2-D float32, got \(values.dtype) \(values.shape)")
        try DeepGEMMError.require(granRows > 0 && granK > 0, "recipe", "granularities must be positive, got (\(granRows), \(granK))")
        self.values = values
        self.granRows = granRows
        self.granK = granK
    }

    /// A grid whose `values` (F32 [ceil(rows / granRows), blocks]) the library has just decoded from
    /// UE8M0 bytes (``UE8M0/scaleValue(_:)``) or checked to be such values; `granRows`, `granK` > 0.
    package init(ue8m0Decoded values: Tensor, granRows: Int = 1, granK: Int) {
        self.values = values
        self.granRows = granRows
        self.granK = granK
        decodedFromUE8M0 = true
    }

    /// A grid of `values` taken from this one's (rows of it, or rows repeated), at row granularity
    /// `granRows`: it keeps ``decodedFromUE8M0``.
    package func derived(values: Tensor, granRows: Int) throws -> ScaleGrid {
        var grid = try ScaleGrid(values: values, granRows: granRows, granK: granK)
        grid.decodedFromUE8M0 = decodedFromUE8M0
        return grid
    }

    /// The scale of element (row, k).
    @inlinable
    public func scale(row: Int, k: Int) -> Float {
        let base = UnsafeRawPointer(values.dataPointer)
        let offset = (row / granRows) * values.strides[0] + (k / granK) * values.strides[1]
        return base.load(fromByteOffset: offset * 4, as: Float.self)
    }
}

/// One operand of `D = A · Bᵀ` seen as a logical [rows, k] matrix (A: rows = M; B: rows = N),
/// after DeepGEMM's layout variants (nt/nn/tn/tt) and scale recipes have been resolved.
public struct GEMMOperand: Sendable {
    /// Element encoding.
    public var format: GEMMElementFormat
    /// Logical rows (M or N).
    public var rows: Int
    /// Logical reduction size K.
    public var k: Int
    /// The elements. For `.e4m3`, `.bf16` and `.f32`: a logical [rows, k] view with any strides
    /// (K-major has stride(1) == 1, MN-major stride(0) == 1). For `.e2m1`: the packed bytes, either
    /// [rows, k/2] where byte (r, j) holds k = 2j (low nibble) and 2j+1 (``fp4PackedAlongK``), or
    /// [rows/2, k] where byte (i, c) holds rows 2i (low nibble) and 2i+1 at column c.
    public var data: Tensor
    /// For `.e2m1`: whether the two codes of a byte are consecutive along K.
    public var fp4PackedAlongK: Bool
    /// Block scales, or nil for unscaled operands (BF16/F32 GEMMs).
    public var scales: ScaleGrid?

    /// Creates an operand after checking that `data` covers [rows, k] in the given format.
    public init(format: GEMMElementFormat, rows: Int, k: Int, data: Tensor, fp4PackedAlongK: Bool = true, scales: ScaleGrid? = nil) throws {
        try DeepGEMMError.require(data.rank == 2, "data", "operand storage must be 2-D, got \(data.shape)")
        let expected: [Int]
        switch format {
        case .e2m1: expected = fp4PackedAlongK ? [rows, (k + 1) / 2] : [(rows + 1) / 2, k]
        default: expected = [rows, k]
        }
        try DeepGEMMError.require(data.shape == expected, "data", "\(format) operand of \(rows) x \(k) needs storage \(expected), got \(data.shape)")
        if let scales {
            try DeepGEMMError.require(scales.values.size(0) >= ceilDiv(rows, scales.granRows) && scales.values.size(1) >= ceilDiv(k, scales.granK),
                                      "sf", "scale grid \(scales.values.shape) does not cover \(rows) x \(k) at granularity (\(scales.granRows), \(scales.granK))")
        }
        self.format = format
        self.rows = rows
        self.k = k
        self.data = data
        self.fp4PackedAlongK = fp4PackedAlongK
        self.scales = scales
    }

    /// The unscaled value of element (row, k).
    @inlinable
    public func value(row: Int, k: Int) -> Float {
        let base = UnsafeRawPointer(data.dataPointer)
        switch format {
        case .e4m3:
            return Float8E4M3.decodeTable[Int(base.load(fromByteOffset: row * data.strides[0] + k * data.strides[1], as: UInt8.self))]
        case .bf16:
            let offset = (row * data.strides[0] + k * data.strides[1]) * 2
            return BFloat16(bitPattern: base.load(fromByteOffset: offset, as: UInt16.self)).floatValue
        case .f32:
            return base.load(fromByteOffset: (row * data.strides[0] + k * data.strides[1]) * 4, as: Float.self)
        case .e2m1:
            let byte: UInt8, high: Bool
            if fp4PackedAlongK {
                byte = base.load(fromByteOffset: row * data.strides[0] + (k / 2) * data.strides[1], as: UInt8.self)
                high = k % 2 == 1
            } else {
                byte = base.load(fromByteOffset: (row / 2) * data.strides[0] + k * data.strides[1], as: UInt8.self)
                high = row % 2 == 1
            }
            return Float4E2M1.decode(high ? byte >> 4 : byte & 0xF)
        }
    }

    /// The dequantized value of element (row, k): ``value(row:k:)`` times its scale.
    @inlinable
    public func dequantized(row: Int, k: Int) -> Float {
        guard let scales else { return value(row: row, k: k) }
        return value(row: row, k: k) * scales.scale(row: row, k: k)
    }
}
