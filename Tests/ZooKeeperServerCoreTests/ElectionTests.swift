import Testing
@testable import ZooKeeperServerCore

/// FastLeaderElection rules, driven by hand: messages are delivered only where a test says so.
@Suite(.timeLimit(.minutes(1))) struct ElectionTests {
    let three = QuorumMembers(voters: [1, 2, 3])

    @Test func voteOrderingPrefersEpochThenZxidThenHighestId() {
        let members = QuorumMembers(voters: [1, 2, 3], observers: [4])
        func vote(_ id: PeerID, _ zxid: Int64, _ epoch: Int64) -> Vote { Vote(leader: id, zxid: zxid, peerEpoch: epoch) }
        // Equal credentials: the higher id wins, the lower never does.
        #expect(Vote.totalOrder(vote(3, 5, 1), isBetterThan: vote(2, 5, 1), members: members))
        #expect(!Vote.totalOrder(vote(2, 5, 1), isBetterThan: vote(3, 5, 1), members: members))
        #expect(!Vote.totalOrder(vote(3, 5, 1), isBetterThan: vote(3, 5, 1), members: members))
        // A higher zxid beats a higher id; a higher epoch beats a higher zxid.
        #expect(Vote.totalOrder(vote(1, 6, 1), isBetterThan: vote(3, 5, 1), members: members))
        #expect(Vote.totalOrder(vote(1, 1, 2), isBetterThan: vote(3, 9, 1), members: members))
        #expect(!Vote.totalOrder(vote(3, 9, 1), isBetterThan: vote(1, 1, 2), members: members))
        // An observer can never be the better vote.
        #expect(!Vote.totalOrder(vote(4, 99, 9), isBetterThan: vote(1, 0, 0), members: members))
    }

    /// A tiny network of election machines: pending messages are delivered in order, except to
    /// members listed as dead.
    struct Net {
        var machines: [PeerID: LeaderElection] = [:]
        var pending: [(from: PeerID, to: PeerID, Notification)] = []
        var decided: [PeerID: (leader: PeerID, state: PeerState)] = [:]
        var dead: Set<PeerID> = []
        var now: Int64 = 0

        init(members: QuorumMembers, ids: [PeerID]) {
            for id in ids {
                machines[id] = LeaderElection(configuration: .init(id: id, members: members))
            }
        }

        mutating func take(_ id: PeerID, _ actions: [LeaderElection.Action]) {
            for action in actions {
                switch action {
                case .send(let to, let n): pending.append((id, to, n))
                case .decided(let leader, let state, _, _): decided[id] = (leader, state)
                }
            }
        }

        mutating func start(_ id: PeerID, zxid: Int64 = 0, epoch: Int64 = 0) {
            let actions = machines[id]!.start(lastZxid: zxid, peerEpoch: epoch, now: now)
            take(id, actions)
        }

        /// Delivers everything pending, then lets `millis` pass in 10 ms ticks.
        mutating func run(millis: Int64) {
            let end = now + millis
            var deliveries = 0
            repeat {
                while !pending.isEmpty {
                    deliveries += 1
                    guard deliveries < 10_000 else {
                        Issue.record("a notification storm: \(pending.prefix(6))")
                        pending.removeAll()
                        return
                    }
                    let (from, to, n) = pending.removeFirst()
                    guard !dead.contains(to), machines[to] != nil else { continue }
                    let actions = machines[to]!.notificationReceived(from: from, n, now: now)
                    take(to, actions)
                }
                now += 10
                for id in machines.keys.sorted() where !dead.contains(id) {
                    let actions = machines[id]!.tick(now: now)
                    take(id, actions)
                }
            } while now < end
        }
    }

    @Test func electsTheHighestIdWhenLogsAreEqual() {
        var net = Net(members: three, ids: [1, 2, 3])
        for id in [PeerID(1), 2, 3] { net.start(id, zxid: 7, epoch: 1) }
        // Every voter votes for 3 in the same round: nothing better can come, so nobody waits
        // for finalizeWait (200 ms).
        net.run(millis: 10)
        #expect(net.decided[3]?.state == .leading)
        #expect(net.decided[1]?.leader == 3 && net.decided[1]?.state == .following)
        #expect(net.decided[2]?.leader == 3 && net.decided[2]?.state == .following)
    }

    @Test func theMostUpToDateMemberWinsOverAHigherId() {
        var net = Net(members: three, ids: [1, 2, 3])
        net.start(1, zxid: Zxid.make(epoch: 2, counter: 1), epoch: 2)
        net.start(2, zxid: Zxid.make(epoch: 1, counter: 9), epoch: 1)
        net.start(3, zxid: Zxid.make(epoch: 1, counter: 9), epoch: 1)
        net.run(millis: 400)
        #expect(net.decided[1]?.state == .leading)
        #expect(net.decided[2]?.leader == 1 && net.decided[3]?.leader == 1)
    }

    @Test func electionWithADeadMember() {
        var net = Net(members: three, ids: [1, 2, 3])
        net.dead = [3]
        net.start(1)
        net.start(2)
        net.run(millis: 400)
        #expect(net.decided[2]?.state == .leading)
        #expect(net.decided[1]?.leader == 2 && net.decided[1]?.state == .following)
        #expect(net.decided[3] == nil)
    }

    @Test func aQuorumWaitsForFinalizeWaitUnlessTheMissingVoterIsKnownUnreachable() {
        // Leader 3 crashed. Without news of it, 1 and 2 wait finalizeWait for its vote.
        var net = Net(members: three, ids: [1, 2, 3])
        net.dead = [3]
        net.start(1, zxid: 9, epoch: 1)
        net.start(2, zxid: 9, epoch: 1)
        net.run(millis: 150)
        #expect(net.decided.isEmpty)
        net.run(millis: 100)
        #expect(net.decided[2]?.state == .leading && net.decided[1]?.leader == 2)

        // Their links to 3 broke when it died: they decide as soon as they agree.
        net = Net(members: three, ids: [1, 2, 3])
        net.dead = [3]
        for id in [PeerID(1), 2] { net.take(id, net.machines[id]!.peerUnreachable(3, now: 0)) }
        #expect(net.decided.isEmpty)
        net.start(1, zxid: 9, epoch: 1)
        net.start(2, zxid: 9, epoch: 1)
        net.run(millis: 10)
        #expect(net.decided[2]?.state == .leading && net.decided[1]?.leader == 2)

        // A link that breaks while a quorum already agrees ends the wait at once.
        net = Net(members: three, ids: [1, 2, 3])
        net.dead = [3]
        net.start(1, zxid: 9, epoch: 1)
        net.start(2, zxid: 9, epoch: 1)
        net.run(millis: 50)
        #expect(net.decided.isEmpty)
        net.take(2, net.machines[2]!.peerUnreachable(3, now: net.now))
        #expect(net.decided[2]?.state == .leading)
        // Member 1 learns of the broken link too and follows.
        net.take(1, net.machines[1]!.peerUnreachable(3, now: net.now))
        #expect(net.decided[1]?.leader == 2)
    }

    @Test func noQuorumNoDecisionAndTheNotificationTimeoutBacksOff() {
        var net = Net(members: three, ids: [1, 2, 3])
        net.dead = [2, 3]
        net.start(1)
        let initial = net.pending.count
        #expect(initial == 2)
        net.pending.removeAll()
        // Re-sends after 200 ms, then 400, 800, 1600: 4 rounds in 3 s, not 15.
        net.run(millis: 3_000)
        #expect(net.decided.isEmpty)
        let resent = net.machines[1]!.currentNotification
        #expect(resent.state == .looking && resent.leader == 1)
        // Deliveries to dead members are dropped by `run`, so count what it re-sent instead.
        var machine = LeaderElection(configuration: .init(id: 1, members: three))
        var sends = machine.start(lastZxid: 0, peerEpoch: 0, now: 0).count
        for now in stride(from: Int64(10), through: 3_000, by: 10) { sends += machine.tick(now: now).count }
        #expect(sends == 2 + 2 * 4)
    }

    @Test func observerDoesNotVote() {
        let members = QuorumMembers(voters: [1, 2, 3], observers: [4])
        var net = Net(members: members, ids: [1, 2, 3, 4])
        // One voter and one observer are not a quorum.
        net.dead = [2, 3]
        net.start(1)
        net.start(4)
        net.run(millis: 1_000)
        #expect(net.decided.isEmpty)
        // The observer never became anyone's proposal.
        #expect(net.machines[1]!.proposal.leader == 1)
        // With a second voter, the voters elect and the observer observes.
        net.dead = []
        net.start(2)
        net.run(millis: 2_000)
        #expect(net.decided[2]?.state == .leading)
        #expect(net.decided[1]?.leader == 2)
        #expect(net.decided[4]?.leader == 2 && net.decided[4]?.state == .observing)
    }

    @Test func aLateMemberJoinsTheEstablishedLeader() {
        var net = Net(members: three, ids: [1, 2, 3])
        net.dead = [3]
        net.start(1)
        net.start(2)
        net.run(millis: 400)
        #expect(net.decided[2]?.state == .leading)
        // Member 3 comes back with a better log than anyone: it still joins leader 2, because
        // 1 and 2 answer as FOLLOWING/LEADING.
        net.dead = []
        net.start(3, zxid: 100, epoch: 5)
        net.run(millis: 400)
        #expect(net.decided[3]?.leader == 2 && net.decided[3]?.state == .following)
        #expect(net.machines[3]!.logicalClock == net.machines[2]!.logicalClock)
    }

    @Test func aHigherElectionEpochResetsTheRound() {
        var machine = LeaderElection(configuration: .init(id: 1, members: three))
        _ = machine.start(lastZxid: 50, peerEpoch: 1, now: 0)
        #expect(machine.logicalClock == 1)
        // Member 2 is in round 5 with a worse vote: adopt the round, keep our own vote.
        let actions = machine.notificationReceived(
            from: 2, Notification(leader: 2, zxid: 10, electionEpoch: 5, peerEpoch: 1, state: .looking), now: 10)
        #expect(machine.logicalClock == 5)
        #expect(machine.proposal.leader == 1)
        #expect(actions.count == 2)  // our vote, re-sent to both voters
        // A notification from an older round is answered and otherwise ignored.
        let reply = machine.notificationReceived(
            from: 3, Notification(leader: 3, zxid: 99, electionEpoch: 2, peerEpoch: 1, state: .looking), now: 20)
        #expect(reply == [.send(to: 3, machine.currentNotification)])
        #expect(machine.proposal.leader == 1)
    }
}

