#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// A test hook for fault soaks: `DG_MEGA_MOE_FAULT=<rank>:<phase>:<call>` makes rank process
/// `rank` of a Mega MoE process group kill itself with SIGKILL at `phase` of its `call`-th
/// collective call (counted from 0 after the buffer was created), so that a soak can check what
/// its peers do. Only rank processes (``getSymmBufferForMegaMoE(rankEnvironment:numExperts:numMaxTokensPerRank:numTopk:hidden:intermediateHidden:useFP8Dispatch:mmaType:activation:timeout:threadsPerRank:)``)
/// read it; the variable is not meant for anything but tests.
public struct RankFault: Sendable, Equatable, CustomStringConvertible {
    /// The environment variable.
    public static let variable = "DG_MEGA_MOE_FAULT"

    /// Where in a call the rank dies.
    public enum Phase: String, Sendable, CaseIterable {
        /// At the start of the call, before it publishes its routes to its peers.
        case publish
        /// After the dispatch barrier, before it pulls its first rows (peers are pulling from it).
        case pull
        /// After its first expert block (pull + both GEMMs), or at the combine barrier when it
        /// received no pairs.
        case experts
        /// After the combine barrier, while it combines (peers notice at their next call).
        case combine
    }

    /// The rank that dies.
    public var rank: Int
    /// Where in the call.
    public var phase: Phase
    /// Which call, from 0.
    public var call: Int

    /// A fault of `rank` at `phase` of call `call`.
    public init(rank: Int, phase: Phase, call: Int) {
        (self.rank, self.phase, self.call) = (rank, phase, call)
    }

    /// Parses `<rank>:<phase>:<call>`; `invalidArgument` naming ``variable`` otherwise.
    public init(parsing text: String) throws {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 3, let rank = Int(fields[0]), rank >= 0, let phase = Phase(rawValue: String(fields[1])),
              let call = Int(fields[2]), call >= 0 else {
            throw DeepGEMMError.invalidArgument(
                argument: Self.variable,
                rule: "must be <rank>:<phase>:<call> with phase one of \(Phase.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        self.init(rank: rank, phase: phase, call: call)
    }

    /// The fault this process's environment asks for; nil when the variable is unset or empty.
    public static func current() throws -> RankFault? {
        guard let value = getenv(variable), value.pointee != 0 else { return nil }
        return try RankFault(parsing: String(cString: value))
    }

    /// `<rank>:<phase>:<call>`, the variable's value.
    public var description: String { "\(rank):\(phase.rawValue):\(call)" }
}

/// Follows one rank's calls, barriers and heartbeats and kills the process when its
/// ``RankFault`` is due.
struct RankFaultTracker {
    /// What a rank reports to the tracker.
    enum Event {
        case callStarted, barrierEntered, barrierPassed, heartbeat
    }

    let fault: RankFault
    private var call = -1
    private var barriersPassed = 0

    init(_ fault: RankFault) { self.fault = fault }

    /// Records `event`; never returns when the fault is due.
    mutating func reach(_ event: Event) {
        switch event {
        case .callStarted: (call, barriersPassed) = (call + 1, 0)
        case .barrierPassed: barriersPassed += 1
        case .barrierEntered, .heartbeat: break
        }
        guard call == fault.call else { return }
        let due: Bool
        switch (fault.phase, event) {
        case (.publish, .callStarted): due = true
        case (.pull, .barrierPassed): due = barriersPassed == 1
        case (.experts, .heartbeat), (.experts, .barrierEntered): due = barriersPassed == 1
        case (.combine, .barrierPassed): due = barriersPassed == 2
        default: due = false
        }
        guard due else { return }
        let line = Array("\(RankFault.variable)=\(fault): rank \(fault.rank) kills itself\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        kill(getpid(), SIGKILL)
    }
}
