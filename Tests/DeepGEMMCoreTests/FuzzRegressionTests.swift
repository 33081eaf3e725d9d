import Testing
import DeepGEMMCore
import DeepGEMMTestSupport

/// Inputs the fuzz targets of Fuzz/ (scripts/sanitizers.sh fuzz) found to crash the library, each
/// reduced to the call that trapped; they must now give a result or a typed error.
@Suite struct FuzzRegressionTests {
    /// FuzzLayouts (CI, this round): `transform_sf_into_required_layout` with packed Int32 scale factors
    /// and a huge gran_k trapped on the overflow of `4 * gran_k`; it is now a shape error naming `sf`.
    @Test func packedScalesWithAHugeGranK() throws {
        let sf = Tensor(zeros: [4, 2], dtype: .int32)
        #expect {
            try transformSFIntoRequiredLayout(sf, mn: 4, k: 128, recipe: .operand(granMN: 1, granK: Int.max / 2))
        } throws: { namesArgument($0, "sf") || namesArgument($0, "recipe") || namesArgument($0, "recipe", unsupported: true) || namesArgument($0, "sf", unsupported: true) }
    }

    /// FuzzLayouts: `get_tma_aligned_size(x=Int.max, element_size=4)` trapped on the overflow of
    /// `x + 3` inside `ceilDiv`.
    @Test func tmaAlignedSizeOfHugeX() throws {
        for elementSize in [1, 2, 4, 8, 16] {
            let alignment = 16 / elementSize, largest = Int.max / alignment * alignment
            #expect(try getTMAAlignedSize(largest, elementSize: elementSize) == largest)
            #expect(try getTMAAlignedSize(largest - alignment + 1, elementSize: elementSize) == largest)
            if largest < Int.max {
                for x in [largest + 1, Int.max] {
                    let error = #expect(throws: DeepGEMMError.self) { try getTMAAlignedSize(x, elementSize: elementSize) }
                    #expect(error.map { namesArgument($0, "x") } == true, "x=\(x) element_size=\(elementSize)")
                }
            }
        }
    }

    /// `ceilDiv` is exact up to `Int.max` (it computed `a + b - 1` first).
    @Test func ceilDivDoesNotOverflow() {
        #expect(ceilDiv(Int.max, 4) == Int.max / 4 + 1)
        #expect(ceilDiv(Int.max, 1) == Int.max)
        #expect(ceilDiv(Int.max - 1, Int.max) == 1)
        #expect(ceilDiv(0, Int.max) == 0)
        #expect(ceilDiv(8, 4) == 2 && ceilDiv(9, 4) == 3)
    }
}
