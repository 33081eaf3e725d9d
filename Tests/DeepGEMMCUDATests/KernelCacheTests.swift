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

    @Test("part boundaries are part of the digest")
    func digestSeparatesParts() {
        #expect(KernelDigest.of(["ab", "c"]) != KernelDigest.of(["a", "bc"]))
        #expect(KernelDigest.of([""]) != KernelDigest.of([]))
    }

    @Test("a stored entry reads back; a missing one is nil")
    func roundTrip() throws {
        let cache = KernelCache(root: Self.temporaryRoot())
        defer { try? FileManager.default.removeItem(atPath: cache.root) }
        #expect(cache.lookup(name: "k", key: "abc") == nil)
        let directory = try cache.store(name: "k", key: "abc", files: ["kernel.cubin": [1, 2, 3], "ptxas.log": Array("Used 10 registers".utf8)])
        #expect(directory == cache.directory(name: "k", key: "abc"))
        let entry = try #require(cache.lookup(name: "k", key: "abc"))
        #expect(entry.cubin == [1, 2, 3])
        #expect(entry.log == "Used 10 registers")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root + "/tmp").isEmpty)
    }

    @Test("concurrent writers of one key leave exactly one complete entry")
    func concurrentStores() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { writer in
            // Each writer has its own cache value, as separate processes would
            let cache = KernelCache(root: root)
            do {
                var files = ["kernel.cubin": payload, "ptxas.log": Array("writer \(writer)".utf8)]
                files["kernel.cu"] = Array("code".utf8)
                try cache.store(name: "k", key: "same", files: files)
                guard let entry = cache.lookup(name: "k", key: "same"), entry.cubin == payload else {
                    failures.withLock { $0 += 1 }
                    return
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/kernels") == ["k.same"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/kernels/k.same").sorted()
        #expect(files == ["kernel.cu", "kernel.cubin", "ptxas.log"])
    }

    @Test("an unwritable cache root is an I/O error naming the path")
    func unwritableRoot() {
        let cache = KernelCache(root: "/proc/deepgemm-no-such-cache")
        #expect(throws: DeepGEMMError.self) { try cache.store(name: "k", key: "x", files: ["kernel.cubin": [1]]) }
    }
}
