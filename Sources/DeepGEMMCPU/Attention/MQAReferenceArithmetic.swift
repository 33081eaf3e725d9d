import DeepGEMMCore

/// The arithmetic of the lightning-indexer kernels in plain Swift: the definition every C variant
/// reproduces bit for bit (documented in `dg_mqa.h`).
enum MQAReferenceArithmetic {
    /// FP8 score: over the pairs p of D, `acc = acc + q[2p+1]·k[2p+1]` then `acc = acc + q[2p]·k[2p]`
    /// in binary32 (the products of FP8 values are exact), the order of `vdpbf16ps`.
    @inline(__always)
    static func fp8Score(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, dim: Int) -> Float {
        var acc: Float = 0
        var d = 0
        while d < dim {
            acc = acc + q[d + 1] * k[d + 1]
            acc = acc + q[d] * k[d]
            d += 2
        }
        return acc
    }

    /// FP4 score: for each 32-element block b in order, the exact integer dot of the doubled E2M1
    /// values, then `s = fma(float(dot), qScale_b · kScale_b, s)` where qScale_b already carries
    /// the 1/4 of the doubling.
    @inline(__always)
    static func fp4Score(_ q: UnsafePointer<Int8>, _ qScales: UnsafePointer<Float>, _ k: UnsafePointer<Int8>,
                         _ kScales: UnsafePointer<Float>, dim: Int) -> Float {
        var s: Float = 0
        for block in 0..<(dim / 32) {
            var dot: Int32 = 0
            for d in (32 * block)..<(32 * block + 32) { dot &+= Int32(q[d]) &* Int32(k[d]) }
            s = s.addingProduct(Float(dot), qScales[block] * kScales[block])
        }
        return s
    }

    /// `x > 0 ? x : 0` (NaN gives 0).
    @inline(__always)
    static func relu(_ x: Float) -> Float { x > 0 ? x : 0 }

    /// Head reduction with F32 weights: four FMA chains over the heads h ≡ k (mod 4), combined as
    /// `(c0 + c2) + (c1 + c3)`, times `kvScale` when given (FP8).
    @inline(__always)
    static func reduceF32(_ scores: UnsafePointer<Float>, heads: Int, weights: UnsafePointer<Float>, kvScale: Float?) -> Float {
        var c: (Float, Float, Float, Float) = (0, 0, 0, 0)
        var h = 0
        while h < heads {
            c.0 = c.0.addingProduct(relu(scores[h]), weights[h])
            c.1 = c.1.addingProduct(relu(scores[h + 1]), weights[h + 1])
            c.2 = c.2.addingProduct(relu(scores[h + 2]), weights[h + 2])
            c.3 = c.3.addingProduct(relu(scores[h + 3]), weights[h + 3])
            h += 4
        }
        let r = (c.0 + c.2) + (c.1 + c.3)
        return kvScale.map { r * $0 } ?? r
    }

    /// Head reduction with BF16 weights (DeepGEMM's SM100 BF16 path): `r_h = bf16(relu(s_h))`,
    /// four BF16 chains `c_k = bf16(r_h·w_h + c_k)` (one rounding), `x = bf16(c0 + c2)`,
    /// `y = bf16(c1 + c3)`, `bf16(x + y)`, and for FP8 `bf16(that · bf16(kvScale))`.
    @inline(__always)
    static func reduceBF16(_ scores: UnsafePointer<Float>, heads: Int, weights: UnsafePointer<UInt16>, kvScale: Float?) -> Float {
        func term(_ h: Int, _ c: Float) -> Float {
            bf16FMA(bf16Round(relu(scores[h])), BFloat16(bitPattern: weights[h]).floatValue, c)
        }
        var c: (Float, Float, Float, Float) = (0, 0, 0, 0)
        var h = 0
        while h < heads {
            c = (term(h, c.0), term(h + 1, c.1), term(h + 2, c.2), term(h + 3, c.3))
            h += 4
        }
        let r = bf16Round(bf16Round(c.0 + c.2) + bf16Round(c.1 + c.3))
        return kvScale.map { bf16Round(r * bf16Round($0)) } ?? r
    }

    /// `x` rounded to BF16 (nearest even), as a Float.
    @inline(__always)
    static func bf16Round(_ x: Float) -> Float { BFloat16(x).floatValue }

    /// `bf16(a·b + c)` with one rounding, for BF16-exact a, b, c: the product is exact in binary32;
    /// the binary32 sum and its exact error (TwoSum) decide the rounding, the error breaking ties.
    @inline(__always)
    static func bf16FMA(_ a: Float, _ b: Float, _ c: Float) -> Float {
        let p = a * b
        let s = p + c
        let v = s - p
        let e = (p - (s - v)) + (c - v)
        let bits = s.bitPattern
        guard bits & 0xFFFF == 0x8000 && e != 0 else { return bf16Round(s) }
        let away = (e > 0) == (s > 0)
        return bf16Round(Float(bitPattern: away ? bits &+ 0x8000 : bits &- 0x8000))
    }

    /// The value of a UE8M0 byte as the hardware reads it (byte 0 is 2^-127, 255 NaN).
    @inline(__always)
    static func ue8m0(_ word: Int32, _ index: Int) -> Float { UE8M0.scaleValue(UE8M0.byte(word, index)) }

    /// 2·v for the E2M1 code in the low nibble of `code`.
    @inline(__always)
    static func doubledE2M1(_ code: UInt8) -> Int8 { Int8(Float4E2M1.decode(code) * 2) }
}
