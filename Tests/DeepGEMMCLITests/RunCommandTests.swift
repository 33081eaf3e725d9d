import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMCUDA
import DeepGEMMTestSupport

/// `deepgemm run` end to end: fixture cases through files, and the failure contract.
@Suite struct RunCommandTests {
    /// A fresh directory for one test's files.
    static func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "deepgemm-cli-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a fixture case through files and compares every expected output bit for bit.
    static func check(_ c: FixtureCase, directory: String) throws {
        let input = directory + "/\(c.op)-\(c.index)-in.safetensors", output = directory + "/\(c.op)-\(c.index)-out.safetensors"
        let inputs = c.tensors.filter { !$0.key.hasPrefix("out") }.map { (name: $0.key, tensor: $0.value) }
        try SafeTensorsWriter.write(inputs, to: input)
        let settings = c.arguments.filter { !$0.key.hasSuffix("_strides") }.map { "\($0.key)=\($0.value)" }
        try OpRunner.run(op: c.op, input: input, output: output, settings: settings)
        let written = try SafeTensorsFile.open(path: output)
        for (name, expected) in c.tensors where name.hasPrefix("out") {
            let actual = try #require(try written.tensor(name), "\(c.name): output \(name) missing")
            // Files carry int8 for packed FP4 and the expected tensors were read from a file too.
            if let mismatch = bitwiseMismatch(actual, expected) { Issue.record("\(c.name) \(name): \(mismatch)") }
        }
    }

    @Test(arguments: ["quantization.safetensors", "layouts.safetensors"])
    func fixtureCasesRunThroughFiles(file: String) throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Strided inputs cannot be expressed in a file (files hold logical tensors); the API tests cover them.
        let cases = try loadFixtureCases(file).filter { $0.arguments["sf_strides"] == nil }
        #expect(cases.count > 50)
        for c in cases { try Self.check(c, directory: directory) }
    }

    @Test func listNamesEveryOp() {
        let listing = OpRunner.listing
        for op in ["per_token_cast_to_fp8", "per_token_cast_to_fp4", "transform_sf_into_required_layout", "get_tma_aligned_size", "calc_diff"] {
            #expect(listing.contains(op + "("), "\(op) missing from --list")
        }
    }

    @Test func failuresWriteNothing() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        try SafeTensorsWriter.write([("x", Tensor.randn([2, 300], dtype: .bfloat16, seed: 1))], to: input)
        let failing: [(String, [String], String)] = [
            ("per_token_cast_to_fp8", ["use_ue8m0=false", "gran_k=0"], "gran_k"),
            ("per_token_cast_to_fp8", [], "use_ue8m0"),
            ("per_token_cast_to_fp8", ["use_ue8m0=maybe"], "use_ue8m0"),
            ("per_token_cast_to_fp8", ["use_ue8m0=false", "gran_kk=3"], "gran_kk"),
            ("per_token_cast_to_fp8", ["use_ue8m0=false", "arch=sm80"], "arch"),
            ("per_token_cast_to_fp8", ["use_ue8m0=false", "use_ue8m0=true"], "use_ue8m0"),
            ("per_token_cast_to_fp8", ["nonsense"], "--set"),
            ("per_channel_cast_to_fp8", ["use_ue8m0=false"], "x"),
            ("transpose_packed_fp4", [], "a"),
            ("no_such_op", [], "OP"),
        ]
        expectRunFailures(failing, input: input, output: output)
        #expect(throws: SafeTensorsError.self) {
            try OpRunner.run(op: "ceil_to_ue8m0", input: directory + "/missing.safetensors", output: output, settings: [])
        }
        #expect(throws: DeepGEMMError.backendUnavailable(backend: "cuda", reason: "no driver (injected)")) {
            try OpRunner.run(op: "ceil_to_ue8m0", input: input, output: output, settings: [], backend: .cuda,
                             availability: .unavailable(reason: "no driver (injected)"))
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        // With no --backend the op runs where its kernels are verified (the CPU today), whether or not a
        // usable CUDA device is reported.
        for availability in [CUDAProbe.Availability.available(deviceCount: 1), .unavailable(reason: "no driver (injected)")] {
            try? FileManager.default.removeItem(atPath: output)
            let names = try OpRunner.run(op: "per_token_cast_to_fp8", input: input, output: output, settings: ["use_ue8m0=true"],
                                         availability: availability)
            #expect(names == ["out0", "out1"] && FileManager.default.fileExists(atPath: output))
        }
    }

    @Test func executablePrintsOneLineAndExitsNonZero() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("deepgemm")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "deepgemm binary not built next to the tests")
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        try SafeTensorsWriter.write([("x", Tensor.randn([3, 5], dtype: .float32, seed: 2))], to: input)

        func launch(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = Pipe()
            try process.run()
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let bad = try launch(["run", "per_channel_cast_to_fp8", "--input", input, "--output", output, "--set", "use_ue8m0=false"])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("'x'"), "stderr: \(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let good = try launch(["run", "per_token_cast_to_fp8", "--input", input, "--output", output, "--set", "use_ue8m0=true", "--backend", "cpu"])
        #expect(good.status == 0 && good.stderr.isEmpty)
        let result = try SafeTensorsFile.open(path: output)
        #expect(try result.tensor("out0")?.dtype == .float8E4M3 && result.tensor("out1")?.shape == [3, 1])
    }
}
