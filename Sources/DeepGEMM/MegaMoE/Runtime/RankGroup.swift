#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One rank's membership in a group that shares a ``SymmetricMemory``: its id, the peers'
/// regions, and waits that give up after ``timeout`` naming the rank they waited for.
///
/// Each rank (thread or process) owns its own `RankGroup`; the instance is not shared between
/// threads.
///
/// The barrier is a flag barrier rather than a central sense-reversing counter: rank r stores
/// its barrier epoch (1, 2, ...) in its own control slot with release ordering and then reads
/// every peer's epoch with acquire ordering. Epochs only grow, so nothing is reset between
/// rounds, and a timed-out wait knows exactly which rank has not arrived. The atomics are the
/// standard library's `Synchronization.Atomic<Int>` bound onto the shared words (lock-free,
/// hence valid across processes mapping the same memory). The first failure any rank detects is published in the control block, so every
/// other rank's next wait fails with the same ``RankFailure`` instead of waiting it out.
public final class RankGroup {
    /// This rank's id, in `0..<rankCount`.
    public let rank: Int
    /// The memory shared by the group.
    public let memory: SymmetricMemory
    /// How long one wait may go without the awaited rank arriving or reporting progress
    /// (``heartbeat()``) before it fails with ``RankFailure/timedOut(rank:)``.
    public let timeout: Duration

    private var epoch = 0
    /// The ``RankFault`` test hook of this rank, when its process was asked for one.
    var faults: RankFaultTracker?

    /// Number of ranks in the group.
    public var rankCount: Int { memory.rankCount }
    /// This rank's own region.
    public var localRegion: UnsafeMutableRawPointer { memory.region(of: rank) }

    /// Joins `memory` as rank `rank`: records this process's pid and marks the rank present.
    /// Does not wait for the others; call ``barrier()`` for that.
    public init(rank: Int, memory: SymmetricMemory, timeout: Duration) throws {
        try DeepGEMMError.require(rank >= 0 && rank < memory.rankCount, "rank", "must be in 0..<\(memory.rankCount)")
        self.rank = rank
        self.memory = memory
        self.timeout = timeout
        memory.control.setPID(getpid(), of: rank)
        memory.control.setState(.joined, of: rank)
    }

    /// Start of rank `peer`'s region.
    public func region(of peer: Int) -> UnsafeMutableRawPointer { memory.region(of: peer) }

    /// The address in `peer`'s region at the same offset as `pointer` has in this rank's region
    /// (Mega MoE's `map(ptr, r)`).
    public func map(_ pointer: UnsafeRawPointer, to peer: Int) -> UnsafeMutableRawPointer {
        let offset = pointer - UnsafeRawPointer(localRegion)
        precondition(offset >= 0 && offset < max(memory.regionBytes, 1), "pointer outside this rank's region")
        return region(of: peer) + offset
    }

    /// Waits until every rank has called `barrier()` as often as this one. Writes made before the
    /// barrier are visible to every rank after it. One ``timeout`` covers the whole barrier, renewed
    /// whenever the rank waited for reports progress.
    /// Throws the group's ``RankFailure`` (naming the lowest rank that had not arrived) instead
    /// of hanging.
    public func barrier() throws {
        faults?.reach(.barrierEntered)
        epoch += 1
        let target = epoch
        memory.control.arrive(rank, epoch: target)
        let deadline = RankClock.deadline(after: timeout)
        for peer in 0..<rankCount where peer != rank {
            try wait(for: peer, deadline: deadline) { memory.control.arrivalEpoch(of: peer) >= target }
        }
        faults?.reach(.barrierPassed)
    }

    /// Marks the start of a collective call (for the ``RankFault`` test hook).
    func beginCall() {
        faults?.reach(.callStarted)
    }

    /// Spins (with backoff) until `condition` holds; `peer` is the rank expected to make it true
    /// and is named when the wait fails: it timed out, its process died, it reported a failure, or
    /// it left. Any failure already published by another rank is rethrown at once.
    public func wait(for peer: Int, until condition: () -> Bool) throws {
        try wait(for: peer, deadline: RankClock.deadline(after: timeout), until: condition)
    }

    /// Reports that this rank is making progress, so peers waiting for it keep waiting: a wait
    /// times out only after ``timeout`` without an arrival or a heartbeat of the rank it waits for.
    /// Call it between long pieces of work done while peers may be waiting.
    public func heartbeat() {
        memory.control.beat(rank)
        faults?.reach(.heartbeat)
    }

    /// ``wait(for:until:)`` with an absolute deadline on ``RankClock``, moved on by each heartbeat of `peer`.
    private func wait(for peer: Int, deadline: Int64, until condition: () -> Bool) throws {
        precondition(peer >= 0 && peer < rankCount, "peer out of range")
        let control = memory.control
        var deadline = deadline, lastBeat = control.heartbeat(of: peer)
        let checksProcess = control.mode == .processes && peer != rank
        var backoff = RankBackoff()
        var lastLivenessCheck = RankClock.now()
        while !condition() {
            if let failure = control.recordedFailure { throw failure }
            switch control.state(of: peer) {
            case .failed: if !condition() { throw control.publish(.peerFailed(rank: peer)) }
            case .exited: if !condition() { throw control.publish(.peerExited(rank: peer)) }
            case .absent, .joined: break
            }
            let now = RankClock.now()
            if checksProcess, now - lastLivenessCheck > 5_000_000 {
                lastLivenessCheck = now
                let pid = control.pid(of: peer)
                if pid > 0, !PeerLiveness.isAlive(pid), !condition() { throw control.publish(.peerDied(rank: peer)) }
            }
            if now >= deadline {
                let beat = control.heartbeat(of: peer)
                guard beat != lastBeat else { throw control.publish(.timedOut(rank: peer)) }
                (lastBeat, deadline) = (beat, RankClock.deadline(after: timeout))
            }
            backoff.pause()
        }
    }

    /// Reports that this rank failed, so peers waiting for it fail at once with
    /// ``RankFailure/peerFailed(rank:)``.
    public func markFailed() {
        memory.control.setState(.failed, of: rank)
    }

    /// Reports that this rank is done; peers still waiting for it fail with
    /// ``RankFailure/peerExited(rank:)``.
    public func leave() {
        memory.control.setState(.exited, of: rank)
    }
}
