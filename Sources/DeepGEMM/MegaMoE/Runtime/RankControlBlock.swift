import Synchronization

/// The words at the start of a symmetric buffer that ranks use to meet: a header and one
/// 64-byte slot per rank (pid, arrival epoch, state), all accessed with lock-free atomics so
/// they work across processes that map the same shared memory.
///
/// Layout (8-byte words): header `[magic, rankCount, regionBytes, mode, failure, -, -, -]`, then
/// for rank r at word `8 + 8r`: `[pid, arrivalEpoch, state, heartbeat, -, -, -, -]`.
struct RankControlBlock: @unchecked Sendable {
    /// Written last by the creator; a segment whose first word differs is not ready yet.
    static let readyMagic = 0x4447_4D6F_4531_0001
    /// Bytes used by the header.
    static let headerBytes = 64
    /// Bytes of one rank's slot (a cache line, so ranks do not share lines).
    static let slotBytes = 64

    /// Per-rank states stored in a slot.
    enum RankState: Int {
        case absent = 0, joined = 1, exited = 2, failed = 3
    }

    /// How the ranks of a group are run; processes are checked for liveness by pid.
    enum Mode: Int {
        case threads = 1, processes = 2
    }

    /// Bytes the control block occupies for `rankCount` ranks, rounded up to a page.
    static func byteCount(rankCount: Int) -> Int {
        alignUp(headerBytes + slotBytes * rankCount, to: 4096)
    }

    private let words: UnsafeMutablePointer<Atomic<Int>>

    /// Views `base` (8-byte aligned, at least `byteCount(rankCount:)` bytes) as a control block.
    init(base: UnsafeMutableRawPointer, rankCount: Int) {
        words = base.bindMemory(to: Atomic<Int>.self, capacity: RankControlBlock.byteCount(rankCount: rankCount) / 8)
    }

    private func word(_ index: Int) -> UnsafeMutablePointer<Atomic<Int>> { words + index }
    private func slotWord(_ rank: Int, _ field: Int) -> UnsafeMutablePointer<Atomic<Int>> { words + 8 + 8 * rank + field }

    /// Fills the header; `publishReady()` must follow once everything else is in place.
    func initialize(rankCount: Int, regionBytes: Int, mode: Mode) {
        word(1).pointee.store(rankCount, ordering: .relaxed)
        word(2).pointee.store(regionBytes, ordering: .relaxed)
        word(3).pointee.store(mode.rawValue, ordering: .relaxed)
    }

    /// Marks the block ready (release), so openers that see the magic also see the header.
    func publishReady() { word(0).pointee.store(RankControlBlock.readyMagic, ordering: .releasing) }
    /// Whether the creator has finished initializing the block.
    var isReady: Bool { word(0).pointee.load(ordering: .acquiring) == RankControlBlock.readyMagic }
    /// Rank count recorded by the creator.
    var rankCount: Int { word(1).pointee.load(ordering: .relaxed) }
    /// Region size recorded by the creator.
    var regionBytes: Int { word(2).pointee.load(ordering: .relaxed) }
    /// How the group's ranks run.
    var mode: Mode? { Mode(rawValue: word(3).pointee.load(ordering: .relaxed)) }

    /// The first failure any rank published, if any.
    var recordedFailure: RankFailure? { RankFailure(encoded: word(4).pointee.load(ordering: .acquiring)) }
    /// Publishes `failure` unless one is already recorded; returns the failure that stands.
    @discardableResult
    func publish(_ failure: RankFailure) -> RankFailure {
        let (exchanged, original) = word(4).pointee.compareExchange(
            expected: 0, desired: failure.encoded, ordering: .acquiringAndReleasing)
        return exchanged ? failure : RankFailure(encoded: original) ?? failure
    }

    /// The process id rank `rank` registered (0 before it joined).
    func pid(of rank: Int) -> Int32 { Int32(truncatingIfNeeded: slotWord(rank, 0).pointee.load(ordering: .acquiring)) }
    /// Records the process id of rank `rank`.
    func setPID(_ pid: Int32, of rank: Int) { slotWord(rank, 0).pointee.store(Int(pid), ordering: .releasing) }

    /// The last barrier epoch rank `rank` arrived at.
    func arrivalEpoch(of rank: Int) -> Int { slotWord(rank, 1).pointee.load(ordering: .acquiring) }
    /// Announces that rank `rank` reached barrier epoch `epoch` (release: its earlier writes are visible).
    func arrive(_ rank: Int, epoch: Int) { slotWord(rank, 1).pointee.store(epoch, ordering: .releasing) }

    /// How often rank `rank` has reported progress.
    func heartbeat(of rank: Int) -> Int { slotWord(rank, 3).pointee.load(ordering: .relaxed) }
    /// Records one more sign of progress of rank `rank`.
    func beat(_ rank: Int) { slotWord(rank, 3).pointee.wrappingAdd(1, ordering: .relaxed) }

    /// The state rank `rank` last published.
    func state(of rank: Int) -> RankState { RankState(rawValue: slotWord(rank, 2).pointee.load(ordering: .acquiring)) ?? .absent }
    /// Publishes the state of rank `rank`.
    func setState(_ state: RankState, of rank: Int) { slotWord(rank, 2).pointee.store(state.rawValue, ordering: .releasing) }
}

/// `value` rounded up to a multiple of `alignment` (a power of two).
func alignUp(_ value: Int, to alignment: Int) -> Int { (value + alignment - 1) & ~(alignment - 1) }
