/// A Swift type whose values can be stored in a ``Tensor`` of ``dtype``.
public protocol TensorElement: Sendable {
    /// The dtype whose elements have this type's layout.
    static var dtype: DType { get }
}

extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Float: TensorElement { public static var dtype: DType { .float32 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif
extension BFloat16: TensorElement { public static var dtype: DType { .bfloat16 } }
extension Float8E4M3: TensorElement { public static var dtype: DType { .float8E4M3 } }
extension Float8E5M2: TensorElement { public static var dtype: DType { .float8E5M2 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
