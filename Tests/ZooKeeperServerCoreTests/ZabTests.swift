import Testing
@testable import ZooKeeperServerCore

/// Zab rules: the sync choice on plain values, and quorum behaviour on a quiet simulated
/// ensemble (see ``EnsembleSimulation``) where the test decides who crashes.
@Suite(.timeLimit(.minutes(1))) struct ZabTests {
    func z(_ epoch: Int64, _ counter: Int64) -> Int64 { Zxid.make(epoch: epoch, counter: counter) }

    func choose(peer: Int64, log: [Int64], base: Int64, limit: Int64? = nil) -> ZabSyncMode {
        ZabPeer.chooseSync(
            peerLastZxid: peer, limit: limit ?? log.last ?? base, logBase: base,
            contains: { log.contains($0) },
            previous: { zxid in log.last(where: { $0 < zxid }) ?? base })
    }

    @Test func zxidIsEpochAndCounter() {
        #expect(z(3, 7) == (3 << 32 | 7))
        #expect(Zxid.epoch(z(3, 7)) == 3 && Zxid.counter(z(3, 7)) == 7)
    }

    @Test func syncChoosesDiffTruncOrSnap() {
        let log = [z(1, 4), z(1, 5), z(2, 1), z(2, 2)]
        let base = z(1, 3)
        // Up to date, or behind but inside the log (or at its base): DIFF.
        #expect(choose(peer: z(2, 2), log: log, base: base) == .diff)
        #expect(choose(peer: z(1, 5), log: log, base: base) == .diff)
        #expect(choose(peer: base, log: log, base: base) == .diff)
        // Ahead of the leader: TRUNC to the leader's last zxid.
        #expect(choose(peer: z(2, 5), log: log, base: base) == .trunc(z(2, 2)))
        // An uncommitted proposal of an old epoch the leader never saw: TRUNC to the entry
        // before it (then DIFF the rest).
        #expect(choose(peer: z(1, 7), log: log, base: base) == .trunc(z(1, 5)))
        // Behind the log's start (compacted into a snapshot): SNAP.
        guard case .snap = choose(peer: z(1, 2), log: log, base: base) else {
            Issue.record("expected SNAP")
            return
        }
        guard case .snap = choose(peer: 0, log: log, base: base) else {
            Issue.record("expected SNAP for an empty learner")
            return
        }
    }

    /// A quiet ensemble: no drops, reorders or random faults.
    func quiet(voters: Int, observers: Int = 0, seed: UInt64 = 7) throws -> EnsembleSimulation {
        var parameters = SimulationParameters()
        parameters.voters = voters
        parameters.observers = observers
        var simulation = EnsembleSimulation(seed: seed, parameters: parameters)
        simulation.faultsEnabled = false
        for id in simulation.ids { try simulation.restart(id) }
        try run(&simulation, millis: 2_000)
        #expect(simulation.converged(), "the ensemble did not settle")
        return simulation
    }

    func run(_ simulation: inout EnsembleSimulation, millis: Int64) throws {
        let end = simulation.now + millis
        while simulation.now < end {
            try simulation.advance(by: 10)
            try simulation.checkInvariants()
        }
    }

    func leader(of simulation: EnsembleSimulation) -> PeerID? {
        simulation.ids.first {
            if case .leading(_, true)? = simulation.member[$0]!.peer?.role { return true }
            return false
        }
    }

    @Test func commitNeedsAQuorumAndTheLeaderStepsDownWithoutOne() throws {
        var simulation = try quiet(voters: 3)
        let leaderID = try #require(leader(of: simulation))
        try simulation.clientWrite()
        try run(&simulation, millis: 100)
        #expect(simulation.acknowledged.count == 1)
        let delivered = simulation.member[leaderID]!.state.entries.count

        // Both followers die: the leader logs and fsyncs a proposal, but alone it is no quorum.
        for id in simulation.ids where id != leaderID { simulation.crash(id) }
        try simulation.clientWrite()
        try run(&simulation, millis: 200)
        #expect(simulation.acknowledged.count == 1)
        #expect(simulation.member[leaderID]!.state.entries.count == delivered)
        #expect(simulation.member[leaderID]!.peer!.syncedZxid > simulation.member[leaderID]!.peer!.deliveredZxid)

        // Within syncLimit ticks (5 × 100 ms) plus one quorum check it stops leading.
        try run(&simulation, millis: 700)
        #expect(simulation.member[leaderID]!.peer!.role == .looking)
        #expect(simulation.member[leaderID]!.peer!.propose([1], now: simulation.now) == .notLeader(leader: nil))

        // Back with a quorum, the proposal survives (it is in the most up-to-date log) and commits.
        for id in simulation.ids where id != leaderID { try simulation.restart(id) }
        try run(&simulation, millis: 3_000)
        #expect(simulation.converged())
        #expect(simulation.member[leaderID]!.state.entries.count == delivered + 1)
        try simulation.quiesce()
    }

    @Test func oneFollowerIsEnoughForAQuorumOfThree() throws {
        var simulation = try quiet(voters: 3)
        let leaderID = try #require(leader(of: simulation))
        simulation.crash(simulation.ids.first { $0 != leaderID }!)
        for _ in 0..<5 { try simulation.clientWrite() }
        try run(&simulation, millis: 200)
        #expect(simulation.acknowledged.count == 5)
        #expect(leader(of: simulation) == leaderID)
    }

    @Test func observersLearnButDoNotCount() throws {
        var simulation = try quiet(voters: 3, observers: 1)
        let observer: PeerID = 4
        guard case .observing(_, true)? = simulation.member[observer]!.peer?.role else {
            Issue.record("the observer is \(String(describing: simulation.member[observer]!.peer?.role))")
            return
        }
        let leaderID = try #require(leader(of: simulation))
        for _ in 0..<3 { try simulation.clientWrite() }
        try run(&simulation, millis: 200)
        #expect(simulation.acknowledged.count == 3)
        #expect(simulation.member[observer]!.state.entries == simulation.member[leaderID]!.state.entries)

        // Leader + observer is not a quorum of the voters.
        for id in [PeerID(1), 2, 3] where id != leaderID { simulation.crash(id) }
        try simulation.clientWrite()
        try run(&simulation, millis: 200)
        #expect(simulation.acknowledged.count == 3)
        try run(&simulation, millis: 700)
        #expect(simulation.member[leaderID]!.peer!.role == .looking)
    }

    @Test func aRestartedMemberIsSyncedByDiffTruncOrSnap() throws {
        var simulation = try quiet(voters: 3)
        let leaderID = try #require(leader(of: simulation))
        let lagging = simulation.ids.first { $0 != leaderID }!
        simulation.crash(lagging)
        for _ in 0..<10 { try simulation.clientWrite() }
        try run(&simulation, millis: 200)
        // The leader snapshots and compacts: the lagging member is behind its log.
        simulation.compact(leaderID)
        let snapshotsBefore = simulation.statistics.snapshotsSent
        try simulation.restart(lagging)
        try run(&simulation, millis: 2_000)
        #expect(simulation.converged())
        #expect(simulation.statistics.snapshotsSent == snapshotsBefore + 1)
        #expect(simulation.member[lagging]!.state.entries == simulation.member[leaderID]!.state.entries)
    }

    @Test func aLeaderDoesNotCommitUnsyncedProposalsOfAnOldEpoch() throws {
        // The old leader logs a proposal nobody else sees, crashes before its fsync but the
        // write reaches its disk anyway; when it returns, the new leader TRUNCates it.
        var simulation = try quiet(voters: 3)
        let oldLeader = try #require(leader(of: simulation))
        for id in simulation.ids where id != oldLeader { simulation.group[id] = 1 }
        try simulation.clientWrite()
        #expect(simulation.member[oldLeader]!.storage.unsynced.count == 1)
        simulation.crash(oldLeader, keep: 1)
        simulation.heal()
        try run(&simulation, millis: 2_000)
        let newLeader = try #require(leader(of: simulation))
        #expect(newLeader != oldLeader)
        for _ in 0..<2 { try simulation.clientWrite() }
        try run(&simulation, millis: 200)
        let truncsBefore = simulation.statistics.truncs
        try simulation.restart(oldLeader)
        try run(&simulation, millis: 2_000)
        #expect(simulation.converged())
        #expect(simulation.statistics.truncs > truncsBefore)
        try simulation.quiesce()
    }
}
