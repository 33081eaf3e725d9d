import Testing
import DeepGEMMCore
import DeepGEMMCPU
import DeepGEMMTestSupport

/// The quantization helpers against the NumPy reference (`quantization.safetensors`), bit for
/// bit, with every kernel variant this machine supports.
@Suite struct QuantizationFixtureTests {
    static let cases = try! loadFixtureCases("quantization.safetensors")

    /// A boolean the case must carry.
    static func flag(_ c: FixtureCase, _ name: String) throws -> Bool {
        guard let value = try c.optionalBool(name) else { throw FixtureError(message: "\(c.name): missing \(name)") }
        return value
    }

    /// Runs one case and returns the outputs by fixture name.
    static func run(_ c: FixtureCase, variant: CPUKernelVariant) throws -> [String: Tensor] {
        func pair(_ q: QuantizedTensor) -> [String: Tensor] { ["out0": q.data, "out1": q.sf] }
        switch c.op {
        case "per_token_cast_to_fp8":
            return pair(try perTokenCastToFP8(c.tensor("x"), useUE8M0: flag(c, "use_ue8m0"), granK: c.int("gran_k"),
                                              usePackedUE8M0: c.optionalBool("use_packed_ue8m0") ?? false, variant: variant))
        case "per_channel_cast_to_fp8":
            return pair(try perChannelCastToFP8(c.tensor("x"), useUE8M0: flag(c, "use_ue8m0"), granK: c.int("gran_k"), variant: variant))
        case "per_block_cast_to_fp8":
            return pair(try perBlockCastToFP8(c.tensor("x"), useUE8M0: flag(c, "use_ue8m0"), granK: c.int("gran_k"), variant: variant))
        case "per_custom_dims_cast_to_fp8":
            return pair(try perCustomDimsCastToFP8(c.tensor("x"), dims: (c.optionalIntList("dims") ?? []),
                                                   useUE8M0: flag(c, "use_ue8m0"), variant: variant))
        case "per_token_cast_to_fp4":
            var q = try perTokenCastToFP4(c.tensor("x"), useUE8M0: flag(c, "use_ue8m0"), granK: c.int("gran_k"),
                                          usePackedUE8M0: c.optionalBool("use_packed_ue8m0") ?? false, variant: variant)
            q.data = try q.data.viewing(as: .int8)
            return pair(q)
        case "transpose_packed_fp4":
            return ["out": try transposePackedFP4(c.tensor("a"))]
        case "cast_back_from_fp4":
            return ["out": try castBackFromFP4(c.tensor("packed"), sf: c.tensor("sf"), granK: c.int("gran_k"),
                                               usePackedUE8M0: c.optionalBool("use_packed_ue8m0") ?? false)]
        case "ceil_to_ue8m0": return ["out": try ceilToUE8M0(c.tensor("x"))]
        case "pack_ue8m0_to_int": return ["out": try packUE8M0ToInt(c.tensor("x"))]
        case "unpack_ue8m0_from_int": return ["out": try unpackUE8M0FromInt(c.tensor("packed_sf"))]
        default: throw FixtureError(message: "no runner for op \(c.op)")
        }
    }

    @Test func fixturesCoverEveryHelper() {
        let ops = Set(Self.cases.map(\.op))
        #expect(ops == ["per_token_cast_to_fp8", "per_channel_cast_to_fp8", "per_block_cast_to_fp8", "per_custom_dims_cast_to_fp8",
                        "per_token_cast_to_fp4", "transpose_packed_fp4", "cast_back_from_fp4", "ceil_to_ue8m0",
                        "pack_ue8m0_to_int", "unpack_ue8m0_from_int"])
        #expect(Self.cases.count >= 70)
    }

    @Test(arguments: CPUKernelVariant.supported)
    func everyCaseIsBitExact(variant: CPUKernelVariant) throws {
        for c in Self.cases {
            let outputs = try Self.run(c, variant: variant)
            for (name, actual) in outputs {
                let expected = try c.tensor(name)
                if let mismatch = bitwiseMismatch(actual, expected) { Issue.record("\(c.name) \(name) [\(variant)]: \(mismatch)") }
            }
        }
    }
}
