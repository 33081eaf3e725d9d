import Testing
import DeepGEMMCore
import DeepGEMMTestSupport

// Every case of Tests/Fixtures/layouts.safetensors (see Tests/Fixtures/README.md): the result must
// be bit-equal to `out`, with its shape, and with the strides `out_strides` when given. An input
// that already has the output's strides and dtype must come back as the same view.

private let fixtureFile = "layouts.safetensors"

/// The ops the file covers, each of which must have cases.
private let layoutOps = [
    "get_tma_aligned_size",
    "get_mn_major_tma_aligned_tensor",
    "get_mn_major_tma_aligned_packed_ue8m0_tensor",
    "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor",
    "transform_sf_into_required_layout",
    "get_theoretical_mk_alignment_for_contiguous_layout",
]

/// The cases by name; empty when the file cannot be read (``LayoutFixtureTests/fileHasEveryOp()`` then fails).
private let layoutCases: [String: FixtureCase] = {
    let cases = (try? loadFixtureCases(fixtureFile)) ?? []
    return Dictionary(cases.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
}()

@Suite struct LayoutFixtureTests {
    @Test func fileHasEveryOp() throws {
        let cases = try loadFixtureCases(fixtureFile)
        for op in layoutOps {
            #expect(cases.contains { $0.op == op }, "no cases for \(op)")
        }
        #expect(cases.allSatisfy { layoutOps.contains($0.op) }, "unknown ops: \(Set(cases.map(\.op)).subtracting(layoutOps))")
    }

    @Test(arguments: layoutCases.keys.sorted())
    func fixtureCase(_ name: String) throws {
        let fixture = try #require(layoutCases[name])
        switch fixture.op {
        case "get_tma_aligned_size":
            try expectInteger(getTMAAlignedSize(fixture.int("x"), elementSize: fixture.int("element_size")), fixture)
        case "get_theoretical_mk_alignment_for_contiguous_layout":
            try expectInteger(getTheoreticalMKAlignmentForContiguousLayout(
                expectedM: fixture.optionalInt("expected_m"), settings: settings(fixture)), fixture)
        default:
            let sf = try input(fixture)
            try expectTensor(run(fixture, sf: sf), fixture, input: sf)
        }
    }
}

/// Runs a tensor-valued op of `fixture` on `sf`.
private func run(_ fixture: FixtureCase, sf: Tensor) throws -> Tensor {
    switch fixture.op {
    case "get_mn_major_tma_aligned_tensor":
        return try getMNMajorTMAAlignedTensor(sf)
    case "get_mn_major_tma_aligned_packed_ue8m0_tensor":
        return try getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: fixture.tensors["psum_layout"], settings: settings(fixture))
    case "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor":
        return try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            sf, groupedLayout: fixture.tensor("grouped_layout"), ksCPU: fixture.optionalIntList("ks_cpu"),
            granK: fixture.int("gran_k"), kAlignment: fixture.int("k_alignment"),
            usePsumLayout: fixture.optionalBool("use_psum_layout") ?? false)
    case "transform_sf_into_required_layout":
        return try transformSFIntoRequiredLayout(
            sf, mn: fixture.int("mn"), k: fixture.int("k"), recipe: recipe(fixture),
            numGroups: fixture.optionalInt("num_groups"), isSFA: fixture.optionalBool("is_sfa"),
            disableUE8M0Cast: fixture.optionalBool("disable_ue8m0_cast") ?? false,
            psumLayout: fixture.tensors["psum_layout"], settings: settings(fixture))
    default:
        throw FixtureError(message: "\(fixture.name): unknown op")
    }
}

/// The case's `sf`, laid out with `sf_strides` when given.
private func input(_ fixture: FixtureCase) throws -> Tensor {
    let sf = try fixture.tensor("sf")
    guard let strides = try fixture.optionalIntList("sf_strides") else { return sf }
    return try stridedCopy(of: sf, strides: strides)
}

/// `arch` and `mk_alignment`, DeepGEMM's defaults where absent.
private func settings(_ fixture: FixtureCase) throws -> DeepGEMMSettings {
    var settings = DeepGEMMSettings.default
    if let arch = fixture.optionalString("arch") {
        settings.arch = try #require(ArchPersonality(rawValue: arch), "\(fixture.name): unknown arch \(arch)")
    }
    if let alignment = try fixture.optionalInt("mk_alignment") { settings.mkAlignmentForContiguousLayout = alignment }
    return settings
}

/// `recipe` as a 3-element shared or 2-element per-operand recipe.
private func recipe(_ fixture: FixtureCase) throws -> ScaleRecipe {
    let values = try #require(try fixture.optionalIntList("recipe"), "\(fixture.name): missing recipe")
    switch values.count {
    case 3: return .shared(granM: values[0], granN: values[1], granK: values[2])
    case 2: return .operand(granMN: values[0], granK: values[1])
    default: throw FixtureError(message: "\(fixture.name): recipe \(values) has neither 2 nor 3 entries")
    }
}

private func expectInteger(_ value: Int, _ fixture: FixtureCase) throws {
    let out = try fixture.tensor("out")
    #expect(out.shape == [] && out.dtype == .int64, "\(fixture.name): out should be an I64 scalar")
    #expect(try Int64(value) == out.elements(as: Int64.self).first, "\(fixture.name)")
}

private func expectTensor(_ result: Tensor, _ fixture: FixtureCase, input: Tensor) throws {
    let out = try fixture.tensor("out")
    #expect(result.shape == out.shape, "\(fixture.name)")
    #expect(bitwiseMismatch(result, out) == nil, "\(fixture.name): \(bitwiseMismatch(result, out) ?? "")")
    let strides = try fixture.optionalIntList("out_strides")
    if let strides {
        #expect(result.strides == strides, "\(fixture.name)")
    }
    if input.dtype == result.dtype && input.strides == (strides ?? result.strides) {
        #expect(result.storage === input.storage && result.offset == input.offset, "\(fixture.name): should return the input view")
    }
}
