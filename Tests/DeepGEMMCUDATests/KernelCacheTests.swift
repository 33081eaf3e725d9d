import Dispatch
import Foundation
import Synchronization
import Testing
import DeepGEMMCore
@testable import DeepGEMMCUDA

@Suite("JIT kernel cache")
struct KernelCacheTests {
    static func temporaryRoot() -> String {
        NSTemporaryDirectory() + "deepgemm-cache-test-\(UUID().uuidString)"
    }

    /// The files a fake compile of kernel `tag` yields: a `size`-byte cubin derived from `tag`.
    static func fakeFiles(_ tag: String, size: Int = 4096) -> [String: [UInt8]] {
        let seed = UInt8(truncatingIfNeeded: tag.utf8.reduce(0) { $0 &+ Int($1) })
        return [KernelCache.cubinFile: (0..<size).map { UInt8(truncatingIfNeeded: $0) &+ seed },
                KernelCache.logFile: Array("ptxas info: \(tag)".utf8), "kernel.cu": Array("code \(tag)".utf8)]
    }

    /// The entry a lookup found; nil for a miss or a corrupt entry.
    static func hit(_ lookup: KernelCache.Lookup) -> KernelCache.Entry? {
        if case .hit(let entry) = lookup { return entry }
        return nil
    }

