#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// What ``RankLauncher/runProcesses(ranks:executable:arguments:jobID:failureGrace:)`` tells each
/// child process: its rank, the rank count and the job id, through environment variables.
public struct RankEnvironment: Sendable, Equatable {
    /// Variable holding the rank.
    public static let rankVariable = "DG_MEGA_MOE_RANK"
    /// Variable holding the number of ranks.
    public static let rankCountVariable = "DG_MEGA_MOE_NUM_RANKS"
    /// Variable holding the job id that names the shared-memory object.
    public static let jobIDVariable = "DG_MEGA_MOE_JOB_ID"

    /// This process's rank.
    public var rank: Int
    /// Number of ranks in the job.
    public var rankCount: Int
    /// The job id shared by all ranks.
    public var jobID: String

    /// Creates a description of one rank of a job.
    public init(rank: Int, rankCount: Int, jobID: String) {
        self.rank = rank
        self.rankCount = rankCount
        self.jobID = jobID
    }

    /// The variables to pass to a child, as `NAME=value` strings.
    public var variables: [String] {
        ["\(Self.rankVariable)=\(rank)", "\(Self.rankCountVariable)=\(rankCount)", "\(Self.jobIDVariable)=\(jobID)"]
    }

    /// Reads the variables of this process; `nil` when none is set (not launched as a rank).
    /// Throws `invalidArgument` naming the variable when they are incomplete or malformed.
    public static func current() throws -> RankEnvironment? {
        let rankText = getenv(rankVariable).map { String(cString: $0) }
        let countText = getenv(rankCountVariable).map { String(cString: $0) }
        let jobID = getenv(jobIDVariable).map { String(cString: $0) }
        if rankText == nil && countText == nil && jobID == nil { return nil }
        guard let count = countText.flatMap({ Int($0) }), count >= 1 else {
            throw DeepGEMMError.invalidArgument(argument: rankCountVariable, rule: "must be a positive integer")
        }
        guard let rank = rankText.flatMap({ Int($0) }), rank >= 0, rank < count else {
            throw DeepGEMMError.invalidArgument(argument: rankVariable, rule: "must be an integer in 0..<\(count)")
        }
        guard let jobID else { throw DeepGEMMError.invalidArgument(argument: jobIDVariable, rule: "must be set") }
        _ = try SymmetricMemory.segmentName(jobID: jobID, rankCount: count)
        return RankEnvironment(rank: rank, rankCount: count, jobID: jobID)
    }
}

extension RankGroup {
    /// Joins the process group `environment` describes: rank 0 creates the shared memory, the
    /// others open it (waiting up to `timeout`), then all meet at a barrier, after which rank 0
    /// unlinks the name so no crash can leak it. Close the group's ``memory`` when done. A
    /// ``RankFault`` in the environment for this rank arms the test hook.
    public static func joinProcessGroup(_ environment: RankEnvironment, regionBytes: Int,
                                        timeout: Duration = .seconds(60)) throws -> RankGroup {
        let fault = try RankFault.current().flatMap { $0.rank == environment.rank ? $0 : nil }
        let memory = environment.rank == 0
            ? try SymmetricMemory.create(jobID: environment.jobID, rankCount: environment.rankCount, regionBytes: regionBytes)
            : try SymmetricMemory.open(jobID: environment.jobID, rankCount: environment.rankCount,
                                       regionBytes: regionBytes, timeout: timeout)
        do {
            let group = try RankGroup(rank: environment.rank, memory: memory, timeout: timeout)
            group.faults = fault.map(RankFaultTracker.init)
            try group.barrier()
            memory.unlinkName()
            return group
        } catch {
            memory.close()
            throw error
        }
    }
}
