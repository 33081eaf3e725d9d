#if canImport(Glibc)
import Glibc
#endif
import DeepGEMM

/// An independent reference of Mega MoE's SwiGLU + weight + UE8M0 FP8 requantization: each binary32
/// step is computed in binary64 and rounded once to binary32 (exact for +, ×, ÷ of binary32 inputs),
/// the exponent is found with log2 instead of bit fields, and the output is unpacked (one byte per
/// group, row-major).
enum MegaMoESwiGLUReference {
    /// The result: FP8 codes [rows, I] and exponent bytes [rows, I/32], both row-major.
    struct Output: Equatable {
        var codes: [UInt8]
        var scaleBytes: [UInt8]
    }

    /// `(silu(gate)·up)·w` with the rounding steps of spec §1.5/§1.9.
    static func activation(gate: Float, up: Float, weight: Float, clamp: Float?, fastMath: Bool) -> Float {
        var g = Double(gate), u = Double(up)
        if let clamp {
            g = Swift.min(g, Double(clamp))
            u = Swift.max(-Double(clamp), Swift.min(u, Double(clamp)))
        }
        let e = fastMath ? Double(exp2f(Float(-g * Double(Float(1.442695041))))) : Double(expf(Float(-g)))
        let den = Double(Float(1 + e))
        let s: Double
        if fastMath {
            var r = Float(1 / den)
            if r != 0 && r.magnitude < Float.leastNormalMagnitude { r = 0 }
            s = Double(Float(g * Double(r)))
        } else {
            s = Double(Float(g / den))
        }
        return Float(Double(Float(s * u)) * Double(weight))
    }

    /// E for a group's amax: ceil(log2(q)) with q = RN(amax·fp32(1/448)); a subnormal q gives
    /// -126 and q = 0 gives -127 (the bit-level rule's values there).
    static func exponent(amax: Float) -> Int {
        let q = Float(Double(amax) * Double(Float(1.0 / 448.0)))
        if q == 0 { return -127 }
        if q < Float.leastNormalMagnitude { return -126 }
        return Int(log2(Double(q)).rounded(.up))
    }

    /// Runs the reference on row-major gate|up values `x` [rows, 2I].
    static func run(x: [Float], weights: [Float]?, rows: Int, intermediate: Int, clamp: Float?, fastMath: Bool) -> Output {
        var output = Output(codes: [], scaleBytes: [])
        for r in 0..<rows {
            let a = (0..<intermediate).map { c in
                activation(gate: x[r * 2 * intermediate + c], up: x[r * 2 * intermediate + intermediate + c],
                           weight: weights?[r] ?? 1, clamp: clamp, fastMath: fastMath)
            }
            for g in 0..<intermediate / 32 {
                let group = a[(g * 32)..<(g * 32 + 32)]
                let amax = group.filter { !$0.isNaN }.map(\.magnitude).max() ?? 0
                let e = exponent(amax: amax)
                output.scaleBytes.append(UInt8(e + 127))
                output.codes += group.map { $0.isNaN ? 0x7F : Float8E4M3(Float(Double($0) * pow2(-e)), overflow: .saturate).bitPattern }
            }
        }
        return output
    }

    /// 2^e, exactly.
    static func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

    /// Unpacks the operator's result into the reference's form, reading sf through its strides.
    static func unpack(_ result: QuantizedTensor, rows: Int, intermediate: Int) throws -> Output {
        let words = try result.sf.contiguous().elements(as: Int32.self)
        let wordsPerRow = (intermediate / 32 + 3) / 4
        var bytes = [UInt8]()
        for r in 0..<rows {
            for g in 0..<intermediate / 32 { bytes.append(UE8M0.byte(words[r * wordsPerRow + g / 4], g % 4)) }
        }
        return Output(codes: try result.data.elements(as: UInt8.self), scaleBytes: bytes)
    }
}
