
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The allocator behind every host ``TensorStorage`` the library creates.
///
/// Large blocks (1 MiB and up) are kept after release and handed out again for a request of the
/// same size class, so a loop that allocates same-sized outputs does not pay the kernel's page
/// faults and zeroing on every call (the same idea as PyTorch's caching allocators). The cache
/// holds at most `DG_HOST_CACHE_MB` MiB (default 1024; 0 turns it off); ``trim()`` empties it.
public enum HostAllocator {
    /// Blocks below this size go straight to the system allocator.
    static let minimumCachedSize = 1 << 20
    /// Size classes are multiples of this many bytes.
    static let sizeClassGranularity = 1 << 16

    /// Upper bound on cached bytes.
    public static let cacheLimit: Int = {
        if let text = getenv("DG_HOST_CACHE_MB").map({ String(cString: $0) }), let mb = Int(text), mb >= 0 { return mb << 20 }
        return 1 << 30
    }()

    /// A cached block; only the allocator touches it while cached.
    private struct Block: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    private struct Cache {
        var blocks: [Int: [Block]] = [:]
        var bytes = 0
    }

    private static let cache = Locked(Cache())

    /// The size class a request of `byteCount` bytes is served from.
    static func sizeClass(_ byteCount: Int) -> Int {
        byteCount < minimumCachedSize ? max(byteCount, 1) : align(byteCount, sizeClassGranularity)
    }

    /// A block of at least `byteCount` bytes aligned to `TensorStorage.alignment`.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = sizeClass(byteCount)
        if size >= minimumCachedSize, let reused = cache.withLock({ state -> UnsafeMutableRawPointer? in
            guard var list = state.blocks[size], let block = list.popLast() else { return nil }
            state.blocks[size] = list.isEmpty ? nil : list
            state.bytes -= size
            return block.pointer
        }) {
            return reused
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: TensorStorage.alignment)
    }

    /// Returns a block from ``allocate(byteCount:)``: cached when it is large and the cache has room.
    static func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = sizeClass(byteCount)
        let block = Block(pointer: pointer)
        let kept = size >= minimumCachedSize && cache.withLock { state -> Bool in
            guard state.bytes + size <= cacheLimit else { return false }
            state.blocks[size, default: []].append(block)
            state.bytes += size
            return true
        }
        if !kept { pointer.deallocate() }
    }

    /// Bytes currently held in the cache.
    public static var cachedBytes: Int { cache.withLock { $0.bytes } }

    /// Frees every cached block.
    public static func trim() {
        let blocks = cache.withLock { state -> [Block] in
            let all = state.blocks.values.flatMap { $0 }
            state.blocks = [:]
            state.bytes = 0
            return all
        }
        for block in blocks { block.pointer.deallocate() }
    }
}