    /// Collects the warnings a cache emits.
    final class Warnings: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func sink() -> @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    }

    @Test("the key changes with every part and only with them")
    func keyParts() {
        let base = (name: "sm90_bf16_gemm", code: "code", headers: "h", options: ["--gpu-architecture=sm_90a", "-I/x"], version: "13.0")
        func key(name: String = base.name, code: String = base.code, headers: String = base.headers, options: [String] = base.options, version: String = base.version) -> String {
            KernelJIT.key(name: name, code: code, headersDigest: headers, options: options, compilerVersion: version)
        }
        let reference = key()
        #expect(reference == key())
        #expect(reference.count == 32 && reference.allSatisfy(\.isHexDigit))
        let variants = [
            key(name: "other"), key(code: "code "), key(headers: "h2"),
            key(options: ["--gpu-architecture=sm_100a", "-I/x"]), key(options: ["--gpu-architecture=sm_90a", "-I/y"]), key(version: "13.1"),
        ]
        for variant in variants { #expect(variant != reference) }
        #expect(Set(variants).count == variants.count)
    }

    @Test("part boundaries are part of the digest; one changed byte changes a file's digest")
    func digestSeparatesParts() {
        #expect(KernelDigest.of(["ab", "c"]) != KernelDigest.of(["a", "bc"]))
        #expect(KernelDigest.of([""]) != KernelDigest.of([]))
        let bytes = [UInt8](repeating: 3, count: 1000)
        var flipped = bytes
        flipped[999] ^= 1
        #expect(KernelDigest.of(bytes: bytes) != KernelDigest.of(bytes: flipped))
        #expect(KernelDigest.of(bytes: bytes) != KernelDigest.of(bytes: Array(bytes.dropLast())))
    }

    @Test("a stored entry reads back with its manifest; a missing one is a miss")
    func roundTrip() throws {
        let cache = KernelCache(root: Self.temporaryRoot())
        defer { try? FileManager.default.removeItem(atPath: cache.root) }
        guard case .miss = cache.lookup(name: "k", key: "abc") else { Issue.record("expected a miss"); return }
        let directory = try cache.store(name: "k", key: "abc", files: [KernelCache.cubinFile: [1, 2, 3], KernelCache.logFile: Array("Used 10 registers".utf8)])
        #expect(directory == cache.directory(name: "k", key: "abc"))
        let entry = try #require(Self.hit(cache.lookup(name: "k", key: "abc")))
        #expect(entry.cubin == [1, 2, 3])
        #expect(entry.log == "Used 10 registers")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == [KernelCache.cubinFile, "manifest", KernelCache.logFile])
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root + "/tmp").isEmpty)
    }

    @Test("concurrent writers of one key leave exactly one complete entry")
    func concurrentStores() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let payload = Self.fakeFiles("same", size: 1 << 20)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            // Each writer has its own cache value, as separate processes would
            let cache = KernelCache(root: root)
            do {
                let entry = try cache.entry(name: "k", key: "same") { payload }
                guard entry.cubin == payload[KernelCache.cubinFile], Self.hit(cache.lookup(name: "k", key: "same"))?.cubin == entry.cubin else {
                    failures.withLock { $0 += 1 }
                    return
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        try Self.expectSingleValidEntry(root: root, payload: payload)
    }

    @Test("processes compiling the same kernel at once leave exactly one valid entry")
    func concurrentProcesses() async throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    await #expect(processExitsWith: .success) { [root = root as String] in
                        let cache = KernelCache(root: root)
                        let payload = KernelCacheTests.fakeFiles("same", size: 1 << 20)
                        let entry = try cache.entry(name: "k", key: "same") { payload }
                        guard entry.cubin == payload[KernelCache.cubinFile],
                              KernelCacheTests.hit(cache.lookup(name: "k", key: "same"))?.cubin == entry.cubin else { exit(1) }
                        exit(0)
                    }
                }
            }
        }
        try Self.expectSingleValidEntry(root: root, payload: Self.fakeFiles("same", size: 1 << 20))
    }

    /// One entry `k.same` holding `payload` and its manifest, and nothing left in `tmp/`.
    static func expectSingleValidEntry(root: String, payload: [String: [UInt8]]) throws {
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/kernels") == ["k.same"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/kernels/k.same").sorted()
        #expect(files == (Array(payload.keys) + ["manifest"]).sorted())
        #expect(hit(KernelCache(root: root).lookup(name: "k", key: "same"))?.cubin == payload[KernelCache.cubinFile])
    }

    /// Ways to damage a stored entry, each of which must make it corrupt.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case truncatedCubin, flippedByte, emptyLog, missingManifest, damagedManifest, strayFile, missingCubin
        var testDescription: String { rawValue }

        func apply(to directory: String) throws {
            let cubin = directory + "/" + KernelCache.cubinFile
            switch self {
            case .truncatedCubin: #expect(truncate(cubin, 100) == 0)
            case .flippedByte:
                var bytes = try #require(FileManager.default.contents(atPath: cubin))
                bytes[17] ^= 0x40
                try bytes.write(to: URL(fileURLWithPath: cubin))
            case .emptyLog: #expect(truncate(directory + "/" + KernelCache.logFile, 0) == 0)
            case .missingManifest: try FileManager.default.removeItem(atPath: directory + "/manifest")
            case .damagedManifest: #expect(truncate(directory + "/manifest", 50) == 0)
            case .strayFile: try Data([1]).write(to: URL(fileURLWithPath: directory + "/stray"))
            case .missingCubin: try FileManager.default.removeItem(atPath: cubin)
            }
        }
    }

    @Test("a damaged entry is detected, reported once, never loaded, and rebuilt", arguments: Damage.allCases)
    func damagedEntryIsRebuilt(damage: Damage) throws {
        let warnings = Warnings()
        let cache = KernelCache(root: Self.temporaryRoot(), warn: warnings.sink())
        defer { try? FileManager.default.removeItem(atPath: cache.root) }
        let old = Self.fakeFiles("old"), new = Self.fakeFiles("new")
        try cache.store(name: "k", key: "x", files: old)
        try damage.apply(to: cache.directory(name: "k", key: "x"))
        guard case .corrupt = cache.lookup(name: "k", key: "x") else { Issue.record("a \(damage) entry must be corrupt"); return }
        var compiles = 0
        let entry = try cache.entry(name: "k", key: "x") {
            compiles += 1
            return new
        }
        #expect(compiles == 1)
        #expect(entry.cubin == new[KernelCache.cubinFile])
        #expect(warnings.all.count == 1 && warnings.all.allSatisfy { $0.contains("corrupted cache entry") })
        #expect(Self.hit(cache.lookup(name: "k", key: "x"))?.cubin == new[KernelCache.cubinFile])
        _ = try cache.entry(name: "k", key: "x") {
            compiles += 1
            return new
        }
        #expect(compiles == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root + "/tmp").isEmpty)
    }

    @Test("an unwritable cache compiles in memory with one warning")
    func unwritableCacheFallsBack() throws {
        let blocker = Self.temporaryRoot()
        try Data([0]).write(to: URL(fileURLWithPath: blocker))
        defer { try? FileManager.default.removeItem(atPath: blocker) }
        // A regular file in the path makes the cache unwritable even for root.
        let warnings = Warnings()
        let cache = KernelCache(root: blocker + "/cache", warn: warnings.sink())
        #expect(throws: DeepGEMMError.self) { try cache.store(name: "k", key: "x", files: Self.fakeFiles("a")) }
        var compiles = 0
        for tag in ["a", "b", "a"] {
            let entry = try cache.entry(name: "k", key: tag) {
                compiles += 1
                return Self.fakeFiles(tag)
            }
            #expect(entry.directory == nil && entry.cubin == Self.fakeFiles(tag)[KernelCache.cubinFile])
        }
        #expect(compiles == 3)
        #expect(warnings.all.count == 1 && warnings.all.allSatisfy { $0.contains("cannot write the kernel cache") })
    }

    @Test("a failing compile propagates and stores nothing")
    func failingCompile() throws {
        struct Failure: Error {}
        let cache = KernelCache(root: Self.temporaryRoot())
        defer { try? FileManager.default.removeItem(atPath: cache.root) }
        #expect(throws: Failure.self) { try cache.entry(name: "k", key: "x") { throw Failure() } }
        guard case .miss = cache.lookup(name: "k", key: "x") else { Issue.record("expected a miss"); return }
    }
}
