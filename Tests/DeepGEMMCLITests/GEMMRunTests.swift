import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMTestSupport

/// The dense GEMM ops through `deepgemm run`: files in, `d` out, the same bits as the Swift API.
@Suite struct GEMMRunTests {
    /// Writes `inputs`, runs `op` with `settings` and returns the written `d`.
    static func run(_ op: String, _ inputs: [(String, Tensor)], settings: [String] = []) throws -> Tensor {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        try SafeTensorsWriter.write(inputs.map { (name: $0.0, tensor: $0.1.contiguous()) }, to: input)
        let names = try OpRunner.run(op: op, input: input, output: output, settings: settings)
        #expect(names == ["d"])
        return try #require(try SafeTensorsFile.open(path: output).tensor("d")).clone()
    }

    @Test func fp8GEMMNTMatchesTheAPI() throws {
        let a = try perTokenCastToFP8(Tensor.randn([24, 320], dtype: .bfloat16, seed: 1), useUE8M0: false)
        let b = try perBlockCastToFP8(Tensor.randn([72, 320], dtype: .bfloat16, seed: 2), useUE8M0: false)
        let d = try Self.run("fp8_gemm_nt", [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf)], settings: ["recipe=1,128,128"])
        let expected = Tensor(zeros: [24, 72], dtype: .bfloat16)
        try fp8FP4GEMM(.nt, a: a, b: b, d: expected, recipe: [1, 128, 128])
        #expect(bitwiseMismatch(d, expected) == nil)
        #expect(expected.doubleValues().contains { $0 != 0 })
    }

    @Test func fp8FP4GEMMNNWithPackedScalesAndFP4() throws {
        // A: FP8 with packed UE8M0 scales, file holds them contiguous [m, sk/4]; B: FP4 given [k, n/2].
        let x = Tensor.randn([12, 256], dtype: .bfloat16, seed: 3), y = Tensor.randn([40, 256], dtype: .bfloat16, seed: 4)
        let a = try perTokenCastToFP8(x, useUE8M0: true, granK: 32, usePackedUE8M0: true)
        let b = try perTokenCastToFP4(y, useUE8M0: true, granK: 32, usePackedUE8M0: true)
        let bT = QuantizedTensor(data: try transposePackedFP4(b.data).viewing(as: .int8), sf: try b.sf.transposed().contiguous())
        let c = Tensor.randn([12, 40], dtype: .float32, seed: 5)
        let d = try Self.run("fp8_fp4_gemm_nn", [("a", a.data), ("a_sf", a.sf), ("b", bT.data), ("b_sf", bT.sf), ("c", c)],
                             settings: ["recipe_a=1,32", "recipe_b=1,32", "arch=sm100"])

        func mnMajor(_ sf: Tensor) throws -> Tensor { try stridedCopy(of: sf, strides: [1, (sf.size(0) + 3) / 4 * 4]) }
        let expected = c.clone()
        try fp8FP4GEMM(.nn, a: QuantizedTensor(data: a.data, sf: mnMajor(a.sf)),
                       b: QuantizedTensor(data: bT.data, sf: try mnMajor(b.sf).transposed()), d: expected, c: expected,
                       recipeA: [1, 32], recipeB: [1, 32], settings: DeepGEMMSettings(arch: .sm100), strictArch: true)
        #expect(bitwiseMismatch(d, expected) == nil)
        #expect(try calcDiff(d, c) > 1e-3)
    }

    @Test func bf16GEMMNNAccumulatesIntoC() throws {
        let a = Tensor.randn([10, 96], dtype: .bfloat16, seed: 6), b = Tensor.randn([96, 33], dtype: .bfloat16, seed: 7)
        let c = Tensor.randn([10, 33], dtype: .float32, seed: 8)
        let d = try Self.run("bf16_gemm_nn", [("a", a), ("b", b), ("c", c)], settings: ["compiled_dims=nk"])
        let expected = c.clone()
        try bf16GEMM(.nn, a: a, b: b, d: expected, c: expected)
        #expect(bitwiseMismatch(d, expected) == nil)
        let fresh = try Self.run("bf16_gemm_nn", [("a", a), ("b", b)], settings: ["d_dtype=f32"])
        #expect(fresh.dtype == .float32 && fresh.shape == [10, 33])
    }

    @Test func einsumThroughFiles() throws {
        let a = Tensor.randn([3, 2, 64], dtype: .bfloat16, seed: 9), b = Tensor.randn([2, 40, 64], dtype: .bfloat16, seed: 10)
        let d = try Self.run("einsum", [("a", a), ("b", b)], settings: ["expr=bhr,hdr->bhd"])
        let expected = Tensor(zeros: [3, 2, 40], dtype: .bfloat16)
        try einsum("bhr,hdr->bhd", a: a, b: b, d: expected)
        #expect(bitwiseMismatch(d, expected) == nil)
    }

    @Test func skipHeadMidAndFP8EinsumThroughFiles() throws {
        let a = try perTokenCastToFP8(Tensor.randn([4, 128], dtype: .bfloat16, seed: 11), useUE8M0: true)
        let b = try perBlockCastToFP8(Tensor.randn([256, 128], dtype: .bfloat16, seed: 12), useUE8M0: true)
        let d = try Self.run("fp8_gemm_nt_skip_head_mid", [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf)],
                             settings: ["head_splits=64,64,64"])
        let expected = Tensor(zeros: [4, 384], dtype: .bfloat16)
        try fp8GEMMNTSkipHeadMid(a: a, b: b, d: expected, headSplits: [64, 64, 64])
        #expect(bitwiseMismatch(d, expected) == nil)

        let x = QuantizedTensor(data: try a.data.reshaped([2, 2, 128]), sf: try a.sf.reshaped([2, 2, 1]))
        let y = QuantizedTensor(data: try b.data.reshaped([2, 128, 128]), sf: try b.sf.reshaped([2, 1, 1]))
        let z = try Self.run("fp8_einsum", [("a", x.data), ("a_sf", x.sf), ("b", y.data), ("b_sf", y.sf)], settings: ["expr=bhr,hdr->bhd"])
        let expectedZ = Tensor(zeros: [2, 2, 128], dtype: .bfloat16)
        try fp8Einsum("bhr,hdr->bhd", a: x, b: y, d: expectedZ)
        #expect(bitwiseMismatch(z, expectedZ) == nil)
    }

    @Test func failuresNameTheArgument() throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        let a = try perTokenCastToFP8(Tensor.randn([8, 128], dtype: .bfloat16, seed: 13), useUE8M0: false)
        let b = try perTokenCastToFP8(Tensor.randn([16, 128], dtype: .bfloat16, seed: 14), useUE8M0: false)
        try SafeTensorsWriter.write([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf),
                                     ("x", Tensor.randn([2, 2, 64], dtype: .bfloat16, seed: 15))], to: input)
        let failing: [(String, [String], String)] = [
            ("fp8_gemm_nt", ["recipe=1,128"], "recipe"),
            ("fp8_gemm_nt", ["recipe=1,1,128", "d_dtype=f32", "arch=sm90"], "c"),
            ("fp8_gemm_nt", ["recipe=1,1,128", "compiled_dims=3"], "compiled_dims"),
            ("fp8_gemm_nt_skip_head_mid", [], "head_splits"),
            ("einsum", [], "expr"),
            ("einsum", ["expr=bhr,hdr->bhd"], "a"),
        ]
        expectRunFailures(failing, input: input, output: output)
        // Without arch the union accepts F32 D without C for the per-token recipe.
        try OpRunner.run(op: "fp8_gemm_nt", input: input, output: output, settings: ["recipe=1,1,128", "d_dtype=f32"])
        #expect(FileManager.default.fileExists(atPath: output))
    }

    @Test func listNamesEveryDenseOp() {
        let listing = OpRunner.listing
        let names = GEMMLayout.allCases.flatMap { layout in ["fp8_fp4_gemm_", "fp8_gemm_", "bf16_gemm_", "cublaslt_gemm_"].map { $0 + layout.rawValue } }
            + ["fp8_gemm_nt_skip_head_mid", "einsum", "fp8_einsum"]
        for name in names { #expect(listing.contains(name + "("), "\(name) missing from --list") }
    }
}
