import Testing
import DeepGEMMCore
import DeepGEMMTestSupport

// Hand-computed cases for the scale-factor layout utilities (spec §3) and one test per input rule.

private let sm90 = DeepGEMMSettings(arch: .sm90)
private let sm100 = DeepGEMMSettings(arch: .sm100)

/// The f32 power of two whose UE8M0 byte is `byte` (byte 0 gives +0).
private func scale(_ byte: UInt8) -> Float { Float(bitPattern: UInt32(byte) << 23) }

/// A contiguous f32 tensor of `shape` whose element at flat position `i` is `scale(byteAt(i))`.
private func scales(_ shape: [Int], _ byteAt: (Int) -> UInt8 = { UInt8(100 + $0 % 150) }) -> Tensor {
    let count = shape.reduce(1, *)
    return try! Tensor((0..<count).map { scale(byteAt($0)) }, shape: shape)
}

/// The byte of `scales(shape)` at flat position `i` (the default pattern).
private func byte(_ i: Int) -> UInt8 { UInt8(100 + i % 150) }

/// The int32 elements of `tensor` in row-major order.
private func ints(_ tensor: Tensor) throws -> [Int32] { try tensor.elements(as: Int32.self) }

/// The 4-byte words of `tensor`'s storage.
private func storageWords(_ tensor: Tensor) -> [UInt32] {
    let words = tensor.storage.byteCount / 4
    return (0..<words).map { tensor.storage.baseAddress.load(fromByteOffset: 4 * $0, as: UInt32.self) }
}

/// Packs up to four bytes little-endian, missing bytes 0.
private func pack(_ bytes: [UInt8]) -> Int32 {
    let b = bytes + [UInt8](repeating: 0, count: 4 - bytes.count)
    return UE8M0.pack(b[0], b[1], b[2], b[3])
}

