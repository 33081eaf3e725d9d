import Testing
import Synchronization
@testable import DeepGEMM
#if canImport(Glibc)
import Glibc
#endif

/// The Mega MoE rank runtime: symmetric memory, barriers with timeouts that name the missing
/// rank, shared-memory cleanup, and the thread and process launchers.
@Suite struct RankRuntimeTests {
    /// A job id no other test (or concurrent test run) uses.
    static func uniqueJobID(_ label: String) -> String { "test-\(label)-\(getpid())-\(RankClock.now())" }

    static func segmentExists(_ name: String) -> Bool { access("/dev/shm" + name, F_OK) == 0 }

    static func elapsedSeconds(since start: Int64) -> Double { Double(RankClock.now() - start) / 1e9 }

    @Test("thread ranks pass barriers and exchange data through their regions", arguments: [1, 2, 4, 8])
    func threadRanksExchangeData(ranks: Int) throws {
        let results = try RankLauncher.runThreads(ranks: ranks, regionBytes: 8 * 64, timeout: .seconds(30)) { group in
            let own = group.localRegion.assumingMemoryBound(to: Int.self)
            for index in 0..<32 { own[index] = group.rank * 1000 + index }
            for round in 0..<3 {
                try group.barrier()
                // Read every peer's region (pull), then write into every peer's region (push).
                for peer in 0..<group.rankCount {
                    let theirs = group.map(UnsafeRawPointer(own), to: peer).assumingMemoryBound(to: Int.self)
                    guard theirs[round] == peer * 1000 + round else { return false }
                    group.region(of: peer).assumingMemoryBound(to: Int.self)[32 + group.rank] = round * 100 + group.rank
                }
                try group.barrier()
                for peer in 0..<group.rankCount where own[32 + peer] != round * 100 + peer { return false }
            }
            return true
        }
        #expect(results.count == ranks)
        for result in results { #expect(try result.get()) }
    }

    @Test("a thread rank that never arrives makes the others fail within the timeout, naming it")
    func missingThreadRankTimesOut() throws {
        let results = try RankLauncher.runThreads(ranks: 3, regionBytes: 64, timeout: .milliseconds(200)) { group in
            if group.rank == 2 {
                usleep(1_500_000)
                return 0.0
            }
            let start = RankClock.now()
            #expect(throws: RankFailure.timedOut(rank: 2)) { try group.barrier() }
            return RankRuntimeTests.elapsedSeconds(since: start)
        }
        for rank in 0..<2 {
            let elapsed = try results[rank].get()
            #expect(elapsed >= 0.15 && elapsed < 1.2, "rank \(rank) waited \(elapsed) s")
        }
    }

    @Test("a rank that reports progress keeps its peers waiting past the timeout")
    func heartbeatsRenewTheTimeout() throws {
        let results = try RankLauncher.runThreads(ranks: 2, regionBytes: 64, timeout: .milliseconds(300)) { group in
            if group.rank == 1 {
                for _ in 0..<10 {
                    usleep(100_000)
                    group.heartbeat()
                }
            }
            try group.barrier()
            return group.rank
        }
        #expect(try results.map { try $0.get() } == [0, 1])
    }

    @Test("a thread rank that throws is named at once by the ranks waiting for it")
    func failingThreadRankIsNamed() throws {
        struct Boom: Error {}
        let start = RankClock.now()
        let results = try RankLauncher.runThreads(ranks: 4, regionBytes: 64, timeout: .seconds(30)) { group in
            if group.rank == 1 { throw Boom() }
            try group.barrier()
        }
        #expect(Self.elapsedSeconds(since: start) < 10)
        #expect(throws: Boom.self) { try results[1].get() }
        for rank in [0, 2, 3] {
            #expect(throws: RankFailure.peerFailed(rank: 1)) { try results[rank].get() }
        }
    }

    @Test("a shared-memory segment is mapped by every opener and unlinked on close")
    func segmentSharedAndUnlinked() throws {
        let jobID = Self.uniqueJobID("segment")
        let creator = try SymmetricMemory.create(jobID: jobID, rankCount: 2, regionBytes: 100)
        let name = try #require(creator.segmentName)
        #expect(Self.segmentExists(name))
        let opener = try SymmetricMemory.open(jobID: jobID, rankCount: 2, regionBytes: 100, timeout: .seconds(5))
        creator.region(of: 1).storeBytes(of: 0x1234_5678, as: Int.self)
        #expect(opener.region(of: 1).load(as: Int.self) == 0x1234_5678)
        #expect(throws: DeepGEMMError.self) {
            try SymmetricMemory.open(jobID: jobID, rankCount: 2, regionBytes: 200, timeout: .seconds(5))
        }
        opener.close()
        #expect(Self.segmentExists(name), "only the creator unlinks")
        creator.close()
        #expect(!Self.segmentExists(name))
    }

