import Testing
import DeepGEMM

/// `get_paged_mqa_logits_metadata`: the SM100 and SM90 schedules, worked out by hand.
@Suite struct PagedMQAScheduleTests {
    static func metadata(_ lengths: [[Int32]], numSMs: Int, indices: [Int32]? = nil, arch: ArchPersonality = .sm100) throws -> [Int32] {
        let contextLens = try Tensor(lengths.flatMap { $0 }, shape: [lengths.count, lengths.first?.count ?? 1])
        let meta = try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: 64, numSMs: numSMs,
                                                 indices: try indices.map { try Tensor($0, shape: [$0.count]) },
                                                 settings: DeepGEMMSettings(arch: arch))
        #expect(meta.shape == [numSMs + 1, 2] && meta.dtype == .int32)
        return try meta.elements(as: Int32.self)
    }

    @Test func sm100SplitsThePrefixSumOfWorkEvenly() throws {
        // Work 2, 0, 3 (splits of 256 tokens); W = 5 over 4 SMs: starts at units 0, 2, 3, 4, then the sentinel.
        #expect(try Self.metadata([[300], [0], [600]], numSMs: 4) == [0, 0, 2, 0, 2, 1, 2, 2, 3, 0])
        // next_n = 2: work is splits of the last token's length times 2 tokens; splits count per token.
        #expect(try Self.metadata([[10, 300], [5, 5]], numSMs: 3) == [0, 0, 0, 1, 2, 0, 4, 0])
    }

    @Test func sm100VarlenRequestsAreRunsOfEqualIndices() throws {
        // Runs {0, 1} (length 300: 2 splits x 2 tokens), {2, 3, 4} (600: 3 x 3), {5} (0).
        let rows = try Self.metadata([[100], [300], [10], [20], [600], [0]], numSMs: 2, indices: [5, 5, 2, 2, 2, 9])
        #expect(rows == [0, 0, 2, 1, 6, 0])
    }

    @Test func sm90SplitsNextNIntoAtomsOfTwo() throws {
        // next_n = 3 gives 2 atoms; segments 2 and 1 per request, 6 in all over 4 SMs, the last 2 SMs one more.
        #expect(try Self.metadata([[0, 0, 300], [1, 1, 10]], numSMs: 4, arch: .sm90) == [0, 0, 0, 1, 1, 0, 2, 0, 4, 0])
    }

    @Test func sm90VarlenPairsEqualNeighbours() throws {
        // Items {0, 1} (300: 2), {2} (600: 3), {3, 4} (2: 1), {5} (256: 1): 7 segments over 3 SMs.
        let rows = try Self.metadata([[10], [300], [600], [1], [2], [256]], numSMs: 3, indices: [1, 1, 2, 3, 3, 3], arch: .sm90)
        #expect(rows == [0, 0, 2, 0, 2, 2, 6, 0])
    }

    @Test func sm100RowsCoverTheWorkInOrder() throws {
        var generator = SeededGenerator(seed: 3)
        let lengths = (0..<50).map { _ in [Int32(generator.next() % 3000), Int32(generator.next() % 3000)] }
            .map { [min($0[0], $0[1]), max($0[0], $0[1])] }
        for numSMs in [1, 7, 132, 500] {
            let rows = try Self.metadata(lengths, numSMs: numSMs)
            #expect(rows.suffix(2) == [100, 0])
            for s in 0..<numSMs {
                let (a, b) = ((rows[2 * s], rows[2 * s + 1]), (rows[2 * s + 2], rows[2 * s + 3]))
                #expect(a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1), "rows \(s) and \(s + 1) out of order")
            }
        }
    }
}