/// Expects `body` to throw a ``DeepGEMMError`` of the given kind naming `argument`, whose rule
/// text contains `says` when given.
private func expectError(
    _ argument: String, unsupported: Bool = false, says: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Any
) {
    let error = #expect(throws: DeepGEMMError.self, sourceLocation: sourceLocation) { _ = try body() }
    switch error {
    case .invalidArgument(let name, let rule)? where !unsupported, .unsupported(let name, let rule)? where unsupported:
        #expect(name == argument, "\(error!)", sourceLocation: sourceLocation)
        if let says { #expect(rule.contains(says), "\(error!)", sourceLocation: sourceLocation) }
    case let other?:
        Issue.record("wrong error kind: \(other)", sourceLocation: sourceLocation)
    case nil:
        break
    }
}

@Suite struct LayoutTests {
    // MARK: - get_tma_aligned_size

    @Test(arguments: [(5, 4, 8), (8, 4, 8), (0, 4, 0), (5, 1, 16), (17, 2, 24), (3, 16, 3), (1, 8, 2)])
    func tmaAlignedSize(x: Int, elementSize: Int, expected: Int) throws {
        #expect(try getTMAAlignedSize(x, elementSize: elementSize) == expected)
    }

    @Test(arguments: [3, 0, -4, 32])
    func tmaAlignedSizeRejectsElementSize(elementSize: Int) {
        expectError("element_size") { try getTMAAlignedSize(4, elementSize: elementSize) }
    }

    @Test func tmaAlignedSizeRejectsNegativeX() {
        expectError("x") { try getTMAAlignedSize(-1, elementSize: 4) }
    }

    // MARK: - get_mn_major_tma_aligned_tensor

    @Test func mnMajorTensorTransposesAndPads() throws {
        let sf = scales([5, 3])
        let out = try getMNMajorTMAAlignedTensor(sf)
        #expect(out.shape == [5, 3])
        #expect(out.strides == [1, 8])
        #expect(out.dtype == .float32)
        #expect(out.storage !== sf.storage)
        #expect(try out.elements(as: Float.self) == sf.elements(as: Float.self))
        // Column c occupies words 8c ..< 8c+8; rows 5..<8 are zero padding.
        let words = storageWords(out)
        #expect(words.count == 24)
        for column in 0..<3 {
            for row in 0..<8 {
                #expect(words[8 * column + row] == (row < 5 ? scale(byte(3 * row + column)).bitPattern : 0))
            }
        }
    }

    @Test func mnMajorTensorKeepsBatches() throws {
        let sf = scales([2, 5, 3])
        let out = try getMNMajorTMAAlignedTensor(sf)
        #expect(out.shape == [2, 5, 3])
        #expect(out.strides == [24, 1, 8])
        #expect(try out.elements(as: Float.self) == sf.elements(as: Float.self))
    }

    @Test func mnMajorTensorReturnsAlignedInputItself() throws {
        let aligned = try getMNMajorTMAAlignedTensor(scales([2, 6, 3]))
        #expect(try getMNMajorTMAAlignedTensor(aligned).sharesDataPointer(with: aligned))
        // A 2-D slice of it keeps strides (1, 8): its batch stride is not checked.
        let slice = try aligned.select(dim: 0, index: 1)
        let same = try getMNMajorTMAAlignedTensor(slice)
        #expect(same.storage === slice.storage && same.offset == slice.offset && same.offset == 24)
        #expect(same.strides == [1, 8])
    }

    @Test func mnMajorTensorCopiesWhenOnlyTheBatchStrideIsWrong() throws {
        // Per-batch strides (1, 4) are right for MN = 4, but the batch stride 20 is not 4·3.
        let storage = TensorStorage(byteCount: 40 * 4)
        let sf = try Tensor(storage: storage, dtype: .float32, shape: [2, 4, 3], strides: [20, 1, 4])
        try sf.copy(from: scales([2, 4, 3]))
        let out = try getMNMajorTMAAlignedTensor(sf)
        #expect(out.storage !== storage)
        #expect(out.strides == [12, 1, 4])
        #expect(try out.elements(as: Float.self) == sf.elements(as: Float.self))
    }

    @Test func mnMajorTensorRejectsNonFloat32() {
        expectError("sf") { try getMNMajorTMAAlignedTensor(Tensor(zeros: [4, 2], dtype: .int32)) }
    }

    @Test(arguments: [[8], [2, 2, 4, 2]])
    func mnMajorTensorRejectsRank(shape: [Int]) {
        expectError("sf") { try getMNMajorTMAAlignedTensor(Tensor(zeros: shape, dtype: .float32)) }
    }

    // MARK: - get_mn_major_tma_aligned_packed_ue8m0_tensor

    @Test func packedTensorPacksFourKNeighbours() throws {
        let sf = scales([3, 5])
        let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf)
        #expect(out.dtype == .int32)
        #expect(out.shape == [3, 2])
        #expect(out.strides == [1, 4])
        var expected = [Int32]()
        for row in 0..<3 {
            expected.append(pack((0..<4).map { byte(5 * row + $0) }))
            expected.append(pack([byte(5 * row + 4)]))
        }
        #expect(try ints(out) == expected)
        // Padding row 3 of each packed column is zero.
        #expect(storageWords(out)[3] == 0 && storageWords(out)[7] == 0)
    }

    @Test func packedTensorKeepsBatchesAndEncodesZeroAsByteZero() throws {
        let sf = scales([2, 3, 4]) { $0 % 7 == 0 ? 0 : byte($0) }
        let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf)
        #expect(out.shape == [2, 3, 1])
        #expect(out.strides == [4, 1, 4])
        let expected = (0..<6).map { row in pack((0..<4).map { 4 * row + $0 }.map { $0 % 7 == 0 ? 0 : byte($0) }) }
        #expect(try ints(out) == expected)
    }

    @Test func packedTensorAcceptsMNMajorCompactInput() throws {
        let values = scales([8, 6])
        let mnMajor = try values.transposed().clone().transposed()  // strides (1, 8)
        #expect(!mnMajor.isContiguous)
        let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(mnMajor)
        #expect(try ints(out) == ints(getMNMajorTMAAlignedPackedUE8M0Tensor(values)))
        #expect(out.strides == [1, 8])
    }

    @Test func packedTensorAcceptsAnyStridesWhenMNIsUnaligned() throws {
        // MN = 5: DeepGEMM falls back to its PyTorch path, which takes any strides.
        let values = scales([5, 3])
        let padded = try stridedCopy(of: values, strides: [4, 1])
        #expect(try ints(getMNMajorTMAAlignedPackedUE8M0Tensor(padded)) == ints(getMNMajorTMAAlignedPackedUE8M0Tensor(values)))
    }

    @Test func packedTensorRejectsNonCompactStridesWhenMNIsAligned() throws {
        let padded = try stridedCopy(of: scales([4, 3]), strides: [4, 1])
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(padded) }
    }

    @Test(arguments: [Float(1.5), -2, .nan, .infinity, -0.0, Float(bitPattern: 1), 3])
    func packedTensorRejectsValuesWithoutUE8M0Encoding(value: Float) throws {
        var values = (0..<8).map { _ in Float(1) }
        values[5] = value
        let sf = try Tensor(values, shape: [2, 4])
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(sf) }
    }

    /// Past sixteen rows (the packer's row blocks) with a K tail: every element of a contiguous and
    /// of an MN-major input matches a per-element reference, and an unpackable value in a later block
    /// is the one the error names.
    @Test func packedTensorMatchesReferenceAcrossRowBlocks() throws {
        let (rows, columns) = (37, 10)
        let bytes = (0..<rows * columns).map { UInt8(min(($0 * 37 + 11) % 256, 254)) }
        let values = scales([rows, columns]) { bytes[$0] }
        let mnMajor = try values.transposed().clone().transposed()
        for input in [values, mnMajor] {
            let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(input)
            let words = storageWords(out), aligned = 40
            for row in 0..<rows {
                for word in 0..<3 {
                    let expected = pack((4 * word..<min(4 * word + 4, columns)).map { bytes[row * columns + $0] })
                    #expect(Int32(bitPattern: words[word * aligned + row]) == expected, "row \(row) word \(word)")
                }
            }
        }
        var broken = try values.elements(as: Float.self)
        broken[20 * columns + 6] = 3
        broken[30 * columns + 1] = -1
        expectError("sf", says: "[20, 6]") { try getMNMajorTMAAlignedPackedUE8M0Tensor(try Tensor(broken, shape: [rows, columns])) }
        // Two negative values in one word: their sign bits must not cancel in the check.
        var negatives = try values.elements(as: Float.self)
        negatives[17 * columns + 4] = -1
        negatives[17 * columns + 5] = -2
        expectError("sf", says: "[17, 4]") { try getMNMajorTMAAlignedPackedUE8M0Tensor(try Tensor(negatives, shape: [rows, columns])) }
    }

    @Test func packedTensorPSUMPacksOnlyGroupRows() throws {
        // Groups end at 3 and 7; with α = 4 group 1 starts at align(3, 4) = 4. Rows 3, 7, 8, 9 are
        // outside every group: they pack to 0 and their values (1.5, not packable) are never read.
        let gaps = [3, 7, 8, 9]
        let sf = try Tensor((0..<20).map { gaps.contains($0 / 2) ? Float(1.5) : scale(byte($0)) }, shape: [10, 2])
        let layout = try Tensor([Int32(3), 7], shape: [2])
        let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: layout, settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: 4))
        #expect(out.shape == [10, 1] && out.strides == [1, 12])
        let expected = (0..<10).map { row in gaps.contains(row) ? 0 : pack([byte(2 * row), byte(2 * row + 1)]) }
        #expect(try ints(out) == expected)
    }

    @Test func packedTensorPSUMUsesTheSettingsAlignment() throws {
        // With α = 8, group 1 starts at align(3, 8) = 8: only rows 0..<3 and 8..<10 are packed.
        let sf = scales([10, 1])
        let layout = try Tensor([Int32(3), 12], shape: [2])
        let out = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: layout, settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: 8))
        let expected = (0..<10).map { row in row < 3 || row >= 8 ? pack([byte(row)]) : 0 }
        #expect(try ints(out) == expected)
    }

    @Test func packedTensorPSUMRejectsSeveralBatches() throws {
        let layout = try Tensor([Int32(4)], shape: [1])
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([2, 4, 4]), psumLayout: layout) }
    }

    @Test func packedTensorPSUMRejectsNonContiguousSF() throws {
        let layout = try Tensor([Int32(4)], shape: [1])
        let mnMajor = try scales([4, 4]).transposed().clone().transposed()
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(mnMajor, psumLayout: layout) }
    }

    @Test func packedTensorPSUMRejectsNonInt32Layout() throws {
        expectError("psum_layout") { try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([4, 4]), psumLayout: Tensor([Int64(4)], shape: [1])) }
    }

    @Test func packedTensorPSUMRejectsNonContiguousLayout() throws {
        let layout = try Tensor([Int32(2), 0, 4, 0], shape: [2, 2]).select(dim: 1, index: 0)
        expectError("psum_layout") { try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([4, 4]), psumLayout: layout) }
    }

    @Test func packedTensorPSUMRejectsEmptyLayout() throws {
        expectError("psum_layout") { try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([4, 4]), psumLayout: Tensor(zeros: [0], dtype: .int32)) }
    }

    @Test func packedTensorPSUMRejectsNegativeGroupEnds() throws {
        expectError("psum_layout") { try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([4, 4]), psumLayout: Tensor([Int32(-1)], shape: [1])) }
    }

    @Test func packedTensorPSUMRejectsNonPositiveAlignment() throws {
        let layout = try Tensor([Int32(4)], shape: [1])
        expectError("mk_alignment_for_contiguous_layout") {
            try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([4, 4]), psumLayout: layout, settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: 0))
        }
    }

    @Test func packedTensorRejectsNonFloat32() {
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(Tensor(zeros: [4, 4], dtype: .int32)) }
    }

    @Test func packedTensorRejectsRank() {
        expectError("sf") { try getMNMajorTMAAlignedPackedUE8M0Tensor(Tensor(zeros: [4], dtype: .float32)) }
    }

    // MARK: - get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor

    @Test func kGroupedPacksEachGroupFromARowBoundary() throws {
        // k = 256 and 640 with gran_k 128: 2 and 5 SF rows, 1 and 2 packed rows.
        let sf = scales([7, 4])
        let layout = try Tensor([Int32(256), 640], shape: [2])
        let out = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: layout, ksCPU: [256, 640], granK: 128, kAlignment: 128)
        #expect(out.shape == [3, 4] && out.strides == [4, 1])
        let expected = kGroupedRow([0, 1], mn: 4) + kGroupedRow([2, 3, 4, 5], mn: 4) + kGroupedRow([6], mn: 4)
        #expect(try ints(out) == expected)
    }

    @Test func kGroupedPSUMDerivesGroupSizesFromEnds() throws {
        // K sizes 100 and 300 with k_alignment 128: ends 100 and align(100, 128) + 300 = 428.
        // gran_k 32 gives 4 and 10 SF rows, i.e. 1 and 3 packed rows.
        let sf = scales([14, 4])
        let layout = try Tensor([Int32(100), 428], shape: [2])
        let groups = kGroupedRow([0, 1, 2, 3], mn: 4) + kGroupedRow([4, 5, 6, 7], mn: 4)
            + kGroupedRow([8, 9, 10, 11], mn: 4) + kGroupedRow([12, 13], mn: 4)
        let exact = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            sf, groupedLayout: layout, ksCPU: [100, 300], granK: 32, kAlignment: 128, usePsumLayout: true)
        #expect(exact.shape == [4, 4])
        #expect(try ints(exact) == groups)
        // Without host sizes the row count is the bound (14 + 3·2) / 4 = 5; the surplus row is zero.
        let bound = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            sf, groupedLayout: layout, ksCPU: nil, granK: 32, kAlignment: 128, usePsumLayout: true)
        #expect(bound.shape == [5, 4])
        #expect(try ints(bound) == groups + [0, 0, 0, 0])
        #expect(try ints(getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            sf, groupedLayout: layout, ksCPU: [], granK: 32, kAlignment: 128, usePsumLayout: true)) == ints(bound))
    }

    @Test func kGroupedPSUMTruncatesToTheHostRowCount() throws {
        // The layout's groups need 1 + 3 packed rows, but ks_cpu = [100, 100] allows only
        // P = 1 + 1: group 1 keeps its first packed row.
        let sf = scales([14, 4])
        let layout = try Tensor([Int32(100), 428], shape: [2])
        let out = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            sf, groupedLayout: layout, ksCPU: [100, 100], granK: 32, kAlignment: 128, usePsumLayout: true)
        #expect(out.shape == [2, 4])
        #expect(try ints(out) == kGroupedRow([0, 1, 2, 3], mn: 4) + kGroupedRow([4, 5, 6, 7], mn: 4))
    }

    @Test func kGroupedReturnsEmptyForZeroRows() throws {
        let out = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            Tensor(zeros: [0, 8], dtype: .float32), groupedLayout: Tensor([Int32(0)], shape: [1]), ksCPU: [0], granK: 128, kAlignment: 128)
        #expect(out.shape == [0, 8] && out.dtype == .int32)
    }

    @Test func kGroupedBadInputBaselineIsValid() throws {
        #expect(try kGrouped().shape == [2, 4])
    }

    @Test(arguments: kGroupedBadInputs)
    fileprivate func kGroupedRejects(_ bad: BadInput) {
        expectError(bad.argument, unsupported: bad.unsupported, says: bad.says) { try bad.call() }
    }

    // MARK: - transform_sf_into_required_layout

    @Test func transformSM90PerTokenIsMNMajorAligned() throws {
        let sf = scales([5, 2])
        let out = try transformSFIntoRequiredLayout(sf, mn: 5, k: 200, recipe: .shared(granM: 1, granN: 128, granK: 128), isSFA: true, settings: sm90)
        #expect(out.strides == [1, 8] && out.dtype == .float32)
        #expect(try out.elements(as: Float.self) == sf.elements(as: Float.self))
    }

    @Test func transformDisabledCastOnSM100KeepsF32() throws {
        let sf = scales([2, 5, 2])
        let out = try transformSFIntoRequiredLayout(
            sf, mn: 5, k: 256, recipe: .operand(granMN: 1, granK: 128), numGroups: 2, disableUE8M0Cast: true, settings: sm100)
        #expect(out.dtype == .float32 && out.strides == [16, 1, 8])
    }

    @Test func transformSM90PerBlockReturnsInput() throws {
        let sf = scales([2, 3])
        let out = try transformSFIntoRequiredLayout(sf, mn: 256, k: 300, recipe: .shared(granM: 1, granN: 128, granK: 128), isSFA: false, settings: sm90)
        #expect(out.storage === sf.storage && out.offset == sf.offset)
        let transposed = try scales([3, 2]).transposed()
        #expect(try transformSFIntoRequiredLayout(transposed, mn: 256, k: 300, recipe: .operand(granMN: 128, granK: 128), settings: sm90)
            .sharesDataPointer(with: transposed))
        let grouped = scales([2, 2, 3])
        #expect(try transformSFIntoRequiredLayout(grouped, mn: 256, k: 300, recipe: .operand(granMN: 128, granK: 128), numGroups: 2, settings: sm90)
            .sharesDataPointer(with: grouped))
    }

    @Test func transformSM100PacksPerTokenScales() throws {
        let sf = scales([3, 5])
        let out = try transformSFIntoRequiredLayout(sf, mn: 3, k: 160, recipe: .operand(granMN: 1, granK: 32), settings: sm100)
        #expect(out.dtype == .int32 && out.shape == [3, 2] && out.strides == [1, 4])
        #expect(try ints(out) == ints(getMNMajorTMAAlignedPackedUE8M0Tensor(sf)))
    }

    @Test func transformSM100BroadcastsBlockRows() throws {
        // gran_mn 2, mn 5: SF rows 0, 0, 1, 1, 2.
        let sf = scales([3, 2])
        let out = try transformSFIntoRequiredLayout(sf, mn: 5, k: 256, recipe: .shared(granM: 1, granN: 2, granK: 128), isSFA: false, settings: sm100)
        #expect(out.shape == [5, 1] && out.strides == [1, 8])
        #expect(try ints(out) == [0, 0, 1, 1, 2].map { pack([byte(2 * $0), byte(2 * $0 + 1)]) })
    }

    @Test func transformSM100BroadcastWithPSUM() throws {
        // A broadcast is a fresh contiguous tensor, so PSUM accepts a transposed sf here.
        let sf = try scales([2, 3]).transposed()  // [3, 2], not contiguous
        let layout = try Tensor([Int32(2)], shape: [1])
        let out = try transformSFIntoRequiredLayout(
            sf, mn: 5, k: 64, recipe: .operand(granMN: 2, granK: 32), psumLayout: layout, settings: sm100)
        #expect(try ints(out) == [pack([byte(0), byte(3)]), pack([byte(0), byte(3)]), 0, 0, 0])
    }

    @Test func transformSM100ReturnsAlignedPackedInput() throws {
        let packed = try getMNMajorTMAAlignedPackedUE8M0Tensor(scales([2, 5, 8]))
        let out = try transformSFIntoRequiredLayout(packed, mn: 5, k: 1024, recipe: .operand(granMN: 1, granK: 128), numGroups: 2, settings: sm100)
        #expect(out.storage === packed.storage && out.offset == packed.offset)
        // With mn == 1 the MN stride is free; stride(-1) must still be align(1, 4) = 4.
        let single = try stridedCopy(of: Tensor([Int32(7), 8], shape: [1, 2]), strides: [7, 4])
        #expect(try transformSFIntoRequiredLayout(single, mn: 1, k: 256, recipe: .operand(granMN: 1, granK: 32), settings: sm100)
            .sharesDataPointer(with: single))
    }

    @Test func transformBadInputBaselineIsValid() throws {
        #expect(try transform(scales([4, 2])).shape == [4, 1])
    }

    @Test(arguments: transformBadInputs)
    fileprivate func transformRejects(_ bad: BadInput) {
        expectError(bad.argument, unsupported: bad.unsupported, says: bad.says) { try bad.call() }
    }

    // MARK: - get_theoretical_mk_alignment_for_contiguous_layout

    @Test(arguments: [(nil, 224), (1, 32), (32, 32), (33, 64), (100, 128), (129, 160), (192, 192), (200, 224), (5000, 224), (-3, 32)] as [(Int?, Int)])
    func theoreticalAlignmentOnSM100(expectedM: Int?, alignment: Int) {
        #expect(getTheoreticalMKAlignmentForContiguousLayout(expectedM: expectedM, settings: sm100) == alignment)
    }

    @Test(arguments: [nil, 1, 100, 5000] as [Int?])
    func theoreticalAlignmentOnSM90(expectedM: Int?) {
        #expect(getTheoreticalMKAlignmentForContiguousLayout(expectedM: expectedM, settings: sm90) == 128)
    }

    // MARK: - ScaleRecipe

    @Test func recipeGranularities() throws {
        let shared = ScaleRecipe.shared(granM: 1, granN: 128, granK: 32)
        #expect(try shared.granularities(isSFA: true) == (1, 32))
        #expect(try shared.granularities(isSFA: false) == (128, 32))
        #expect(try ScaleRecipe.operand(granMN: 4, granK: 128).granularities(isSFA: nil) == (4, 128))
    }
}

