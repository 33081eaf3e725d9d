import Foundation
import Testing
@testable import DeepGEMMCore

/// Files that change under a reader, and writes that hit the file-size limit. The risky steps
/// run in child processes (exit tests), so a SIGBUS or SIGXFSZ fails the test instead of the runner.
@Suite struct SafeTensorsFaultTests {
    /// A fresh directory for one test's files.
    static func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "safetensors-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Float32 [n] holding 0, 1, 2, ...
    static func ramp(_ count: Int) throws -> Tensor {
        try Tensor((0..<count).map(Float.init), shape: [count])
    }

    /// Writes `x` = ramp(count) to `path`.
    static func writeRamp(_ count: Int, to path: String) throws {
        try SafeTensorsWriter.write([("x", try ramp(count))], to: path)
    }

    @Test("a small file shrunk after opening still reads its old data (it was read into memory)")
    func shrunkSmallFileKeepsOldData() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .success) { [path = directory + "/small.safetensors" as String] in
            try SafeTensorsFaultTests.writeRamp(100_000, to: path)
            let file = try SafeTensorsFile.open(path: path)
            guard !file.isMapped, truncate(path, 16) == 0 else { exit(2) }
            guard let x = try file.tensor("x"), try x.elements(as: Float.self) == (0..<100_000).map(Float.init) else { exit(3) }
            exit(0)
        }
    }

    @Test("a mapped file shrunk after opening gives a typed error, not SIGBUS")
    func shrunkMappedFileIsTypedError() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .success) { [path = directory + "/large.safetensors" as String] in
            try SafeTensorsFaultTests.writeRamp(100_000, to: path)
            let file = try SafeTensorsFile.open(path: path, mappingThreshold: 0)
            guard file.isMapped, truncate(path, 4096) == 0 else { exit(2) }
            do {
                _ = try file.tensor("x")
            } catch {
                guard case .modified(let reported, let reason)? = error as? SafeTensorsError else { exit(4) }
                exit(reported == path && reason.contains("4096") ? 0 : 5)
            }
            exit(3)
        }
    }

    @Test("a mapped file replaced by a rename keeps reading the old data", arguments: [0, SafeTensorsFile.defaultMappingThreshold])
    func replacedFileKeepsOldData(threshold: Int) throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.safetensors"
        try Self.writeRamp(1000, to: path)
        let file = try SafeTensorsFile.open(path: path, mappingThreshold: threshold)
        #expect(file.isMapped == (threshold == 0))
        try SafeTensorsWriter.write([("y", try Tensor([Int8(1)], shape: [1]))], to: path)
        #expect(try file.tensor("x")?.elements(as: Float.self) == (0..<1000).map(Float.init))
        #expect(try SafeTensorsFile.open(path: path).names == ["y"])
    }

    @Test("a mapped file that grew after opening is reported as modified")
    func grownMappedFileIsModified() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.safetensors"
        try Self.writeRamp(1000, to: path)
        let file = try SafeTensorsFile.open(path: path, mappingThreshold: 0)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        let error = #expect(throws: SafeTensorsError.self) { try file.tensor("x") }
        #expect(error?.caseName == "modified")
    }

    @Test("a write past the file-size limit is a typed error and leaves no partial file")
    func fileSizeLimitIsTypedError() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect(processExitsWith: .success) { [directory = directory as String] in
            let path = directory + "/out.safetensors"
            try SafeTensorsFaultTests.writeRamp(10, to: path)
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            signal(SIGXFSZ, SIG_IGN)
            var limit = rlimit(rlim_cur: 64 << 10, rlim_max: 64 << 10)
            guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0 else { exit(2) }
            do {
                try SafeTensorsFaultTests.writeRamp(1 << 20, to: path)
                exit(3)
            } catch let error as SafeTensorsError {
                guard case .io(let reported, let reason) = error, reported == path,
                      reason.contains(String(cString: strerror(EFBIG))) else { exit(4) }
            }
            // The old file is untouched and no temporary file is left next to it.
            let after = try Data(contentsOf: URL(fileURLWithPath: path))
            let left = try FileManager.default.contentsOfDirectory(atPath: directory)
            exit(after == before && left == ["out.safetensors"] ? 0 : 5)
        }
    }
}
