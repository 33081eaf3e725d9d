extension DType {
    /// Decodes one element at `pointer` as a Double. Packed FP4 decodes the low nibble; use
    /// ``Tensor/unpackedFP4Values()`` for both.
    public func decodeDouble(_ pointer: UnsafeRawPointer) -> Double {
        switch self {
        case .float64: return pointer.loadUnaligned(as: Double.self)
        case .float32: return Double(pointer.loadUnaligned(as: Float.self))
        case .float16: return Double(Float(halfBits: pointer.loadUnaligned(as: UInt16.self)))
        case .bfloat16: return Double(BFloat16(bitPattern: pointer.loadUnaligned(as: UInt16.self)).floatValue)
        case .float8E4M3: return Double(Float8E4M3.decodeTable[Int(pointer.load(as: UInt8.self))])
        case .float8E5M2: return Double(Float8E5M2.decodeTable[Int(pointer.load(as: UInt8.self))])
        case .float4E2M1x2: return Double(Float4E2M1.decode(pointer.load(as: UInt8.self)))
        case .ue8m0: return Double(UE8M0.scaleValue(pointer.load(as: UInt8.self)))
        case .int8: return Double(pointer.load(as: Int8.self))
        case .uint8: return Double(pointer.load(as: UInt8.self))
        case .int16: return Double(pointer.loadUnaligned(as: Int16.self))
        case .int32: return Double(pointer.loadUnaligned(as: Int32.self))
        case .int64: return Double(pointer.loadUnaligned(as: Int64.self))
        case .bool: return pointer.load(as: UInt8.self) != 0 ? 1 : 0
        }
    }

    /// Encodes `value` into one element at `pointer`: floating formats round to nearest even
    /// (FP8 overflow becomes NaN, or infinity for E5M2), integers truncate toward zero and clamp.
    public func encode(_ value: Double, to pointer: UnsafeMutableRawPointer) {
        func clamped<I: FixedWidthInteger>(_: I.Type) -> I {
            if value.isNaN { return 0 }
            return value >= Double(I.max) ? I.max : value <= Double(I.min) ? I.min : I(value.rounded(.towardZero))
        }
        switch self {
        case .float64: pointer.storeBytes(of: value, as: Double.self)
        case .float32: pointer.storeBytes(of: Float(value), as: Float.self)
        case .float16: pointer.storeBytes(of: Float(value).halfBits, as: UInt16.self)
        case .bfloat16: pointer.storeBytes(of: BFloat16(Float(value)).bitPattern, as: UInt16.self)
        case .float8E4M3: pointer.storeBytes(of: Float8E4M3(Float(value)).bitPattern, as: UInt8.self)
        case .float8E5M2: pointer.storeBytes(of: Float8E5M2(Float(value)).bitPattern, as: UInt8.self)
        case .float4E2M1x2: pointer.storeBytes(of: Float4E2M1.encode(Float(value)), as: UInt8.self)
        case .ue8m0: pointer.storeBytes(of: UE8M0.exponentByte(UE8M0.ceil(Float(value))), as: UInt8.self)
        case .int8: pointer.storeBytes(of: clamped(Int8.self), as: Int8.self)
        case .uint8: pointer.storeBytes(of: clamped(UInt8.self), as: UInt8.self)
        case .int16: pointer.storeBytes(of: clamped(Int16.self), as: Int16.self)
        case .int32: pointer.storeBytes(of: clamped(Int32.self), as: Int32.self)
        case .int64: pointer.storeBytes(of: clamped(Int64.self), as: Int64.self)
        case .bool: pointer.storeBytes(of: value != 0 ? 1 : 0, as: UInt8.self)
        }
    }
}

extension Float {
    /// The binary32 value of IEEE binary16 bits.
    @inlinable
    public init(halfBits: UInt16) {
        let sign = UInt32(halfBits & 0x8000) << 16
        let e = Int(halfBits >> 10) & 0x1F, m = UInt32(halfBits & 0x3FF)
        if e == 0x1F { self = Float(bitPattern: sign | 0x7F80_0000 | m << 13); return }
        if e == 0 {
            let magnitude = Float(m) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
            return
        }
        self = Float(bitPattern: sign | UInt32(e + 112) << 23 | m << 13)
    }

    /// IEEE binary16 bits of this value, round-to-nearest-even.
    @inlinable
    public var halfBits: UInt16 {
        let bits = bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let a = bits & 0x7FFF_FFFF
        if a > 0x7F80_0000 { return sign | 0x7E00 }
        if a >= 0x477F_F000 { return sign | 0x7C00 }  // rounds to infinity
        if a >= 0x3880_0000 {
            let rounded = (a &+ 0xFFF &+ ((a >> 13) & 1)) >> 13
            return sign | UInt16(truncatingIfNeeded: rounded &- (112 << 10))
        }
        let magic: Float = 0.5  // ulp of 0.5 in binary32 is 2^-24, the binary16 subnormal step
        return sign | UInt16(truncatingIfNeeded: (Float(bitPattern: a) + magic).bitPattern &- magic.bitPattern)
    }
}

extension Tensor {
    /// Every element decoded to Double, row-major. Packed FP4 yields one value per byte (low
    /// nibble); see ``unpackedFP4Values()``.
    public func doubleValues() -> [Double] {
        var result = [Double]()
        result.reserveCapacity(count)
        let base = UnsafeRawPointer(dataPointer), size = dtype.size
        forEachElementOffset { result.append(dtype.decodeDouble(base + $0 * size)) }
        return result
    }

    /// Every element decoded to Float, row-major.
    public func floatValues() -> [Float] { doubleValues().map { Float($0) } }

    /// The decoded values of a packed FP4 tensor, two per byte, low nibble first.
    public func unpackedFP4Values() throws -> [Float] {
        try DeepGEMMError.require(dtype == .float4E2M1x2 || dtype == .int8, "tensor", "expected packed FP4 (int8 storage), got \(dtype)")
        var result = [Float]()
        result.reserveCapacity(count * 2)
        let base = UnsafeRawPointer(dataPointer)
        forEachElementOffset { offset in
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            result.append(Float4E2M1.decode(byte & 0xF))
            result.append(Float4E2M1.decode(byte >> 4))
        }
        return result
    }

    /// A new contiguous tensor of `dtype` holding `values` (row-major) rounded as ``DType/encode(_:to:)`` does.
    public init(converting values: [Double], shape: [Int], dtype: DType) throws {
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count, "shape",
                                  "\(shape) does not hold \(values.count) values")
        self.init(zeros: shape, dtype: dtype)
        let base = dataPointer, size = dtype.size
        for (i, value) in values.enumerated() { dtype.encode(value, to: base + i * size) }
    }

    /// A contiguous copy converted to `dtype` element by element through Double.
    public func converted(to newType: DType) -> Tensor {
        if newType == dtype { return clone() }
        let result = Tensor(zeros: shape, dtype: newType)
        let source = UnsafeRawPointer(dataPointer), size = dtype.size
        let target = result.dataPointer, newSize = newType.size
        var i = 0
        forEachElementOffset { offset in
            newType.encode(dtype.decodeDouble(source + offset * size), to: target + i * newSize)
            i += 1
        }
        return result
    }
}
