import ArgumentParser
import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// `deepgemm run` when its output cannot be written in full.
@Suite struct OutputFaultTests {
    @Test("past the file-size limit, deepgemm run fails with one error line and leaves no output file")
    func fileSizeLimit() async throws {
        let directory = try RunCommandTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .success) { [directory = directory as String] in
            let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
            try SafeTensorsWriter.write([("x", Tensor.randn([256, 1024], dtype: .bfloat16, seed: 1))], to: input)
            // What the executable does first: without it SIGXFSZ would kill the process.
            DeepGEMMCommand.prepareProcess()
            var limit = rlimit(rlim_cur: 16 << 10, rlim_max: 16 << 10)
            guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0 else { exit(2) }
            var command = try DeepGEMMCommand.parseAsRoot(["run", "per_token_cast_to_fp8", "--input", input, "--output", output, "--backend", "cpu"])
            do {
                try command.run()
                exit(3)
            } catch let code as ExitCode where code == ExitCode(1) {}
            let left = try FileManager.default.contentsOfDirectory(atPath: directory)
            exit(left == ["in.safetensors"] ? 0 : 4)
        }
    }
}
