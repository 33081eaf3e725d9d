#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore
import Synchronization

/// The process-wide list of shared-memory segment names this process created and has not
/// unlinked yet. They are unlinked at normal exit (`atexit`) and on SIGINT/SIGTERM, after which
/// the signal is re-raised with the previous disposition so the exit status stays right.
///
/// The storage is a fixed table allocated once, so the signal handler only reads raw memory
/// and calls `shm_unlink`; it never allocates or takes a lock.
enum SegmentCleanup {
    /// Most names one process may have registered at once.
    static let capacity = 64
    /// Longest name (bytes, without the terminating NUL).
    static let maxNameBytes = 255
    private static let slotBytes = maxNameBytes + 1
    private static let handledSignals: [Int32] = [SIGINT, SIGTERM]

    private struct Table: @unchecked Sendable {
        let used: UnsafeMutablePointer<Atomic<Int>>
        let names: UnsafeMutablePointer<CChar>
        let previous: UnsafeMutablePointer<sigaction>
    }

    private static let table: Table = {
        let used = UnsafeMutableRawPointer.allocate(byteCount: 8 * capacity, alignment: 8)
        used.initializeMemory(as: Int.self, repeating: 0, count: capacity)
        let names = UnsafeMutablePointer<CChar>.allocate(capacity: capacity * slotBytes)
        names.initialize(repeating: 0, count: capacity * slotBytes)
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        previous.initialize(repeating: sigaction(), count: 65)
        return Table(used: used.bindMemory(to: Atomic<Int>.self, capacity: capacity), names: names, previous: previous)
    }()

    private static let installHooks: Void = {
        _ = table
        atexit { SegmentCleanup.unlinkAll() }
        #if canImport(Glibc)
        for signal in handledSignals {
            var current = sigaction()
            guard sigaction(signal, nil, &current) == 0 else { continue }
            // An ignored signal never ends the process, so it must not remove live segments.
            let ignored = unsafeBitCast(SIG_IGN, to: Int.self)
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == ignored { continue }
            table.previous[Int(signal)] = current
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                SegmentCleanup.unlinkAll()
                sigaction(signal, SegmentCleanup.table.previous + Int(signal), nil)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        #endif
    }()

    /// Remembers `name` for cleanup and returns its slot, installing the exit and signal hooks on first use.
    static func register(_ name: String) throws -> Int {
        _ = installHooks
        let bytes = Array(name.utf8)
        precondition(bytes.count <= maxNameBytes, "segment names are validated before registration")
        for slot in 0..<capacity {
            let (claimed, _) = table.used[slot].compareExchange(expected: 0, desired: -1, ordering: .acquiringAndReleasing)
            guard claimed else { continue }
            let start = table.names + slot * slotBytes
            for (index, byte) in bytes.enumerated() { start[index] = CChar(bitPattern: byte) }
            start[bytes.count] = 0
            table.used[slot].store(1, ordering: .releasing)
            return slot
        }
        throw DeepGEMMError.unsupported(
            argument: "job_id", rule: "at most \(capacity) shared-memory segments may be open in one process")
    }

    /// Forgets the name in `slot` (after the caller unlinked it).
    static func unregister(_ slot: Int) {
        table.used[slot].store(0, ordering: .releasing)
    }

    /// Unlinks every registered name; safe to call from a signal handler.
    static func unlinkAll() {
        for slot in 0..<capacity where table.used[slot].load(ordering: .acquiring) == 1 {
            shm_unlink(table.names + slot * slotBytes)
        }
    }
}
