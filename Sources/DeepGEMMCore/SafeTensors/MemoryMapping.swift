#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only files mapped into memory as ``TensorStorage``.
enum MemoryMapping {
    /// Maps the whole regular file at `path` privately (`PROT_READ | PROT_WRITE`, `MAP_PRIVATE`):
    /// writes through the storage are copy-on-write and never reach the file. The mapping is
    /// removed when the storage is released. Files shorter than the 8-byte safetensors length
    /// prefix are ``SafeTensorsError/truncated(reason:)``; every other failure is
    /// ``SafeTensorsError/io(path:reason:)``.
    ///
    /// The file must not be truncated by another process while mapped (that raises SIGBUS on
    /// access, as with any mapping).
    static func map(path: String) throws(SafeTensorsError) -> TensorStorage {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(path: path, "cannot open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(path: path, "cannot stat") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        guard size >= 8 else { throw .truncated(reason: "'\(path)' holds \(size) bytes, fewer than the 8-byte header length") }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0),
              base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .system(path: path, "cannot map \(size) bytes")
        }
        return TensorStorage(wrapping: base, byteCount: size) { pointer, count in _ = munmap(pointer, count) }
    }
}
