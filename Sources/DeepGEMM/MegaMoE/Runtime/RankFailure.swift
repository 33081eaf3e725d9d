/// Why a rank of a Mega MoE group stopped waiting. Every case names the rank that was waited
/// for, so a broken group never hangs silently and the message says which rank to look at.
public enum RankFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// `rank` did not arrive (or did not make the awaited condition true) within the group's timeout.
    case timedOut(rank: Int)
    /// `rank` is a process that no longer exists (exited, was killed, or is a zombie).
    case peerDied(rank: Int)
    /// `rank` reported a failure of its own (its body threw) before arriving.
    case peerFailed(rank: Int)
    /// `rank` left the group (its body returned) while others still waited for it.
    case peerExited(rank: Int)

    /// The rank the failure is about.
    public var rank: Int {
        switch self {
        case .timedOut(let rank), .peerDied(let rank), .peerFailed(let rank), .peerExited(let rank): return rank
        }
    }

    /// A one-line, human-readable message.
    public var description: String {
        switch self {
        case .timedOut(let rank): return "rank \(rank) did not arrive within the timeout"
        case .peerDied(let rank): return "rank \(rank) died (its process no longer exists)"
        case .peerFailed(let rank): return "rank \(rank) failed"
        case .peerExited(let rank): return "rank \(rank) left the group while others waited for it"
        }
    }

    /// The failure as one word for the control block: kind in the high bits, rank + 1 below.
    var encoded: Int {
        let kind: Int
        switch self {
        case .timedOut: kind = 1
        case .peerDied: kind = 2
        case .peerFailed: kind = 3
        case .peerExited: kind = 4
        }
        return kind << 32 | (rank + 1)
    }

    /// Decodes ``encoded``; `nil` for 0 (no failure recorded) or an unknown word.
    init?(encoded word: Int) {
        let rank = (word & 0xFFFF_FFFF) - 1
        guard rank >= 0 else { return nil }
        switch word >> 32 {
        case 1: self = .timedOut(rank: rank)
        case 2: self = .peerDied(rank: rank)
        case 3: self = .peerFailed(rank: rank)
        case 4: self = .peerExited(rank: rank)
        default: return nil
        }
    }
}