/// The packed row of SF rows `rows` (at most four) of a `[SK, mn]` `scales` tensor.
private func kGroupedRow(_ rows: [Int], mn: Int) -> [Int32] {
    (0..<mn).map { column in pack(rows.map { byte($0 * mn + column) }) }
}

/// A bad input and the argument its error must name.
private struct BadInput: Sendable, CustomTestStringConvertible {
    let rule: String
    /// A fragment the error's rule text must contain.
    let says: String
    let argument: String
    var unsupported = false
    let call: @Sendable () throws -> Tensor

    var testDescription: String { "\(argument): \(rule)" }
}

private let kLayout = try! Tensor([Int32(256), 256], shape: [2])

private func kGrouped(
    _ sf: Tensor = scales([4, 4]), layout: Tensor = kLayout, ks: [Int]? = [256, 256], granK: Int = 128, kAlignment: Int = 128,
    psum: Bool = false
) throws -> Tensor {
    try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: layout, ksCPU: ks, granK: granK, kAlignment: kAlignment, usePsumLayout: psum)
}

private let kGroupedBadInputs: [BadInput] = [
    BadInput(rule: "gran_k in {32, 128}", says: "must be 32 or 128", argument: "gran_k") { try kGrouped(granK: 64) },
    BadInput(rule: "k_alignment % 32 == 0", says: "positive multiple of 32, got 48", argument: "k_alignment") { try kGrouped(kAlignment: 48) },
    BadInput(rule: "k_alignment > 0", says: "positive multiple of 32, got 0", argument: "k_alignment") { try kGrouped(kAlignment: 0) },
    BadInput(rule: "sf is 2-D", says: "must be 2-D [SK_total, MN]", argument: "sf") { try kGrouped(scales([1, 4, 4])) },
    BadInput(rule: "sf is f32", says: "must be float32", argument: "sf") { try kGrouped(Tensor(zeros: [4, 4], dtype: .int32)) },
    BadInput(rule: "sf is contiguous", says: "must be contiguous", argument: "sf") { try kGrouped(scales([4, 4]).transposed()) },
    BadInput(rule: "MN % 4 == 0", says: "must be a multiple of 4", argument: "sf") { try kGrouped(scales([4, 6])) },
    BadInput(rule: "at most 128 groups", says: "at most 128 groups", argument: "grouped_layout") {
        try kGrouped(layout: Tensor(zeros: [129], dtype: .int32), ks: nil, psum: true)
    },
    BadInput(rule: "grouped_layout is int32", says: "must be int32", argument: "grouped_layout") { try kGrouped(layout: Tensor([Int64(256), 256], shape: [2])) },
    BadInput(rule: "grouped_layout is contiguous", says: "must be contiguous", argument: "grouped_layout") {
        try kGrouped(layout: Tensor([Int32(256), 0, 256, 0], shape: [2, 2]).select(dim: 1, index: 0))
    },
    BadInput(rule: "ks_cpu is required without PSUM", says: "unless use_psum_layout", argument: "ks_cpu") { try kGrouped(ks: nil) },
    BadInput(rule: "empty ks_cpu is required... without PSUM", says: "unless use_psum_layout", argument: "ks_cpu") { try kGrouped(ks: []) },
    BadInput(rule: "ks_cpu has one entry per group", says: "one entry per group", argument: "ks_cpu") { try kGrouped(ks: [512]) },
    BadInput(rule: "ks_cpu entries are non-negative", says: "non-negative", argument: "ks_cpu") { try kGrouped(ks: [-128, 640]) },
    BadInput(rule: "sum of ceil(k/gran_k) equals SK", says: "SF rows, sf has 4", argument: "ks_cpu") { try kGrouped(ks: [256, 384]) },
    BadInput(rule: "grouped_layout equals ks_cpu without PSUM", says: "same group K sizes as ks_cpu", argument: "grouped_layout") {
        try kGrouped(layout: Tensor([Int32(384), 128], shape: [2]), ks: [256, 256])
    },
    BadInput(rule: "PSUM ends leave room for aligned starts", says: "before its start", argument: "grouped_layout") {
        try kGrouped(layout: Tensor([Int32(100), 120], shape: [2]), ks: nil, psum: true)
    },
    BadInput(rule: "groups read only existing SF rows", says: "needs SF rows up to", argument: "grouped_layout") {
        try kGrouped(layout: Tensor([Int32(256), 896], shape: [2]), ks: [256, 640], psum: true)
    },
    BadInput(rule: "values are powers of two", says: "packing into UE8M0", argument: "sf") { try kGrouped(Tensor([Float](repeating: 3, count: 16), shape: [4, 4])) },
]

