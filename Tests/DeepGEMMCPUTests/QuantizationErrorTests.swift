import Testing
import DeepGEMMCore
import DeepGEMMCPU

/// Every bad-input rule of the helpers (spec §2) throws a typed error naming the argument.
@Suite struct QuantizationErrorTests {
    static let matrix = Tensor.randn([4, 256], dtype: .bfloat16, seed: 1)

    /// Expects `body` to throw `.invalidArgument` for `argument`.
    func expectInvalid(_ argument: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected an error naming '\(argument)'", sourceLocation: sourceLocation)
        } catch let error as DeepGEMMError {
            guard case .invalidArgument(let name, let rule) = error else {
                Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(name == argument, "\(rule)", sourceLocation: sourceLocation)
            #expect(!rule.isEmpty, sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func perTokenFP8Rules() throws {
        expectInvalid("x") { _ = try perTokenCastToFP8(Tensor(zeros: [4], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("x") { _ = try perTokenCastToFP8(Tensor(zeros: [2, 2, 2], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("x") { _ = try perTokenCastToFP8(Tensor(zeros: [4, 128], dtype: .int32), useUE8M0: false) }
        expectInvalid("x") { _ = try perTokenCastToFP8(Tensor(zeros: [4, 128], dtype: .float64), useUE8M0: false) }
        expectInvalid("gran_k") { _ = try perTokenCastToFP8(Self.matrix, useUE8M0: false, granK: 0) }
        expectInvalid("use_packed_ue8m0") { _ = try perTokenCastToFP8(Self.matrix, useUE8M0: false, usePackedUE8M0: true) }
        expectInvalid("use_packed_ue8m0") { _ = try perTokenCastToFP8(Self.matrix, useUE8M0: true, granK: 128, usePackedUE8M0: true) }
        #expect(try perTokenCastToFP8(Self.matrix, useUE8M0: true, granK: 64, usePackedUE8M0: true).sf.shape == [4, 1])
    }

    @Test func perChannelBlockAndCustomDimsRules() {
        expectInvalid("x") { _ = try perChannelCastToFP8(Tensor(zeros: [100, 8], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("x") { _ = try perChannelCastToFP8(Tensor(zeros: [128], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("gran_k") { _ = try perChannelCastToFP8(Self.matrix, useUE8M0: false, granK: -1) }
        expectInvalid("x") { _ = try perBlockCastToFP8(Tensor(zeros: [2, 2, 2], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("x") { _ = try perBlockCastToFP8(Tensor(zeros: [2, 2], dtype: .uint8), useUE8M0: false) }
        expectInvalid("dims") { _ = try perCustomDimsCastToFP8(Self.matrix, dims: [2], useUE8M0: false) }
        expectInvalid("dims") { _ = try perCustomDimsCastToFP8(Self.matrix, dims: [-1], useUE8M0: false) }
        expectInvalid("x") { _ = try perCustomDimsCastToFP8(Tensor(zeros: [], dtype: .float32), dims: [], useUE8M0: false) }
    }

    @Test func fp4Rules() throws {
        expectInvalid("x") { _ = try perTokenCastToFP4(Tensor(zeros: [2, 7], dtype: .bfloat16), useUE8M0: false) }
        expectInvalid("use_packed_ue8m0") { _ = try perTokenCastToFP4(Self.matrix, useUE8M0: false, usePackedUE8M0: true) }
        expectInvalid("a") { _ = try transposePackedFP4(Tensor(zeros: [3, 4], dtype: .int8)) }
        expectInvalid("a") { _ = try transposePackedFP4(Tensor(zeros: [4, 4], dtype: .uint8)) }
        expectInvalid("a") { _ = try transposePackedFP4(Tensor(zeros: [4], dtype: .int8)) }
        let packed = Tensor(zeros: [2, 64], dtype: .int8)
        expectInvalid("sf") { _ = try castBackFromFP4(packed, sf: Tensor(zeros: [2, 0], dtype: .float32)) }
        expectInvalid("sf") { _ = try castBackFromFP4(packed, sf: Tensor(zeros: [3, 1], dtype: .float32)) }
        expectInvalid("sf") { _ = try castBackFromFP4(packed, sf: Tensor(zeros: [2, 1], dtype: .int32)) }
        expectInvalid("packed_sf") { _ = try castBackFromFP4(packed, sf: Tensor(zeros: [2, 1], dtype: .float32), usePackedUE8M0: true) }
        expectInvalid("packed") { _ = try castBackFromFP4(Tensor(zeros: [2, 64], dtype: .float32), sf: Tensor(zeros: [2, 1], dtype: .float32)) }
        expectInvalid("gran_k") { _ = try castBackFromFP4(packed, sf: Tensor(zeros: [2, 1], dtype: .float32), granK: 0) }
    }

    @Test func ue8m0Rules() throws {
        expectInvalid("x") { _ = try ceilToUE8M0(Tensor(zeros: [3], dtype: .int32)) }
        expectInvalid("x") { _ = try packUE8M0ToInt(Tensor(zeros: [4], dtype: .bfloat16)) }
        expectInvalid("x") { _ = try packUE8M0ToInt(Tensor(zeros: [2, 6], dtype: .float32)) }
        expectInvalid("x") { _ = try packUE8M0ToInt(Tensor([1, 2, 3, 4] as [Float], shape: [4])) }
        expectInvalid("x") { _ = try packUE8M0ToInt(Tensor([1, 2, -4, 8] as [Float], shape: [4])) }
        expectInvalid("x") { _ = try packUE8M0ToInt(Tensor([1, 2, .nan, 8] as [Float], shape: [4])) }
        expectInvalid("packed_sf") { _ = try unpackUE8M0FromInt(Tensor(zeros: [4], dtype: .float32)) }
        expectInvalid("dtype") { _ = try convert(Tensor(zeros: [4], dtype: .float32), to: .float4E2M1x2) }
        let packed = try packUE8M0ToInt(Tensor([1, 0.5, 0, 0x1p127] as [Float], shape: [1, 4]))
        #expect(try packed.elements(as: UInt32.self) == [0xFE00_7E7F])
        #expect(try unpackUE8M0FromInt(packed).elements(as: Float.self) == [1, 0.5, 0, 0x1p127])
    }
}