@Suite struct LoneVoterTests {
    struct NoSnapshots: ZabSnapshotSource {
        func currentSnapshot() -> ZabSnapshot { ZabSnapshot(zxid: 0, bytes: []) }
    }

    /// A one-voter ensemble elects itself after finalizeWait, and so does the last voter left
    /// by a reconfig that removed its leader.
    @Test func aLoneVoterLeads() {
        var election = LeaderElection(configuration: .init(id: 1, members: QuorumMembers(voters: [1])))
        #expect(election.start(lastZxid: 0, peerEpoch: 0, now: 0).isEmpty)
        let decided = election.tick(now: 250)
        #expect(decided.contains { if case .decided(1, .leading, _, _) = $0 { return true } else { return false } }, "\(decided)")

        var peer = ZabPeer(
            configuration: ZabConfiguration(id: 1, members: QuorumMembers(voters: [1, 3]), tickTime: 200),
            persisted: ZabPersistentState(), snapshots: NoSnapshots(), randomSeed: 1)
        _ = peer.start(now: 0)
        _ = peer.reconfigure(QuorumMembers(voters: [1]), now: 10)
        var roles: [ZabRole] = []
        for now in stride(from: Int64(20), through: 1000, by: 10) {
            for action in peer.tick(now: now) {
                if case .roleChanged(let role) = action { roles.append(role) }
                if case .appendLog = action { _ = peer.logSynced(through: peer.lastLoggedZxid, now: now) }
            }
        }
        #expect(roles.contains(.leading(epoch: 1, established: true)), "\(roles)")

        // A follower whose leader left the membership.
        var follower = ZabPeer(
            configuration: ZabConfiguration(id: 1, members: QuorumMembers(voters: [1, 2, 3]), tickTime: 200),
            persisted: ZabPersistentState(), snapshots: NoSnapshots(), randomSeed: 2)
        _ = follower.start(now: 0)
        _ = follower.received(.notification(Notification(leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, state: .following)), from: 2, now: 5)
        _ = follower.received(.notification(Notification(leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, state: .leading)), from: 3, now: 5)
        #expect(follower.role == .following(leader: 3, established: false), "\(follower.role)")
        var followerRoles: [ZabRole] = []
        for action in follower.reconfigure(QuorumMembers(voters: [1]), now: 10) {
            if case .roleChanged(let role) = action { followerRoles.append(role) }
        }
        for now in stride(from: Int64(20), through: 1000, by: 10) {
            for action in follower.tick(now: now) {
                if case .roleChanged(let role) = action { followerRoles.append(role) }
                if case .appendLog = action { _ = follower.logSynced(through: follower.lastLoggedZxid, now: now) }
            }
        }
        #expect(followerRoles.contains(.leading(epoch: 1, established: true)), "\(followerRoles)")
    }
}