private func transform(
    _ sf: Tensor, mn: Int = 4, k: Int = 256, recipe: ScaleRecipe = .operand(granMN: 1, granK: 128), numGroups: Int? = nil,
    isSFA: Bool? = nil, disable: Bool = false, settings: DeepGEMMSettings = sm100
) throws -> Tensor {
    try transformSFIntoRequiredLayout(sf, mn: mn, k: k, recipe: recipe, numGroups: numGroups, isSFA: isSFA,
                                      disableUE8M0Cast: disable, settings: settings)
}

private let transformBadInputs: [BadInput] = [
    BadInput(rule: "3-element recipe needs is_sfa", says: "is required with a 3-element recipe", argument: "is_sfa") { try transform(scales([4, 2]), recipe: .shared(granM: 1, granN: 1, granK: 128)) },
    BadInput(rule: "2-element recipe forbids is_sfa", says: "must be None with a 2-element recipe", argument: "is_sfa") { try transform(scales([4, 2]), isSFA: true) },
    BadInput(rule: "granularities are positive", says: "must be positive", argument: "recipe") { try transform(scales([4, 2]), recipe: .operand(granMN: 0, granK: 128)) },
    BadInput(rule: "mn is non-negative", says: "non-negative", argument: "mn") { try transform(scales([0, 2]), mn: -1) },
    BadInput(rule: "k is non-negative", says: "non-negative", argument: "k") { try transform(scales([4, 0]), k: -1) },
    BadInput(rule: "sf is f32 or int32", says: "float32 or int32", argument: "sf") { try transform(Tensor(zeros: [4, 2], dtype: .bfloat16)) },
    BadInput(rule: "sf.dim == 2 without groups", says: "must be 2-D without num_groups", argument: "sf") { try transform(scales([1, 4, 2])) },
    BadInput(rule: "sf.dim == 3 with groups", says: "must be 3-D with num_groups", argument: "sf") { try transform(scales([4, 2]), numGroups: 1) },
    BadInput(rule: "size(-3) == num_groups", says: "size(-3) must equal num_groups", argument: "sf") { try transform(scales([2, 4, 2]), numGroups: 3) },
    BadInput(rule: "size(-2) == ceil(mn/gran_mn)", says: "size(-2) must be ceil(mn / gran_mn)", argument: "sf") { try transform(scales([5, 2])) },
    BadInput(rule: "f32 size(-1) == ceil(k/gran_k)", says: "size(-1) must be ceil(k / gran_k)", argument: "sf") { try transform(scales([4, 3])) },
    BadInput(rule: "int size(-1) == ceil(k/(4 gran_k))", says: "size(-1) must be ceil(k / (4·gran_k))", argument: "sf") { try transform(Tensor(zeros: [4, 2], dtype: .int32)) },
    BadInput(rule: "SM90 per-block SFB is contiguous or transposed-contiguous", says: "contiguous after transposing", argument: "sf") {
        try transform(stridedCopy(of: scales([2, 2]), strides: [3, 1]), mn: 256, recipe: .operand(granMN: 128, granK: 128), settings: sm90)
    },
    BadInput(rule: "SM90 per-block SFB groups are compact", says: "stride(-3) must be size(-2)·size(-1)", argument: "sf") {
        try transform(stridedCopy(of: scales([2, 2, 2]), strides: [5, 2, 1]), mn: 256, recipe: .operand(granMN: 128, granK: 128),
                      numGroups: 2, settings: sm90)
    },
    BadInput(rule: "SM100 packing needs the UE8M0 cast", says: "cast to packed UE8M0", argument: "disable_ue8m0_cast", unsupported: true) {
        try transform(scales([4, 8]), recipe: .operand(granMN: 1, granK: 32), disable: true)
    },
    BadInput(rule: "SM100 packing needs powers of two", says: "packing into UE8M0", argument: "sf") { try transform(Tensor([Float](repeating: 0.3, count: 8), shape: [4, 2])) },
    BadInput(rule: "packed int SF is MN-major", says: "must be MN-major", argument: "sf") {
        try transform(stridedCopy(of: Tensor(zeros: [4, 2], dtype: .int32), strides: [2, 8]), k: 1024)
    },
    BadInput(rule: "packed int SF stride(-1) is TMA-aligned", says: "stride(-1) must be the TMA-aligned MN", argument: "sf") {
        try transform(stridedCopy(of: Tensor(zeros: [5, 2], dtype: .int32), strides: [1, 5]), mn: 5, k: 1024)
    },
    BadInput(rule: "packed int SF groups are compact", says: "stride(-3) must be stride(-1)·size(-1)", argument: "sf") {
        try transform(stridedCopy(of: Tensor(zeros: [2, 4, 2], dtype: .int32), strides: [9, 1, 4]), k: 1024, numGroups: 2)
    },
    BadInput(rule: "int SF on SM90 is unknown", says: "Unknown SF transformation", argument: "recipe", unsupported: true) {
        try transform(Tensor(zeros: [4, 1], dtype: .int32), settings: sm90)
    },
    BadInput(rule: "f32 (1, 32) on SM90 is unknown", says: "Unknown SF transformation", argument: "recipe", unsupported: true) {
        try transform(scales([4, 8]), recipe: .operand(granMN: 1, granK: 32), settings: sm90)
    },
    BadInput(rule: "gran_k 64 on SM100 is unknown", says: "Unknown SF transformation", argument: "recipe", unsupported: true) {
        try transform(scales([4, 4]), recipe: .operand(granMN: 1, granK: 64))
    },
    BadInput(rule: "int SF with gran_mn 128 is unknown", says: "Unknown SF transformation", argument: "recipe", unsupported: true) {
        try transform(Tensor(zeros: [1, 1], dtype: .int32), mn: 128, recipe: .operand(granMN: 128, granK: 128))
    },
]
