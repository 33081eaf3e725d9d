import Foundation
import Testing
@testable import DeepGEMM

/// The DG_MEGA_MOE_FAULT test hook: parsing, and the exact event at which a rank dies.
@Suite struct RankFaultTests {
    @Test func parsesRankPhaseAndCall() throws {
        #expect(try RankFault(parsing: "2:pull:7") == RankFault(rank: 2, phase: .pull, call: 7))
        #expect(RankFault(rank: 0, phase: .combine, call: 3).description == "0:combine:3")
        for bad in ["", "1:pull", "1:pull:2:3", "x:pull:1", "-1:pull:1", "1:gemm:1", "1:pull:-2", "1:Pull:1"] {
            #expect(throws: DeepGEMMError.invalidArgument(
                argument: RankFault.variable,
                rule: "must be <rank>:<phase>:<call> with phase one of publish, pull, experts, combine, got '\(bad)'")) {
                try RankFault(parsing: bad)
            }
        }
    }

    /// The events a rank reports over a join and two calls; `heartbeats` per call.
    static func script(heartbeats: Int) -> [RankFaultTracker.Event] {
        let call: [RankFaultTracker.Event] = [.callStarted, .barrierEntered, .barrierPassed]
            + Array(repeating: .heartbeat, count: heartbeats) + [.barrierEntered, .barrierPassed]
        return [.barrierEntered, .barrierPassed] + call + call
    }

    @Test("a rank dies at its phase of the chosen call, and only there",
          arguments: [("publish", 2, 9), ("pull", 2, 11), ("experts", 2, 12), ("experts", 0, 10), ("combine", 2, 15), ("combine", 0, 11)])
    func diesAtItsPhase(phase: String, heartbeats: Int, fatalEvent: Int) async throws {
        let result = await #expect(processExitsWith: .signal(SIGKILL), observing: [\.standardErrorContent]) {
            [phase = phase as String, heartbeats = heartbeats as Int] in
            var tracker = RankFaultTracker(RankFault(rank: 0, phase: try #require(RankFault.Phase(rawValue: phase)), call: 1))
            for (index, event) in RankFaultTests.script(heartbeats: heartbeats).enumerated() {
                FileHandle.standardError.write(Data("event \(index)\n".utf8))
                tracker.reach(event)
            }
            exit(0)
        }
        let lines = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self).split(separator: "\n")
        #expect(lines.last { $0.hasPrefix("event ") } == "event \(fatalEvent)")
        #expect(lines.last == "DG_MEGA_MOE_FAULT=0:\(phase):1: rank 0 kills itself")
    }
}
