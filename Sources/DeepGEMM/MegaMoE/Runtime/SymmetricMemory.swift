#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// The CPU analogue of Mega MoE's symmetric buffer: one block of memory holding a control block
/// followed by `rankCount` equally sized regions, region r belonging to rank r.
///
/// Thread ranks share one ordinary allocation (``local(rankCount:regionBytes:)``). Process ranks
/// each map the same named POSIX shared-memory object: rank 0 ``create(jobID:rankCount:regionBytes:)``s
/// it and the others ``open(jobID:rankCount:regionBytes:timeout:)`` it, so every rank sees every
/// region at a (process-local) address, the way CUDA IPC maps peer buffers over NVLink.
public final class SymmetricMemory: @unchecked Sendable {
    /// Largest supported rank count (DeepGEMM sizes its peer offset table for 72 ranks).
    public static let maxRankCount = 72

    /// Number of ranks, hence regions.
    public let rankCount: Int
    /// Usable bytes of each region.
    public let regionBytes: Int
    /// Distance between consecutive regions (``regionBytes`` rounded up to a page).
    public let regionStride: Int
    /// The shared-memory object's name for process ranks; `nil` for thread ranks.
    public var segmentName: String? { segment?.name }

    let control: RankControlBlock
    private let base: UnsafeMutableRawPointer
    private let segment: SharedMemorySegment?
    private let lifecycle = Locked(Lifecycle())

    /// What has been released so far; each step happens once.
    private struct Lifecycle {
        var nameUnlinked = false
        var closed = false
    }

    private init(rankCount: Int, regionBytes: Int, base: UnsafeMutableRawPointer, segment: SharedMemorySegment?) {
        self.rankCount = rankCount
        self.regionBytes = regionBytes
        self.regionStride = SymmetricMemory.stride(regionBytes: regionBytes)
        self.base = base
        self.segment = segment
        self.control = RankControlBlock(base: base, rankCount: rankCount)
    }

    deinit { close() }

    /// Memory for `rankCount` thread ranks of one process, zero-filled.
    public static func local(rankCount: Int, regionBytes: Int) throws -> SymmetricMemory {
        try validate(rankCount: rankCount, regionBytes: regionBytes)
        let bytes = totalBytes(rankCount: rankCount, regionBytes: regionBytes)
        let base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let memory = SymmetricMemory(rankCount: rankCount, regionBytes: regionBytes, base: base, segment: nil)
        memory.control.initialize(rankCount: rankCount, regionBytes: regionBytes, mode: .threads)
        memory.control.publishReady()
        return memory
    }

    /// Creates the shared-memory object of job `jobID` (rank 0 of a process group). A stale
    /// object of the same name is replaced. The name is unlinked on ``close()``, at exit and on
    /// SIGINT/SIGTERM.
    public static func create(jobID: String, rankCount: Int, regionBytes: Int) throws -> SymmetricMemory {
        try validate(rankCount: rankCount, regionBytes: regionBytes)
        let name = try segmentName(jobID: jobID, rankCount: rankCount)
        let segment = try SharedMemorySegment.create(
            name: name, byteCount: totalBytes(rankCount: rankCount, regionBytes: regionBytes))
        let memory = SymmetricMemory(rankCount: rankCount, regionBytes: regionBytes, base: segment.base, segment: segment)
        memory.control.initialize(rankCount: rankCount, regionBytes: regionBytes, mode: .processes)
        memory.control.setPID(getpid(), of: 0)
        memory.control.publishReady()
        return memory
    }

    /// Opens the object rank 0 of job `jobID` created, retrying until it exists and is ready.
    /// Throws ``RankFailure/timedOut(rank:)`` naming rank 0 when it does not appear within
    /// `timeout`, and `invalidArgument` when its sizes differ from this rank's.
    public static func open(jobID: String, rankCount: Int, regionBytes: Int, timeout: Duration) throws -> SymmetricMemory {
        try validate(rankCount: rankCount, regionBytes: regionBytes)
        let name = try segmentName(jobID: jobID, rankCount: rankCount)
        let minimum = RankControlBlock.byteCount(rankCount: rankCount)
        let deadline = RankClock.deadline(after: timeout)
        var backoff = RankBackoff()
        while true {
            if let segment = try SharedMemorySegment.openIfPresent(name: name, minimumBytes: minimum) {
                let control = RankControlBlock(base: segment.base, rankCount: rankCount)
                if control.isReady, PeerLiveness.isAlive(control.pid(of: 0)) {
                    let creatorRegionBytes = control.regionBytes
                    guard control.rankCount == rankCount, creatorRegionBytes == regionBytes,
                          segment.byteCount == totalBytes(rankCount: rankCount, regionBytes: regionBytes) else {
                        segment.unmap()
                        throw DeepGEMMError.invalidArgument(
                            argument: "region_bytes",
                            rule: "every rank must request the same buffer size (rank 0 made \(creatorRegionBytes)-byte regions, this rank asked for \(regionBytes))")
                    }
                    return SymmetricMemory(rankCount: rankCount, regionBytes: regionBytes, base: segment.base, segment: segment)
                }
                segment.unmap()
            }
            if RankClock.now() >= deadline { throw RankFailure.timedOut(rank: 0) }
            backoff.pause()
        }
    }

    /// The name of job `jobID`'s object: `/deepgemm-<jobID>-r<rankCount>`. Job ids may use
    /// letters, digits, `.`, `_` and `-` (at most 200 characters).
    public static func segmentName(jobID: String, rankCount: Int) throws -> String {
        let allowed = jobID.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        try DeepGEMMError.require(!jobID.isEmpty && jobID.utf8.count <= 200 && allowed, "job_id",
                                  "1 to 200 characters from letters, digits, '.', '_' and '-'")
        return "/deepgemm-\(jobID)-r\(rankCount)"
    }

    /// Start of rank `rank`'s region.
    public func region(of rank: Int) -> UnsafeMutableRawPointer {
        precondition(rank >= 0 && rank < rankCount, "rank out of range")
        return base + RankControlBlock.byteCount(rankCount: rankCount) + rank * regionStride
    }

    /// Removes the shared-memory name now (mappings stay valid). Rank 0 does this once every rank
    /// has attached, so a later crash cannot leak the object.
    public func unlinkName() {
        guard let segment, segment.cleanupSlot != nil else { return }
        let alreadyUnlinked = lifecycle.withLock { state in
            defer { state.nameUnlinked = true }
            return state.nameUnlinked
        }
        if !alreadyUnlinked { segment.unlink() }
    }

    /// Unlinks the name (if this process created it) and releases the memory. Idempotent; no
    /// pointer into the memory may be used afterwards.
    public func close() {
        let alreadyClosed = lifecycle.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        guard !alreadyClosed else { return }
        if let segment {
            unlinkName()
            segment.unmap()
        } else {
            base.deallocate()
        }
    }

    private static func validate(rankCount: Int, regionBytes: Int) throws {
        try DeepGEMMError.require(rankCount >= 1 && rankCount <= maxRankCount, "num_ranks", "must be in 1...\(maxRankCount)")
        try DeepGEMMError.require(regionBytes >= 0 && regionBytes <= 1 << 40, "region_bytes",
                                  "the per-rank buffer must be 0 to 2^40 bytes")
    }

    private static func stride(regionBytes: Int) -> Int { alignUp(max(regionBytes, 1), to: 4096) }

    private static func totalBytes(rankCount: Int, regionBytes: Int) -> Int {
        RankControlBlock.byteCount(rankCount: rankCount) + rankCount * stride(regionBytes: regionBytes)
    }
}
