import DeepGEMMCore

/// Where a tensor view's elements are: the address of the first element, the element type, the
/// shape and the element strides. TMA descriptors and major-ness are computed from it alone.
public struct StridedLayout: Sendable, Equatable {
    /// Device address of the first element.
    public var address: UInt64
    /// The element type.
    public var dtype: DType
    /// Sizes, outermost first.
    public var shape: [Int]
    /// Element strides, one per dimension.
    public var strides: [Int]

    /// Creates a layout.
    public init(address: UInt64, dtype: DType, shape: [Int], strides: [Int]) {
        self.address = address
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int { shape[dim < 0 ? dim + rank : dim] }
    /// Stride of dimension `dim` (negative counts from the end).
    public func stride(_ dim: Int) -> Int { strides[dim < 0 ? dim + rank : dim] }

    /// The major-ness of a GEMM operand ([.., MN, K]) by Core's one rule,
    /// ``GEMMMajor/init(shape:strides:name:)``; throws naming `name`.
    public func operandMajor(name: String) throws -> GEMMMajor {
        try GEMMMajor(shape: shape, strides: strides, name: name)
    }
}