/// A member that decided to follow a member which then backs someone else looks again at once.
@Suite struct AbandonedFollowerTests {
    struct NoSnapshots: ZabSnapshotSource {
        func currentSnapshot() -> ZabSnapshot { ZabSnapshot(zxid: 0, bytes: []) }
    }

    @Test func aFollowerWhoseChosenLeaderBacksAnotherLooksAgain() {
        var peer = ZabPeer(
            configuration: ZabConfiguration(id: 1, members: QuorumMembers(voters: [1, 2, 3]), tickTime: 2_000),
            persisted: ZabPersistentState(), snapshots: NoSnapshots(), randomSeed: 1)
        _ = peer.start(now: 0)
        func roles(_ actions: [ZabAction]) -> [ZabRole] {
            actions.compactMap { if case .roleChanged(let role) = $0 { return role } else { return nil } }
        }
        // Every voter votes for 3 in round 1: member 1 follows 3 without waiting.
        let vote3 = Notification(leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, state: .looking)
        _ = peer.received(.notification(vote3), from: 3, now: 10)
        let decided = roles(peer.received(.notification(vote3), from: 2, now: 11))
        #expect(decided.contains(.following(leader: 3, established: false)), "\(decided)")
        // A stale vote of 3's from an older round changes nothing.
        let stale = Notification(leader: 2, zxid: 0, electionEpoch: 0, peerEpoch: 0, state: .looking)
        #expect(roles(peer.received(.notification(stale), from: 3, now: 12)).isEmpty)
        // 3 then backs member 2 (a better vote reached only 3): 3 will not lead; 1 looks again.
        let vote2 = Notification(leader: 2, zxid: 5, electionEpoch: 1, peerEpoch: 0, state: .looking)
        let again = roles(peer.received(.notification(vote2), from: 3, now: 20))
        #expect(again == [.looking], "\(again)")
        #expect(peer.election.state == .looking)
    }
}