    @Test("opening a segment nobody creates fails naming rank 0")
    func openWithoutCreatorTimesOut() {
        #expect(throws: RankFailure.timedOut(rank: 0)) {
            try SymmetricMemory.open(jobID: Self.uniqueJobID("absent"), rankCount: 2, regionBytes: 8, timeout: .milliseconds(100))
        }
    }

    @Test("bad job ids and rank counts are rejected")
    func invalidArguments() {
        #expect(throws: DeepGEMMError.invalidArgument(argument: "job_id", rule: "1 to 200 characters from letters, digits, '.', '_' and '-'")) {
            try SymmetricMemory.segmentName(jobID: "a/b", rankCount: 2)
        }
        #expect(throws: DeepGEMMError.self) { try SymmetricMemory.local(rankCount: 0, regionBytes: 8) }
        #expect(throws: DeepGEMMError.self) { try SymmetricMemory.local(rankCount: 73, regionBytes: 8) }
    }

    @Test("a process rank that dies is reported as dead by the ranks waiting for it")
    func deadProcessPeerIsReported() throws {
        let memory = try SymmetricMemory.create(jobID: Self.uniqueJobID("dead"), rankCount: 2, regionBytes: 64)
        defer { memory.close() }
        let group = try RankGroup(rank: 0, memory: memory, timeout: .seconds(20))
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("0.2"), nil]
        defer { for pointer in argv { free(pointer) } }
        try #require(posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0)
        // The fake peer joins as rank 1 but never reaches the barrier; it stays a zombie until reaped.
        memory.control.setPID(pid, of: 1)
        memory.control.setState(.joined, of: 1)
        let start = RankClock.now()
        #expect(throws: RankFailure.peerDied(rank: 1)) { try group.barrier() }
        let elapsed = Self.elapsedSeconds(since: start)
        #expect(elapsed >= 0.1 && elapsed < 10, "waited \(elapsed) s")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test("the process launcher passes rank variables and reports each exit status")
    func processLauncherReportsStatuses() throws {
        let statuses = try RankLauncher.runProcesses(
            ranks: 3, executable: "/bin/sh",
            arguments: ["-c", "[ \"$DG_MEGA_MOE_NUM_RANKS\" = 3 ] || exit 99; [ \"$DG_MEGA_MOE_RANK\" = 1 ] && kill -9 $$; exit $DG_MEGA_MOE_RANK"])
        #expect(statuses.map(\.rank) == [0, 1, 2])
        #expect(statuses.map(\.exitCode) == [0, nil, 2])
        #expect(statuses.map(\.signal) == [nil, SIGKILL, nil])
        #expect(statuses[0].succeeded && !statuses[2].succeeded)
    }

    @Test("normal exit, SIGINT and SIGTERM unlink the segments the process created; a signal still ends it",
          arguments: [0, SIGINT, SIGTERM])
    func exitPathsUnlinkSegments(signal: Int32) async throws {
        let jobID = Self.uniqueJobID("exit\(signal)")
        let name = try SymmetricMemory.segmentName(jobID: jobID, rankCount: 1)
        let expected: ExitTest.Condition = signal == 0 ? .success : .signal(signal)
        await #expect(processExitsWith: expected) { [jobID = jobID as String, signal = signal as Int32] in
            let memory = try SymmetricMemory.create(jobID: jobID, rankCount: 1, regionBytes: 64)
            guard let name = memory.segmentName, RankRuntimeTests.segmentExists(name) else { _exit(3) }
            if signal == 0 { exit(0) }
            // The test runner starts exit-test children with these signals blocked.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            raise(signal)
            _exit(4)
        }
        #expect(!Self.segmentExists(name))
    }

    @Test("unlinking a name early does not drop a later segment from the exit cleanup")
    func earlyUnlinkKeepsOtherSegmentsRegistered() async throws {
        let first = Self.uniqueJobID("early"), second = Self.uniqueJobID("later")
        let secondName = try SymmetricMemory.segmentName(jobID: second, rankCount: 1)
        await #expect(processExitsWith: .success) { [first = first as String, second = second as String] in
            let early = try SymmetricMemory.create(jobID: first, rankCount: 1, regionBytes: 8)
            early.unlinkName()
            let later = try SymmetricMemory.create(jobID: second, rankCount: 1, regionBytes: 8)
            early.close()
            guard let name = later.segmentName, RankRuntimeTests.segmentExists(name) else { _exit(3) }
            exit(0)
        }
        #expect(!Self.segmentExists(secondName))
    }

    @Test("a rank waiting on a peer's flag sees the data written before it, and names the peer on timeout")
    func flagWaitsNameThePeer() throws {
        let results = try RankLauncher.runThreads(ranks: 4, regionBytes: 64, timeout: .milliseconds(500)) { group in
            // Rank 3 never raises its flag (it is busy past the timeout), so rank 2 must fail naming it.
            if group.rank == 3 {
                usleep(1_200_000)
                return "busy"
            }
            group.localRegion.storeBytes(of: group.rank + 10, toByteOffset: 8, as: Int.self)
            group.localRegion.bindMemory(to: Atomic<Int>.self, capacity: 1).pointee.store(1, ordering: .releasing)
            let next = group.rank + 1
            let nextFlag = group.region(of: next).bindMemory(to: Atomic<Int>.self, capacity: 1)
            do {
                try group.wait(for: next) { nextFlag.pointee.load(ordering: .acquiring) == 1 }
            } catch let failure as RankFailure {
                return failure.description
            }
            return "read \(group.region(of: next).load(fromByteOffset: 8, as: Int.self))"
        }
        let outcomes = try results.map { try $0.get() }
        #expect(outcomes == ["read 11", "read 12", RankFailure.timedOut(rank: 3).description, "busy"])
    }

    @Test("two process ranks meet, exchange data, and the survivor names a rank whose process died")
    func processRanksMeetAndDetectDeath() async throws {
        let jobID = Self.uniqueJobID("procs")
        async let rank0 = #expect(processExitsWith: .exitCode(42)) { [jobID = jobID as String] in
            let group = try RankGroup.joinProcessGroup(RankEnvironment(rank: 0, rankCount: 2, jobID: jobID),
                                                       regionBytes: 64, timeout: .seconds(20))
            group.localRegion.storeBytes(of: 1000, as: Int.self)
            try group.barrier()
            guard group.region(of: 1).load(as: Int.self) == 1001 else { exit(1) }
            // `_exit` skips the atexit cleanup: the name must already be gone because rank 0 unlinks it
            // once every rank has attached.
            do { try group.barrier() } catch RankFailure.peerDied(rank: 1) { _exit(42) }
            _exit(2)
        }
        async let rank1 = #expect(processExitsWith: .exitCode(0)) { [jobID = jobID as String] in
            let group = try RankGroup.joinProcessGroup(RankEnvironment(rank: 1, rankCount: 2, jobID: jobID),
                                                       regionBytes: 64, timeout: .seconds(20))
            group.localRegion.storeBytes(of: 1001, as: Int.self)
            try group.barrier()
            _exit(0)
        }
        _ = await (rank0, rank1)
        #expect(!Self.segmentExists(try SymmetricMemory.segmentName(jobID: jobID, rankCount: 2)))
    }
}
