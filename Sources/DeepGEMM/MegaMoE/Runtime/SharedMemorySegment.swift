#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// One mapped POSIX shared-memory object (`shm_open` + `mmap`). The creator registers the name
/// with ``SegmentCleanup`` so it is unlinked on every exit path.
struct SharedMemorySegment {
    /// The object's name (starts with `/`).
    let name: String
    /// Start of the mapping.
    let base: UnsafeMutableRawPointer
    /// Length of the mapping.
    let byteCount: Int
    /// The cleanup slot when this process created the object, else `nil`.
    let cleanupSlot: Int?

    /// Creates `name` with `byteCount` zero bytes, replacing a stale object of the same name
    /// left by a job that was killed.
    static func create(name: String, byteCount: Int) throws -> SharedMemorySegment {
        shm_unlink(name)
        let slot = try SegmentCleanup.register(name)
        let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600)
        guard fd >= 0 else {
            SegmentCleanup.unregister(slot)
            throw DeepGEMMError.io(path: name, reason: "shm_open failed: \(errnoText())")
        }
        defer { close(fd) }
        guard ftruncate(fd, off_t(byteCount)) == 0, let base = map(fd: fd, byteCount: byteCount) else {
            let reason = errnoText()
            shm_unlink(name)
            SegmentCleanup.unregister(slot)
            throw DeepGEMMError.io(path: name, reason: "sizing or mapping \(byteCount) bytes failed: \(reason)")
        }
        return SharedMemorySegment(name: name, base: base, byteCount: byteCount, cleanupSlot: slot)
    }

    /// Opens and maps `name` if it exists and is at least `minimumBytes` long; `nil` when it does
    /// not exist yet or is still being sized (the caller retries).
    static func openIfPresent(name: String, minimumBytes: Int) throws -> SharedMemorySegment? {
        let fd = shm_open(name, O_RDWR, 0)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw DeepGEMMError.io(path: name, reason: "shm_open failed: \(errnoText())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DeepGEMMError.io(path: name, reason: "fstat failed: \(errnoText())") }
        let size = Int(info.st_size)
        guard size >= minimumBytes else { return nil }
        guard let base = map(fd: fd, byteCount: size) else {
            throw DeepGEMMError.io(path: name, reason: "mapping \(size) bytes failed: \(errnoText())")
        }
        return SharedMemorySegment(name: name, base: base, byteCount: size, cleanupSlot: nil)
    }

    /// Removes the name (mappings stay valid); only the creator's cleanup slot is released.
    func unlink() {
        shm_unlink(name)
        if let cleanupSlot { SegmentCleanup.unregister(cleanupSlot) }
    }

    /// Unmaps the memory.
    func unmap() { munmap(base, byteCount) }

    private static func map(fd: Int32, byteCount: Int) -> UnsafeMutableRawPointer? {
        let pointer = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let pointer, pointer != MAP_FAILED else { return nil }
        return pointer
    }
}

/// The message for the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
