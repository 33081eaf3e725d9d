#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file replacement that never leaves a partial file at the destination.
enum AtomicFile {
    /// Writes a file at `path` through `body`: the bytes go to a new temporary file in the same
    /// directory, which is flushed to disk and then renamed over `path`. If anything fails, the
    /// temporary file is removed and `path` is left as it was.
    static func write(to path: String, _ body: (FileSink) throws -> Void) throws {
        let (directory, name) = split(path)
        guard !name.isEmpty else { throw SafeTensorsError.io(path: path, reason: "the path names a directory, not a file") }
        let temporary = "\(directory)/.\(name).\(getpid()).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SafeTensorsError.system(path: path, "cannot create temporary file '\(temporary)'") }
        var isOpen = true
        do {
            try body(FileSink(descriptor: descriptor, path: path))
            guard fsync(descriptor) == 0 else { throw SafeTensorsError.system(path: path, "cannot flush '\(temporary)'") }
            isOpen = false
            guard close(descriptor) == 0 else { throw SafeTensorsError.system(path: path, "cannot close '\(temporary)'") }
            guard rename(temporary, path) == 0 else { throw SafeTensorsError.system(path: path, "cannot rename '\(temporary)' over it") }
        } catch {
            if isOpen { close(descriptor) }
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
    }

    /// The directory part (`.` when there is none) and the last component of `path`.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = path[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(path[path.index(after: slash)...]))
    }

    /// Flushes the directory entry of a completed rename; failure only weakens durability, so it is ignored.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

/// The open temporary file of an ``AtomicFile`` write.
struct FileSink {
    /// The file descriptor being written.
    let descriptor: Int32
    /// The destination path, for error messages.
    let path: String

    /// Writes all of `bytes`, retrying short writes and interruptions.
    func append(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, base + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw .system(path: path, "cannot write")
            }
            written += result
        }
    }
}
