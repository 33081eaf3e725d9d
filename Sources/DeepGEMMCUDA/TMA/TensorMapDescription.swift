import DeepGEMMCore

/// The parameters of one `cuTensorMapEncodeTiled` call for a 3-D view (inner, outer, group) of a
/// tensor, computed from its strides; pure, so it is checked without a device.
public struct TensorMapDescription: Sendable, Equatable {
    /// Element types TMA moves for these kernels.
    public enum ElementType: Sendable, Equatable {
        /// bfloat16 (`CU_TENSOR_MAP_DATA_TYPE_BFLOAT16`).
        case bfloat16
        /// binary32 (`CU_TENSOR_MAP_DATA_TYPE_FLOAT32`).
        case float32
        /// binary32 in memory, rounded to TF32 as it is loaded (`CU_TENSOR_MAP_DATA_TYPE_TFLOAT32`).
        case tfloat32
        /// One byte (float8_e4m3fn moved as `CU_TENSOR_MAP_DATA_TYPE_UINT8`).
        case byte

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bfloat16: 2
            case .float32, .tfloat32: 4
            case .byte: 1
            }
        }

        /// The element type of `dtype`; throws naming `name` for a type these kernels do not move.
        public init(_ dtype: DType, name: String) throws {
            switch dtype {
            case .bfloat16: self = .bfloat16
            case .float32: self = .float32
            case .float8E4M3: self = .byte
            default: throw DeepGEMMError.unsupported(argument: name, rule: "TMA maps of these kernels move bfloat16, float32 or float8_e4m3fn, got \(dtype)")
            }
        }
    }

    /// Most elements a box spans in one dimension.
    public static let maxBoxSize = 256
    /// Alignment TMA needs of the start address and of every stride, in bytes.
    public static let alignment = 16

    /// The element type.
    public var elementType: ElementType
    /// Device address of element (0, 0, 0).
    public var address: UInt64
    /// Sizes, innermost (contiguous) first: (inner, outer, groups).
    public var dimensions: [UInt64]
    /// Byte strides of the outer and group dimensions.
    public var byteStrides: [UInt64]
    /// The box one copy moves, innermost first.
    public var box: [UInt32]
    /// Swizzle width in bytes: 0 (none), 32, 64 or 128.
    public var swizzleBytes: Int

    /// Describes the view whose element (i, o, g) lies at `address + (i + o*outerStride + g*groupStride) * size`.
    ///
    /// Throws `invalidArgument(argument: name, ...)` when TMA cannot address it: the start must be
    /// 16-byte aligned and the outer/group strides multiples of 16 bytes (`rowsName` says what the
    /// rows are in the message, e.g. "MN-major"). A dimension of size one has no stride to respect
    /// (PyTorch leaves any value there): its stride becomes the next 16-byte multiple past the data.
    /// The box (the kernel's choice) must be at most 256 per dimension with a 16-byte multiple inner
    /// extent that fits the swizzle width.
    public init(name: String, elementType: ElementType, address: UInt64, rowsName: String,
                innerSize: Int, outerSize: Int, outerStride: Int, groups: Int = 1, groupStride: Int? = nil,
                boxInner: Int, boxOuter: Int, swizzleBytes: Int) throws {
        let size = elementType.size
        let alignment = Self.alignment
        try DeepGEMMError.require(address % UInt64(alignment) == 0, name, "TMA needs a 16-byte aligned start address, got 0x\(String(address, radix: 16))")
        try DeepGEMMError.require(innerSize > 0 && outerSize > 0 && groups > 0, name, "TMA needs non-empty dimensions, got \(innerSize) x \(outerSize) x \(groups)")
        let outerBytes = outerSize == 1 ? align(innerSize * size, alignment) : outerStride * size
        try DeepGEMMError.require(outerBytes % alignment == 0, name,
                                  "\(rowsName) rows must be 16-byte aligned: TMA needs the row stride to be a multiple of 16 bytes, got \(outerStride) elements of \(size) bytes")
        let groupBytes = groups == 1 ? align(outerBytes * outerSize, alignment) : (groupStride ?? outerStride * outerSize) * size
        try DeepGEMMError.require(groupBytes % alignment == 0, name,
                                  "TMA needs the group stride to be a multiple of 16 bytes, got \(groupBytes / size) elements of \(size) bytes")
        try DeepGEMMError.require(outerBytes < 1 << 40 && groupBytes < 1 << 40, name, "TMA strides must be below 2^40 bytes")
        precondition([0, 32, 64, 128].contains(swizzleBytes), "unsupported swizzle \(swizzleBytes)")
        precondition(boxInner > 0 && boxInner <= Self.maxBoxSize && boxOuter > 0 && boxOuter <= Self.maxBoxSize, "TMA box \(boxInner) x \(boxOuter) out of range")
        precondition((boxInner * size) % alignment == 0, "TMA box inner extent must be a multiple of 16 bytes")
        precondition(swizzleBytes == 0 || boxInner * size <= swizzleBytes, "TMA box inner extent exceeds the swizzle width")
        self.elementType = elementType
        self.address = address
        self.dimensions = [UInt64(innerSize), UInt64(outerSize), UInt64(groups)]
        self.byteStrides = [UInt64(outerBytes), UInt64(groupBytes)]
        self.box = [UInt32(boxInner), UInt32(boxOuter), 1]
        self.swizzleBytes = swizzleBytes
    }
}
