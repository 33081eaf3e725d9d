#if canImport(Glibc)
import Glibc
#endif
import DeepGEMM

/// An independent FP64 reference of the FP8×FP4 Mega MoE (spec §1.5): dequantize everything from
/// raw codes and scale bytes, sum in binary64, and apply the same quantization steps (BF16 L1
/// output, clamp, SwiGLU, weight, per-32 UE8M0 FP8, BF16 L2 output, combine, BF16 y).
enum MegaMoEUnfusedReference {
    /// One rank's quantized data decoded: values [rows][k] (codes times their scales).
    typealias Matrix = [[Double]]

    /// FP4 E2M1 magnitudes by index.
    static let fp4Magnitudes: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]

    /// Decodes FP8 data [rows, k] with packed UE8M0 scales [rows, k/128] (any strides).
    static func decodeFP8(_ q: QuantizedTensor) throws -> Matrix {
        let (rows, k) = (q.data.size(0), q.data.size(1))
        let codes = try q.data.elements(as: UInt8.self), words = try q.sf.contiguous().elements(as: Int32.self)
        return (0..<rows).map { r in
            (0..<k).map { c in
                Double(Float8E4M3(bitPattern: codes[r * k + c]).floatValue) * scale(words[r * (k / 128) + c / 128], group: c / 32)
            }
        }
    }

    /// Decodes packed FP4 data [rows, k/2] (low nibble first) with F32 scales [rows, k/32].
    static func decodeFP4(data: Tensor, sf: [Float], k: Int) throws -> Matrix {
        let bytes = try data.contiguous().elements(as: UInt8.self)
        return (0..<data.size(0)).map { r in
            (0..<k).map { c in
                let byte = bytes[r * k / 2 + c / 2], code = c % 2 == 0 ? byte & 0xF : byte >> 4
                let value = fp4Magnitudes[Int(code & 7)] * (code & 8 != 0 ? -1 : 1)
                return value * Double(sf[r * k / 32 + c / 32])
            }
        }
    }

    /// 2^(byte - 127) of group `group` in a packed word (byte 0 reads 2^-127, as hardware does).
    static func scale(_ word: Int32, group: Int) -> Double {
        Double(sign: .plus, exponent: Int(UE8M0.byte(word, group % 4)) - 127, significand: 1)
    }

    /// bf16_rn of a binary64 value through binary32.
    static func bf16(_ value: Double) -> Double { Double(BFloat16(Float(value)).floatValue) }

    /// `a · bᵀ` rounded to BF16: a [m][k], b [n][k].
    static func gemmBF16(_ a: Matrix, _ b: Matrix) -> Matrix {
        a.map { row in b.map { w in bf16(zip(row, w).reduce(0) { $0 + $1.0 * $1.1 }) } }
    }

    /// The FP8-requantized, dequantized SwiGLU output of one row of the L1 output [2I].
    static func swiglu(_ row: [Double], weight: Double, clamp: Double?) -> [Double] {
        let half = row.count / 2
        let a: [Double] = (0..<half).map { c in
            var (g, u) = (row[c], row[half + c])
            if let clamp { g = min(g, clamp); u = max(-clamp, min(u, clamp)) }
            return g / (1 + exp(-g)) * u * weight
        }
        return stride(from: 0, to: half, by: 32).flatMap { start -> [Double] in
            let group = a[start..<(start + 32)]
            let amax = group.map(\.magnitude).max() ?? 0
            guard amax > 0 else { return [Double](repeating: 0, count: 32) }
            let e = Int(log2(amax / 448).rounded(.up))
            let unit = Double(sign: .plus, exponent: e, significand: 1)
            return group.map { Double(Float8E4M3(Float($0 / unit), overflow: .saturate).floatValue) * unit }
        }
    }

    /// The BF16 SwiGLU output of one row of the L1 output [2I] (`bf16_mega_moe`, no FP8).
    static func swigluBF16(_ row: [Double], weight: Double, clamp: Double?) -> [Double] {
        let half = row.count / 2
        return (0..<half).map { c in
            var (g, u) = (row[c], row[half + c])
            if let clamp { g = min(g, clamp); u = max(-clamp, min(u, clamp)) }
            return bf16(g / (1 + exp(-g)) * u * weight)
        }
    }

    /// y of every rank: x [rank] decoded, topk per rank, weights l1/l2 [rank][expert] decoded.
    static func run(x: [Matrix], topkIdx: [[[Int]]], topkWeights: [[[Double]]], l1: [[Matrix]], l2: [[Matrix]],
                    numLocalExperts: Int, clamp: Double?, bf16Activations: Bool = false) -> [Matrix] {
        x.indices.map { rank in
            x[rank].indices.map { token in
                var acc = [Double](repeating: 0, count: l2[0][0].count)
                for (slot, expert) in topkIdx[rank][token].enumerated() where expert >= 0 {
                    let (d, le) = (expert / numLocalExperts, expert % numLocalExperts)
                    let h1 = gemmBF16([x[rank][token]], l1[d][le])[0]
                    let weight = topkWeights[rank][token][slot]
                    let act = bf16Activations ? swigluBF16(h1, weight: weight, clamp: clamp) : swiglu(h1, weight: weight, clamp: clamp)
                    let h2 = gemmBF16([act], l2[d][le])[0]
                    for h in acc.indices { acc[h] += h2[h] }
                }
                return acc.map(bf16)
            }
        }
    }
}
