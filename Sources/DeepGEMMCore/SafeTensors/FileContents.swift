#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a file as ``TensorStorage``: copied into memory when the file is small, mapped
/// when it is large.
///
/// A copied file is immune to what happens to the file afterwards. A mapping is not: when the
/// file shrinks while mapped, touching a page past its new end raises SIGBUS. So a mapped file
/// keeps its descriptor (``MappedFile``) and is checked with `fstat` before views are handed out;
/// see ``SafeTensorsFile`` for what that does and does not cover.
enum FileContents {
    /// Opens the regular file at `path` and returns its bytes: read into memory when it has at
    /// most `mappingThreshold` bytes, else mapped privately (`PROT_READ | PROT_WRITE`,
    /// `MAP_PRIVATE`: writes through the storage are copy-on-write and never reach the file; the
    /// mapping is removed when the storage is released) together with the ``MappedFile`` that
    /// checks it. Files shorter than the 8-byte safetensors length prefix are
    /// ``SafeTensorsError/truncated(reason:)``; a file that changes while it is read is
    /// ``SafeTensorsError/modified(path:reason:)``; every other failure is ``SafeTensorsError/io(path:reason:)``.
    static func load(path: String, mappingThreshold: Int) throws(SafeTensorsError) -> (storage: TensorStorage, mapping: MappedFile?) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(path: path, "cannot open") }
        var keepOpen = false
        defer { if !keepOpen { close(descriptor) } }
        let identity = try FileIdentity(descriptor: descriptor, path: path)
        guard identity.isRegular else { throw .io(path: path, reason: "not a regular file") }
        let size = identity.byteCount
        guard size >= 8 else { throw .truncated(reason: "'\(path)' holds \(size) bytes, fewer than the 8-byte header length") }
        guard size > mappingThreshold else { return (try read(descriptor: descriptor, path: path, identity: identity), nil) }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0),
              base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .system(path: path, "cannot map \(size) bytes")
        }
        keepOpen = true
        let storage = TensorStorage(wrapping: base, byteCount: size) { pointer, count in _ = munmap(pointer, count) }
        return (storage, MappedFile(descriptor: descriptor, path: path, identity: identity))
    }

    /// Reads all `identity.byteCount` bytes; the file must look the same (size and modification
    /// time) after the read as before it, else the copy could mix old and new contents.
    private static func read(descriptor: Int32, path: String, identity: FileIdentity) throws(SafeTensorsError) -> TensorStorage {
        let size = identity.byteCount
        let storage = TensorStorage(byteCount: size, zeroed: false)
        var done = 0
        while done < size {
            let count = pread(descriptor, storage.baseAddress + done, size - done, off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(path: path, "cannot read")
            }
            guard count > 0 else { throw .modified(path: path, reason: "it shrank from \(size) to \(done) bytes while being read") }
            done += count
        }
        try identity.requireUnchanged(descriptor: descriptor, path: path, while: "being read")
        return storage
    }
}

/// What `fstat` says about an open file, for telling whether it changed.
struct FileIdentity: Equatable, Sendable {
    /// Size in bytes.
    let byteCount: Int
    /// Modification time, seconds and nanoseconds.
    let modified: [Int]
    /// Whether it is a regular file.
    let isRegular: Bool

    /// The identity of the open file `descriptor`.
    init(descriptor: Int32, path: String) throws(SafeTensorsError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(path: path, "cannot stat") }
        byteCount = Int(info.st_size)
        #if canImport(Darwin)
        modified = [Int(info.st_mtimespec.tv_sec), Int(info.st_mtimespec.tv_nsec)]
        #else
        modified = [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        #endif
        isRegular = info.st_mode & S_IFMT == S_IFREG
    }

    /// Throws ``SafeTensorsError/modified(path:reason:)`` unless the file still has this size and
    /// modification time; `activity` says what was going on ("being read", "mapped").
    func requireUnchanged(descriptor: Int32, path: String, while activity: String) throws(SafeTensorsError) {
        let now = try FileIdentity(descriptor: descriptor, path: path)
        guard now.byteCount == byteCount else {
            throw .modified(path: path, reason: "it changed size from \(byteCount) to \(now.byteCount) bytes while \(activity)")
        }
        guard now.modified == modified else { throw .modified(path: path, reason: "it was rewritten while \(activity)") }
    }
}

/// The open descriptor of a mapped file, kept to check that the file has not changed under the
/// mapping; closed when the last ``SafeTensorsFile`` value holding it goes away.
final class MappedFile: Sendable {
    private let descriptor: Int32
    private let path: String
    private let identity: FileIdentity

    init(descriptor: Int32, path: String, identity: FileIdentity) {
        (self.descriptor, self.path, self.identity) = (descriptor, path, identity)
    }

    deinit { close(descriptor) }

    /// Throws ``SafeTensorsError/modified(path:reason:)`` when the file's size or modification
    /// time differs from when it was mapped.
    func verify() throws(SafeTensorsError) {
        try identity.requireUnchanged(descriptor: descriptor, path: path, while: "mapped")
    }
}
