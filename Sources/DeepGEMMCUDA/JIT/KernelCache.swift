import DeepGEMMCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk kernel cache: one directory per kernel, `<root>/kernels/<name>.<key>/`, holding
/// `kernel.cubin`, `kernel.cu` and `ptxas.log` (plus `kernel.ptx`/`kernel.sass` when dumped) and a
/// ``KernelCacheManifest`` with the size and checksum of each.
///
/// An entry is written complete into `<root>/tmp/` and then renamed into place in one step, so a
/// reader sees either no entry or a whole one, and concurrent processes compiling the same kernel
/// are safe: the first rename wins and the others discard their copy. An entry that does not
/// match its manifest (truncated, altered, left by an older version) is never loaded: it is
/// moved aside and rebuilt. When the cache cannot be written at all, kernels are compiled in
/// memory and the cache warns once.
public final class KernelCache: Sendable {
    /// The compiled binary's file name in an entry.
    public static let cubinFile = "kernel.cubin"
    /// The compiler log's file name in an entry.
    public static let logFile = "ptxas.log"

    /// The cache root directory.
    public let root: String
    private let warn: @Sendable (String) -> Void
    private let warnedUnwritable = Atomic<Bool>(false)

    /// A cache rooted at `root` (created on first store). `warn` receives the one-line warnings
    /// (a corrupted entry, an unwritable cache); nil sends them to standard error.
    public init(root: String, warn: (@Sendable (String) -> Void)? = nil) {
        self.root = root
        self.warn = warn ?? { printToStandardError($0) }
    }

    /// One cached (or freshly compiled) kernel.
    public struct Entry: Sendable {
        /// The entry's directory; nil when the kernel was compiled in memory because the cache
        /// could not be written.
        public var directory: String?
        /// The compiled binary.
        public var cubin: [UInt8]
        /// The compiler log (ptxas resource report).
        public var log: String
    }

    /// What ``lookup(name:key:)`` found.
    public enum Lookup: Sendable {
        /// A complete entry that matches its manifest.
        case hit(Entry)
        /// No entry.
        case miss
        /// An entry that must not be loaded, and why.
        case corrupt(reason: String)
    }

    /// The directory of the entry for (`name`, `key`).
    public func directory(name: String, key: String) -> String {
        "\(root)/kernels/\(name).\(key)"
    }

    /// The entry for (`name`, `key`), checked against its manifest.
    public func lookup(name: String, key: String) -> Lookup {
        let directory = directory(name: name, key: key)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return .miss }
        guard let manifestData = FileManager.default.contents(atPath: directory + "/" + KernelCacheManifest.fileName),
              let manifest = KernelCacheManifest(text: String(decoding: manifestData, as: UTF8.self)) else {
            return .corrupt(reason: "no readable manifest")
        }
        var files: [String: [UInt8]] = [:]
        for file in names where file != KernelCacheManifest.fileName {
            guard let contents = FileManager.default.contents(atPath: directory + "/" + file) else {
                return .corrupt(reason: "'\(file)' cannot be read")
            }
            files[file] = [UInt8](contents)
        }
        if let mismatch = manifest.mismatch(files) { return .corrupt(reason: mismatch) }
        guard let cubin = files[Self.cubinFile], let log = files[Self.logFile] else {
            return .corrupt(reason: "no \(Self.cubinFile) or \(Self.logFile)")
        }
        return .hit(Entry(directory: directory, cubin: cubin, log: String(decoding: log, as: UTF8.self)))
    }

    /// The entry for (`name`, `key`): from the cache when a valid one is there, else from `compile`
    /// (which returns the entry's files by name, ``cubinFile`` and ``logFile`` among them), stored
    /// for next time. A corrupt entry is reported through the warning sink, moved aside and
    /// rebuilt. When the cache cannot be written, the compiled kernel is returned without a
    /// directory and the first such failure of this cache is reported. Errors of `compile` propagate.
    public func entry(name: String, key: String, compile: () throws -> [String: [UInt8]]) throws -> Entry {
        switch lookup(name: name, key: key) {
        case .hit(let entry):
            return entry
        case .corrupt(let reason):
            warn("DeepGEMM JIT: discarding the corrupted cache entry \(directory(name: name, key: key)) (\(reason)); recompiling")
            discard(name: name, key: key)
        case .miss:
            break
        }
        let files = try compile()
        guard let cubin = files[Self.cubinFile], let log = files[Self.logFile] else {
            preconditionFailure("a kernel compile yields \(Self.cubinFile) and \(Self.logFile)")
        }
        var directory: String?
        do {
            directory = try store(name: name, key: key, files: files)
        } catch {
            if !warnedUnwritable.exchange(true, ordering: .relaxed) {
                warn("DeepGEMM JIT: cannot write the kernel cache (\(error)); compiling kernels in memory without caching them")
            }
        }
        return Entry(directory: directory, cubin: cubin, log: String(decoding: log, as: UTF8.self))
    }

    /// Stores `files` (name -> contents) and their manifest as the entry for (`name`, `key`) unless
    /// another writer got there first; returns the entry directory either way.
    @discardableResult
    public func store(name: String, key: String, files: [String: [UInt8]]) throws -> String {
        let final = directory(name: name, key: key)
        let temporary = temporaryPath("\(name).\(key)")
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/kernels", withIntermediateDirectories: true)
        } catch {
            throw DeepGEMMError.io(path: root, reason: "cannot create the kernel cache: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        for (file, contents) in files {
            try KernelCache.writeDurably(contents, to: temporary + "/" + file)
        }
        try KernelCache.writeDurably(Array(KernelCacheManifest(files: files).text.utf8), to: temporary + "/" + KernelCacheManifest.fileName)
        KernelCache.sync(path: temporary)
        if rename(temporary, final) != 0 {
            let code = errno
            // Another process stored the same kernel first; its entry is equivalent
            guard code == EEXIST || code == ENOTEMPTY else {
                throw DeepGEMMError.io(path: final, reason: "cannot move the compiled kernel into the cache: \(String(cString: strerror(code)))")
            }
        }
        return final
    }

    /// Removes the entry for (`name`, `key`): renamed aside in one step (so no reader sees it half
    /// deleted), then deleted. Does nothing when there is no entry.
    public func discard(name: String, key: String) {
        let aside = temporaryPath("discarded.\(name).\(key)")
        guard (try? FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)) != nil,
              rename(directory(name: name, key: key), aside) == 0 else { return }
        try? FileManager.default.removeItem(atPath: aside)
    }

    /// A fresh path under `<root>/tmp/`, unique to this process and call.
    private func temporaryPath(_ stem: String) -> String {
        "\(root)/tmp/\(stem).\(getpid()).\(UUID().uuidString)"
    }

    /// Writes `contents` to `path` and flushes it to disk.
    private static func writeDurably(_ contents: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw DeepGEMMError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var written = 0
        while written < contents.count {
            let result = contents.withUnsafeBytes { bytes in
                bytes.baseAddress.map { write(descriptor, $0 + written, bytes.count - written) } ?? -1
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw DeepGEMMError.io(path: path, reason: String(cString: strerror(errno))) }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw DeepGEMMError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
    }

    private static func sync(path: String) {
        let descriptor = open(path, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
