import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMTestSupport

/// `deepgemm run` for the grouped GEMMs and the HyperConnection GEMM: results written through files
/// equal the Swift API's on the same inputs, bit for bit.
@Suite struct GroupedRunTests {
    /// Writes `inputs`, runs `op` with `settings`, and returns the output file.
    static func run(_ op: String, _ inputs: [(String, Tensor)], _ settings: [String], in directory: String) throws -> SafeTensorsFile {
        let input = directory + "/\(op)-in.safetensors", output = directory + "/\(op)-out.safetensors"
        try SafeTensorsWriter.write(inputs.map { (name: $0.0, tensor: $0.1) }, to: input)
        try OpRunner.run(op: op, input: input, output: output, settings: settings)
        return try SafeTensorsFile.open(path: output)
    }

    /// Expects output `name` of `file` to equal `expected` bit for bit.
    static func expectOutput(_ file: SafeTensorsFile, _ name: String, equals expected: Tensor, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = try #require(try file.tensor(name), "output \(name) missing", sourceLocation: sourceLocation)
        #expect(bitwiseMismatch(actual, expected) == nil, sourceLocation: sourceLocation)
        #expect(expected.doubleValues().contains { $0 != 0 }, sourceLocation: sourceLocation)
    }

    @Test func contiguousAndMaskedOpsMatchTheAPI() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Contiguous FP8: groups of 30 and 64 rows at α = 64 (rows 30..<64 padding), B given nn.
        let x = Tensor.randn([128, 128], dtype: .bfloat16, seed: 1), y = Tensor.randn([2, 128, 32], dtype: .bfloat16, seed: 2)
        try x.narrow(dim: 0, start: 30, length: 34).zero()
        let a = try perTokenCastToFP8(x, useUE8M0: true)
        let b = try perBlockCastToFP8(y.select(dim: 0, index: 0), useUE8M0: true), b1 = try perBlockCastToFP8(y.select(dim: 0, index: 1), useUE8M0: true)
        let bData = Tensor(zeros: [2, 128, 32], dtype: .float8E4M3), bSF = Tensor(zeros: [2, 1, 1], dtype: .float32)
        for (group, q) in [b, b1].enumerated() {
            try bData.select(dim: 0, index: group).copy(from: q.data)
            try bSF.select(dim: 0, index: group).copy(from: q.sf)
        }
        let layout = try Tensor([Int32](repeating: 0, count: 30) + [Int32](repeating: -1, count: 34) + [Int32](repeating: 1, count: 64), shape: [128])
        let expected = Tensor(zeros: [128, 32], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nn, a: a, b: QuantizedTensor(data: bData, sf: bSF), d: expected, groupedLayout: layout,
                                         settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: 64))
        let contiguous = try Self.run("m_grouped_fp8_gemm_nn_contiguous", [("a", a.data), ("a_sf", a.sf), ("b", bData), ("b_sf", bSF), ("grouped_layout", layout)],
                                      ["mk_alignment=64", "compiled_dims=nk"], in: directory)
        try Self.expectOutput(contiguous, "d", equals: expected)

        // Masked BF16: rows past masked_m keep the d given in the file.
        let ma = Tensor.randn([2, 16, 64], dtype: .bfloat16, seed: 3), mb = Tensor.randn([2, 24, 64], dtype: .bfloat16, seed: 4)
        let md = Tensor.randn([2, 16, 24], dtype: .bfloat16, seed: 5), maskedM = try Tensor([Int32(16), 5], shape: [2])
        let maskedExpected = md.clone()
        try mGroupedBF16GEMMNTMasked(a: ma, b: mb, d: maskedExpected, maskedM: maskedM, expectedM: 8)
        let masked = try Self.run("bf16_m_grouped_gemm_nt_masked", [("a", ma), ("b", mb), ("d", md), ("masked_m", maskedM)], ["expected_m=8"], in: directory)
        try Self.expectOutput(masked, "d", equals: maskedExpected)
    }

    @Test func kGroupedAndHyperConnectionOpsMatchTheAPI() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // k-grouped BF16 in PSUM form with ks_cpu=[]: groups of 40 and 0 rows at α = 32, c is d.
        let a = Tensor.randn([64, 8], dtype: .bfloat16, seed: 6), b = Tensor.randn([64, 16], dtype: .bfloat16, seed: 7)
        let c = Tensor.randn([2, 8, 16], dtype: .float32, seed: 8), layout = try Tensor([Int32(40), 64], shape: [2])
        let expected = c.clone()
        try kGroupedBF16GEMMTNContiguous(a: a, b: b, d: expected, ksCPU: [], groupedLayout: layout, c: expected, usePsumLayout: true,
                                         settings: DeepGEMMSettings(mkAlignmentForContiguousLayout: 32))
        let kGrouped = try Self.run("k_grouped_bf16_gemm_tn_contiguous", [("a", a), ("b", b), ("c", c), ("grouped_layout", layout)],
                                    ["ks_cpu=[]", "use_psum_layout=true", "mk_alignment=32"], in: directory)
        try Self.expectOutput(kGrouped, "d", equals: expected)

        // k-grouped FP8 (SM100 layout) with ks_cpu as a list and F32 power-of-two scales.
        let fa = try perChannelCastToFP8(Tensor.randn([256, 8], dtype: .bfloat16, seed: 9), useUE8M0: true)
        let fb = try perChannelCastToFP8(Tensor.randn([256, 16], dtype: .bfloat16, seed: 10), useUE8M0: true)
        let fd = Tensor.randn([2, 8, 16], dtype: .float32, seed: 11), fLayout = try Tensor([Int32(128), 128], shape: [2])
        let fExpected = fd.clone()
        try kGroupedFP8GEMMContiguous(.tn, a: fa, b: fb, d: fExpected, ksCPU: [128, 128], groupedLayout: fLayout, c: fExpected)
        let fp8 = try Self.run("k_grouped_fp8_gemm_tn_contiguous", [("a", fa.data), ("a_sf", fa.sf), ("b", fb.data), ("b_sf", fb.sf), ("d", fd),
                                                                    ("grouped_layout", fLayout)], ["ks_cpu=128,128", "recipe=1,1,128"], in: directory)
        try Self.expectOutput(fp8, "d", equals: fExpected)

        // HyperConnection prenorm with splits: d and sqr_sum are allocated and written.
        let ha = Tensor.randn([5, 256], dtype: .bfloat16, seed: 12), hb = Tensor.randn([16, 256], dtype: .float32, seed: 13)
        let hd = Tensor(zeros: [3, 5, 16], dtype: .float32), hs = Tensor(zeros: [3, 5], dtype: .float32)
        try tf32HCPrenormGEMM(a: ha, b: hb, d: hd, sqrSum: hs, numSplits: 3)
        let hc = try Self.run("tf32_hc_prenorm_gemm", [("a", ha), ("b", hb)], ["num_splits=3"], in: directory)
        try Self.expectOutput(hc, "d", equals: hd)
        try Self.expectOutput(hc, "sqr_sum", equals: hs)
    }

    @Test func listNamesEveryGroupedOp() {
        let listing = OpRunner.listing
        for op in ["m_grouped_fp8_fp4_gemm_nt_contiguous", "m_grouped_fp8_gemm_nn_contiguous", "m_grouped_fp8_fp4_gemm_nt_masked", "fp8_m_grouped_gemm_nt_masked",
                   "m_grouped_bf16_gemm_nn_contiguous", "bf16_m_grouped_gemm_nt_masked", "k_grouped_fp8_gemm_tn_contiguous", "k_grouped_fp8_gemm_nt_contiguous",
                   "k_grouped_bf16_gemm_tn_contiguous", "tf32_hc_prenorm_gemm"] {
            #expect(listing.contains(op + "("), "\(op) missing from --list")
        }
    }

    @Test func failuresNameTheArgumentAndWriteNothing() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        try SafeTensorsWriter.write([("a", Tensor.randn([256, 8], dtype: .bfloat16, seed: 1)), ("b", Tensor.randn([256, 16], dtype: .bfloat16, seed: 2)),
                                     ("grouped_layout", try Tensor([Int32(128), 128], shape: [2]))], to: input)
        let failing: [(String, [String], String)] = [
            ("k_grouped_bf16_gemm_tn_contiguous", [], "ks_cpu"),
            ("k_grouped_bf16_gemm_tn_contiguous", ["ks_cpu=128,64"], "ks_cpu"),
            ("k_grouped_bf16_gemm_tn_contiguous", ["ks_cpu=128,128", "use_psum_layout=true", "arch=sm90"], "use_psum_layout"),
            ("k_grouped_bf16_gemm_tn_contiguous", ["ks_cpu=128,128", "compiled_dims=3"], "compiled_dims"),
            ("m_grouped_bf16_gemm_nt_contiguous", [], "b"),
            ("tf32_hc_prenorm_gemm", [], "b"),
            // The outputs `deepgemm run` allocates are sized from num_splits: a negative or huge count
            // is refused before any allocation (a fuzz finding: it trapped in Tensor(zeros:)).
            ("tf32_hc_prenorm_gemm", ["num_splits=-515"], "d"),
            ("tf32_hc_prenorm_gemm", ["num_splits=9223372036854775807"], "d"),
        ]
        expectRunFailures(failing, input: input, output: output)
    }
}
