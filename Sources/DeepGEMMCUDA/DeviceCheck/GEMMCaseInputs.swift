import DeepGEMMCore

/// Host tensors of one ``GEMMCase`` in DeepGEMM's argument layout, generated from a seed the way
/// DeepGEMM's tests do (random normal BF16 operands; C = D = randn·32 when accumulating; grouped
/// rows per group `E·U(0.7, 1.3)`, contiguous groups padded to the alignment with layout -1 and
/// zero rows of A).
public struct GEMMCaseInputs: Sendable {
    /// A as the op takes it (`tn`/`tt`: [K, M]; masked: [G, Mmax, K]).
    public var a: Tensor
    /// B as the op takes it (`nn`/`tn`: [K, N]; contiguous nn: [G, K, N]; grouped nt: [G, N, K]).
    public var b: Tensor
    /// D's initial contents (C when accumulating, zeros otherwise).
    public var d: Tensor
    /// Contiguous: int32 [M] group per row (psum: int32 [G] cumulative group ends); masked: int32 [G] valid rows per group.
    public var layout: Tensor?
    /// Rows that carry results: per group for masked, one entry for the rest.
    public var validRows: [Int]

    /// Inputs for `gemmCase` from its own seed (``GEMMCase/seed``).
    public init(_ gemmCase: GEMMCase, fast: Bool = false) throws {
        try self.init(gemmCase, seed: gemmCase.seed, fast: fast)
    }

    /// Inputs for `gemmCase` with random operands (`fast` fills by a counter-based hash instead of normal
    /// samples, for benchmarks; ``hashedBits(_:seed:)`` says how, so a peer can make the same data).
    public init(_ gemmCase: GEMMCase, seed: UInt64, fast: Bool = false) throws {
        func random(_ shape: [Int], _ offset: UInt64) -> Tensor {
            fast ? GEMMCaseInputs.hashedBits(shape, seed: seed &+ offset) : Tensor.randn(shape, dtype: .bfloat16, seed: seed &+ offset)
        }
        let rows = gemmCase.groupRows(seed: seed)
        let shapes = gemmCase.operandShapes(rows: gemmCase.outputRows(seed: seed))
        a = random(shapes.a, 1)
        b = random(shapes.b, 2)
        switch gemmCase.kind {
        case .normal:
            d = gemmCase.accumulate ? Tensor.randn(shapes.d, dtype: gemmCase.outputType, seed: seed &+ 3, scale: 32) : Tensor(zeros: shapes.d, dtype: gemmCase.outputType)
            layout = nil
            validRows = rows
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            let (groupOfRow, ends) = GEMMCaseInputs.contiguousLayout(groupRows: rows, alignment: GEMMCase.mkAlignment)
            // Padding (psum: gap) rows of A are zero, so D's come out zero
            for (row, group) in groupOfRow.enumerated() where group < 0 { try a.select(dim: 0, index: row).zero() }
            d = Tensor(zeros: shapes.d, dtype: .bfloat16)
            layout = gemmCase.psumLayout ? try Tensor(ends, shape: [gemmCase.groups]) : try Tensor(groupOfRow, shape: [groupOfRow.count])
            validRows = [rows.reduce(0, +)]
        case .mGroupedMasked:
            d = Tensor(zeros: shapes.d, dtype: .bfloat16)
            layout = try Tensor(rows.map { Int32($0) }, shape: [gemmCase.groups])
            validRows = rows
        }
    }

    /// The m-grouped contiguous layouts of groups with `groupRows` rows, each padded to `alignment`:
    /// the group of every row (-1 for padding) and the cumulative group ends (the psum form).
    public static func contiguousLayout(groupRows: [Int], alignment: Int) -> (groupOfRow: [Int32], ends: [Int32]) {
        var groupOfRow: [Int32] = [], ends: [Int32] = []
        for (group, actual) in groupRows.enumerated() {
            ends.append(Int32(groupOfRow.count + actual))
            groupOfRow += Array(repeating: Int32(group), count: actual) + Array(repeating: -1, count: ceilDiv(actual, alignment) * alignment - actual)
        }
        return (groupOfRow, ends)
    }

    /// A and B as the backend takes them (nt orientation: A [.., M, K], B [.., N, K]).
    public func ntOperands(_ gemmCase: GEMMCase) throws -> (a: Tensor, b: Tensor) {
        switch gemmCase.layout {
        case "nn": return (a, try b.transposed(-2, -1))
        case "tn": return (try a.transposed(-2, -1), try b.transposed(-2, -1))
        case "tt": return (try a.transposed(-2, -1), b)
        default: return (a, b)
        }
    }

    /// BF16 values ±(1 + f)·2^e with e in -3...0 from a counter-based hash of (seed, element index),
    /// enough for timing and cheap to reproduce anywhere (scripts/device/torch_bench.py makes the
    /// same tensors on the GPU): h = lowbias32((index ^ mix(seed)) mod 2^32), bits = h >> 16.
    public static func hashedBits(_ shape: [Int], seed: UInt64) -> Tensor {
        let tensor = Tensor.empty(shape, dtype: .bfloat16)
        let mix = hashSeed(seed)
        let words = tensor.dataPointer.assumingMemoryBound(to: UInt16.self)
        for i in 0..<tensor.count {
            var x = UInt32(truncatingIfNeeded: i) ^ mix
            x ^= x >> 16
            x &*= 0x7feb_352d
            x ^= x >> 15
            x &*= 0x846c_a68b
            x ^= x >> 16
            let bits = UInt16(truncatingIfNeeded: x >> 16)
            words[i] = (bits & 0x8000) | (UInt16(124 + (bits >> 7) % 4) << 7) | (bits & 0x7f)
        }
        return tensor
    }

    /// The 32-bit seed mix of ``hashedBits(_:seed:)``: the low word of `seed · 0x9E3779B97F4A7C15`.
    public static func hashSeed(_ seed: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: seed &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The sum of the BF16 bit patterns modulo 2^32 (a checksum a peer can compare exactly).
    public static func checksum(_ tensor: Tensor) -> UInt32 {
        let words = tensor.dataPointer.assumingMemoryBound(to: UInt16.self)
        return (0..<tensor.count).reduce(0 as UInt32) { $0 &+ UInt32(words[$1]) }
    }
}
