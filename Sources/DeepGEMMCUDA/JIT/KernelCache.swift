import DeepGEMMCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk kernel cache: one directory per kernel, `<root>/kernels/<name>.<key>/`, holding
/// `kernel.cubin`, `kernel.cu` and `ptxas.log` (plus `kernel.ptx`/`kernel.sass` when dumped).
///
/// An entry is written complete into `<root>/tmp/` and then renamed into place in one step, so a
/// reader sees either no entry or a whole one, and concurrent processes compiling the same kernel
/// are safe: the first rename wins and the others discard their copy.
public struct KernelCache: Sendable {
    /// The cache root directory.
    public let root: String

    /// A cache rooted at `root` (created on first store).
    public init(root: String) {
        self.root = root
    }

    /// One cached kernel.
    public struct Entry: Sendable {
        /// The entry's directory.
        public var directory: String
        /// The compiled binary.
        public var cubin: [UInt8]
        /// The compiler log (ptxas resource report).
        public var log: String
    }

    /// The directory of the entry for (`name`, `key`).
    public func directory(name: String, key: String) -> String {
        "\(root)/kernels/\(name).\(key)"
    }

    /// The entry for (`name`, `key`), or nil when it was never stored.
    public func lookup(name: String, key: String) -> Entry? {
        let directory = directory(name: name, key: key)
        guard let cubin = FileManager.default.contents(atPath: directory + "/kernel.cubin") else { return nil }
        let log = FileManager.default.contents(atPath: directory + "/ptxas.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Entry(directory: directory, cubin: [UInt8](cubin), log: log)
    }

    /// Stores `files` (name -> contents) as the entry for (`name`, `key`) unless another writer got
    /// there first; returns the entry directory either way.
    @discardableResult
    public func store(name: String, key: String, files: [String: [UInt8]]) throws -> String {
        let final = directory(name: name, key: key)
        let temporary = "\(root)/tmp/\(name).\(key).\(getpid()).\(UUID().uuidString)"
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
            guard result > 0 else { throw DeepGEMMError.io(path: path, reason: String(cString: strerror(errno))) }
            written += result
        }
        fsync(descriptor)
    }

    private static func sync(path: String) {
        let descriptor = open(path, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
