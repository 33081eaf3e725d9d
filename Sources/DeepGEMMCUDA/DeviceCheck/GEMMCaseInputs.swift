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

    /// Inputs for `gemmCase` with random operands (`fast` fills by cheap random bits instead of normal samples, for benchmarks).
    public init(_ gemmCase: GEMMCase, seed: UInt64, fast: Bool = false) throws {
        func random(_ shape: [Int], _ offset: UInt64) -> Tensor {
            fast ? GEMMCaseInputs.randomBits(shape, seed: seed &+ offset) : Tensor.randn(shape, dtype: .bfloat16, seed: seed &+ offset)
        }
        var generator = SeededGenerator(seed: seed &+ 99)
        let (n, k, groups) = (gemmCase.n, gemmCase.k, gemmCase.groups)
        switch gemmCase.kind {
        case .normal:
            let (m, layout) = (gemmCase.m, gemmCase.layout)
            a = layout.hasPrefix("t") ? random([k, m], 1) : random([m, k], 1)
            b = layout == "nn" || layout == "tn" ? random([k, n], 2) : random([n, k], 2)
            d = gemmCase.accumulate ? Tensor.randn([m, n], dtype: gemmCase.outputType, seed: seed &+ 3, scale: 32) : Tensor(zeros: [m, n], dtype: gemmCase.outputType)
            self.layout = nil
            validRows = [m]
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            var groupOfRow: [Int32] = []
            var ends: [Int32] = []
            for group in 0..<groups {
                let actual = Int(Double(gemmCase.expectedM) * (0.7 + 0.6 * generator.nextUnit()))
                let aligned = ceilDiv(actual, GEMMCase.mkAlignment) * GEMMCase.mkAlignment
                ends.append(Int32(groupOfRow.count + actual))
                groupOfRow += Array(repeating: Int32(group), count: actual) + Array(repeating: -1, count: aligned - actual)
            }
            let m = groupOfRow.count
            a = random([m, k], 1)
            // Padding (psum: gap) rows of A are zero, so D's come out zero
            for (row, group) in groupOfRow.enumerated() where group < 0 { try a.select(dim: 0, index: row).zero() }
            b = gemmCase.layout == "nn" ? random([groups, k, n], 2) : random([groups, n, k], 2)
            d = Tensor(zeros: [m, n], dtype: .bfloat16)
            self.layout = gemmCase.psumLayout ? try Tensor(ends, shape: [groups]) : try Tensor(groupOfRow, shape: [m])
            validRows = [groupOfRow.filter { $0 >= 0 }.count]
        case .mGroupedMasked:
            let masked = (0..<groups).map { _ in min(gemmCase.m, Int(Double(gemmCase.expectedM) * (0.7 + 0.6 * generator.nextUnit()))) }
            a = random([groups, gemmCase.m, k], 1)
            b = random([groups, n, k], 2)
            d = Tensor(zeros: [groups, gemmCase.m, n], dtype: .bfloat16)
            self.layout = try Tensor(masked.map { Int32($0) }, shape: [groups])
            validRows = masked
        }
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

    /// BF16 values ±(1 + f)·2^e with e in -3...0, from a fast generator; enough for timing.
    static func randomBits(_ shape: [Int], seed: UInt64) -> Tensor {
        let tensor = Tensor.empty(shape, dtype: .bfloat16)
        var state = seed | 1
        let words = tensor.dataPointer.assumingMemoryBound(to: UInt16.self)
        for i in 0..<tensor.count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let bits = UInt16(truncatingIfNeeded: state >> 16)
            words[i] = (bits & 0x8000) | (UInt16(124 + (bits >> 7) % 4) << 7) | (bits & 0x7f)
        }
        return tensor
    }
}
