/// One ensemble member's replication core: FastLeaderElection plus Zab (discovery,
/// synchronization, broadcast) as an IO-free state machine, after ZooKeeper's QuorumPeer,
/// Leader/LearnerHandler and Follower/Observer/Learner.
///
/// Driver loop (single-threaded, like etcd's RawNode): create it from the persisted state,
/// call ``start(now:)``, then feed it ``received(_:from:now:)``, ``tick(now:)`` (every
/// tickTime/2 or more often), ``logSynced(through:now:)`` after each fsync, and, on the leader,
/// ``propose(_:now:)``. Run the returned ``ZabAction``s in order (see there for what must be
/// durable before what). Time is monotonic milliseconds; randomness (link session ids) comes
/// from `randomSeed`.
///
/// Phases: LOOKING runs ``LeaderElection``. The leader collects LEARNERINFO from a quorum and
/// picks `max(acceptedEpoch) + 1` (persisted as acceptedEpoch before LEADERINFO goes out),
/// collects ACKEPOCH from a quorum (aborting if a voter is ahead of it), persists currentEpoch,
/// syncs each learner with DIFF, TRUNC or SNAP plus NEWLEADER, and is established once a quorum
/// (itself included, after its own log is durable) acked NEWLEADER; learners that acked get
/// UPTODATE. Then `propose` creates zxid `epoch << 32 | counter`, followers log and ack after
/// fsync, and the leader commits in zxid order once a quorum of voters acked, sending COMMIT to
/// followers and INFORM to observers. Every member delivers committed entries in order.
/// PINGs go out every tickTime/2; a learner silent for syncLimit ticks (initLimit while
/// syncing) is dropped, a leader without a live quorum and a learner without its leader go back
/// to LOOKING.
public struct ZabPeer: Sendable {
    public internal(set) var configuration: ZabConfiguration
    let snapshots: any ZabSnapshotSource
    public internal(set) var election: LeaderElection
    public internal(set) var acceptedEpoch: Int64
    public internal(set) var currentEpoch: Int64
    /// Log entries after ``logBase``; the tail may not be durable yet.
    public internal(set) var log: [ZabLogEntry]
    /// The zxid before the first in-memory log entry (the applied snapshot, or a compaction).
    public internal(set) var logBase: Int64
    /// Every log entry up to here is durable.
    public internal(set) var syncedZxid: Int64
    /// Delivered (or loaded) up to here.
    public internal(set) var deliveredZxid: Int64
    var random: ZabRandom
    var follower: Follower?
    var leader: Leader?
    var started = false
    /// LEARNERINFOs that arrived while this member was still electing (a learner that decided
    /// first): handed to the leader side if this member leads, so that learner need not wait
    /// for its next attempt.
    var earlyLearnerInfos: [PeerID: (envelope: ZabEnvelope, at: Int64)] = [:]
    /// Protocol anomalies seen (impossible with correct peers); for tests and logs.
    public internal(set) var anomalies: [String] = []

    public var lastLoggedZxid: Int64 { log.last?.zxid ?? logBase }

    /// On a leader: the learners in broadcast (synced), by id; empty otherwise.
    public var syncedLearners: Set<PeerID> {
        guard let leader else { return [] }
        return Set(leader.learners.filter { $0.value.phase >= .newLeaderAcked }.keys)
    }

    /// On a leader: connected learners, and the followers and observers among them that are in
    /// broadcast (mntr's zk_learners, zk_synced_followers, zk_synced_observers).
    public var learnerSummary: (learners: Int, syncedFollowers: Int, syncedObservers: Int)? {
        guard let leader else { return nil }
        let synced = leader.learners.values.filter { $0.phase >= .newLeaderAcked }
        return (leader.learners.count, synced.filter { !$0.observer }.count, synced.filter(\.observer).count)
    }

    public var role: ZabRole {
        if let f = follower {
            return f.observer
                ? .observing(leader: f.leader, established: f.phase == .broadcast)
                : .following(leader: f.leader, established: f.phase == .broadcast)
        }
        if let l = leader { return .leading(epoch: l.epoch, established: l.phase == .broadcast) }
        return .looking
    }

    public init(
        configuration: ZabConfiguration, persisted: ZabPersistentState, snapshots: any ZabSnapshotSource,
        randomSeed: UInt64
    ) {
        self.configuration = configuration
        self.snapshots = snapshots
        self.election = LeaderElection(configuration: configuration.electionConfiguration)
        self.acceptedEpoch = persisted.acceptedEpoch
        self.currentEpoch = persisted.currentEpoch
        self.logBase = persisted.appliedZxid
        self.log = persisted.log.filter { $0.zxid > persisted.appliedZxid }
        precondition(zip(log, log.dropFirst()).allSatisfy { $0.zxid < $1.zxid }, "log zxids must increase")
        self.syncedZxid = log.last?.zxid ?? persisted.appliedZxid
        self.deliveredZxid = persisted.appliedZxid
        self.random = ZabRandom(state: randomSeed)
    }

    // MARK: Events

    /// The member starts (LOOKING).
    public mutating func start(now: Int64) -> [ZabAction] {
        precondition(isMember, "a member must be in its own configuration")
        precondition(!started, "start once")
        started = true
        var actions: [ZabAction] = []
        becomeLooking(now: now, actions: &actions)
        return actions
    }

    public mutating func received(_ message: QuorumMessage, from sender: PeerID, now: Int64) -> [ZabAction] {
        guard started, isMember, sender != configuration.id, configuration.members.all.contains(sender) else { return [] }
        var actions: [ZabAction] = []
        switch message {
        case .notification(let n):
            if let f = follower, sender == f.leader, f.phase == .connecting, n.leader != sender,
               n.electionEpoch >= election.logicalClock
            {
                // The member this one decided to follow backs another member in this round or a
                // later one: it will not lead. Look again now rather than wait initLimit ticks
                // for a LEADERINFO that never comes (an election decided without waiting for
                // every vote can end this way when a better vote reached only the chosen one).
                becomeLooking(now: now, actions: &actions)
            }
            let electionActions = election.notificationReceived(from: sender, n, now: now)
            handleElection(electionActions, now: now, actions: &actions)
        case .zab(let envelope):
            if follower != nil {
                followerReceived(envelope, from: sender, now: now, actions: &actions)
            } else if leader != nil {
                leaderReceived(envelope, from: sender, now: now, actions: &actions)
            } else if case .learnerInfo = envelope.message, envelope.seq == 0 {
                earlyLearnerInfos[sender] = (envelope, now)
            }
        }
        return actions
    }

    public mutating func tick(now: Int64) -> [ZabAction] {
        guard started, isMember else { return [] }
        var actions: [ZabAction] = []
        if follower != nil {
            followerTick(now: now, actions: &actions)
        } else if leader != nil {
            leaderTick(now: now, actions: &actions)
        } else {
            handleElection(election.tick(now: now), now: now, actions: &actions)
        }
        return actions
    }

    /// The connection to `peer` broke (its process died, or the network cut it): a learner whose
    /// leader it was looks for a new one at once, a leader forgets that learner (it reconnects
    /// with a new link). Without this event both notice only after syncLimit ticks of silence.
    public mutating func linkLost(_ peer: PeerID, now: Int64) -> [ZabAction] {
        guard started else { return [] }
        // The election stops waiting for its vote (and, while electing, may decide now).
        var actions = electionLinkLost(peer, now: now)
        if let f = follower, f.leader == peer {
            becomeLooking(now: now, actions: &actions)
        } else if leader != nil {
            leader!.learners[peer] = nil
        }
        return actions
    }

    /// The election link to `peer` broke: while electing, its vote is no longer waited for.
    public mutating func electionLinkLost(_ peer: PeerID, now: Int64) -> [ZabAction] {
        guard started, isMember else { return [] }
        var actions: [ZabAction] = []
        let electionActions = election.peerUnreachable(peer, now: now)
        if follower == nil, leader == nil { handleElection(electionActions, now: now, actions: &actions) }
        return actions
    }

    /// The driver made every log entry up to `zxid` durable. Report only for entries appended
    /// since the last `.truncateLog`/`.installSnapshot`; higher values are clamped.
    public mutating func logSynced(through zxid: Int64, now: Int64) -> [ZabAction] {
        let zxid = min(zxid, lastLoggedZxid)
        guard zxid > syncedZxid else { return [] }
        syncedZxid = zxid
        var actions: [ZabAction] = []
        if follower != nil {
            followerTryAck(actions: &actions)
        } else if leader != nil {
            leaderSelfSynced(now: now, actions: &actions)
        }
        return actions
    }

    public enum ProposeResult: Hashable, Sendable {
        case proposed(zxid: Int64, actions: [ZabAction])
        /// Not an established leader; `leader` is the member this one follows, if any.
        case notLeader(leader: PeerID?)
    }

    /// A committed reconfiguration: from now on `members` elect, form quorums and may link to
    /// this member. A leader drops learners that left; a member that left the ensemble stops
    /// taking part (it looks for a leader it can never join, as a removed ZooKeeper server does);
    /// a leader that is no longer a voter steps down so the voters elect one of their own.
    public mutating func reconfigure(_ members: QuorumMembers, now: Int64) -> [ZabAction] {
        configuration.members = members
        election.configuration.members = members
        var actions: [ZabAction] = []
        if leader != nil {
            for id in leader!.learners.keys where !members.all.contains(id) { leader!.learners[id] = nil }
            if !members.isVoter(configuration.id) { becomeLooking(now: now, actions: &actions) }
        } else if let f = follower, !members.all.contains(f.leader) || !members.all.contains(configuration.id) {
            becomeLooking(now: now, actions: &actions)
        } else if follower == nil, started, isMember {
            // Electing: count the votes again against the new membership (a new round).
            becomeLooking(now: now, actions: &actions)
        }
        return actions
    }

    /// Whether this member is in the current membership.
    public var isMember: Bool { configuration.members.all.contains(configuration.id) }

    /// A client write on the leader: the next zxid, logged and sent to followers. A
    /// reconfiguration passes its new membership: it commits only once a quorum of the old AND
    /// of the new voters holds it.
    public mutating func propose(_ bytes: [UInt8], now: Int64, newMembers: QuorumMembers? = nil) -> ProposeResult {
        guard var l = leader, l.phase == .broadcast else { return .notLeader(leader: follower?.leader) }
        var actions: [ZabAction] = []
        if l.counter >= 0xFFFF_FFFF {
            // ZooKeeper: the counter rolled over, force a new epoch.
            becomeLooking(now: now, actions: &actions)
            return .notLeader(leader: nil)
        }
        l.counter += 1
        let entry = ZabLogEntry(zxid: Zxid.make(epoch: l.epoch, counter: l.counter), bytes: bytes)
        log.append(entry)
        l.outstanding.append(Leader.Proposal(zxid: entry.zxid, acks: [], newMembers: newMembers))
        actions.append(.appendLog([entry]))
        leader = l
        for (id, handler) in l.learners.sorted(by: { $0.key < $1.key })
        where !handler.observer && handler.phase >= .synced {
            sendToLearner(id, .proposal(entry), actions: &actions)
        }
        return .proposed(zxid: entry.zxid, actions: actions)
    }

    /// The caller took a snapshot including everything up to `zxid` (≤ ``deliveredZxid``): the
    /// core forgets log entries up to there. Learners further behind will get SNAP.
    public mutating func compactLog(through zxid: Int64) {
        precondition(zxid <= deliveredZxid, "only delivered entries can be compacted")
        guard zxid > logBase else { return }
        log.removeFirst(log.firstIndex { $0.zxid > zxid } ?? log.count)
        logBase = zxid
        syncedZxid = max(syncedZxid, zxid)
    }

    // MARK: Shared helpers

    mutating func becomeLooking(now: Int64, actions: inout [ZabAction]) {
        follower = nil
        leader = nil
        actions.append(.roleChanged(.looking))
        let electionActions = election.start(lastZxid: lastLoggedZxid, peerEpoch: currentEpoch, now: now)
        handleElection(electionActions, now: now, actions: &actions)
    }

    mutating func handleElection(_ electionActions: [LeaderElection.Action], now: Int64, actions: inout [ZabAction]) {
        for action in electionActions {
            switch action {
            case .send(let to, let n):
                actions.append(.send(to: to, .notification(n)))
            case .decided(let leaderID, let state, _, _):
                switch state {
                case .leading:
                    startLeading(now: now, actions: &actions)
                case .following, .observing:
                    startLearning(leader: leaderID, observer: state == .observing, now: now, actions: &actions)
                case .looking:
                    preconditionFailure("an election never decides LOOKING")
                }
            }
        }
    }

    /// Index of the first log entry with a zxid above `zxid`.
    func logIndex(after zxid: Int64) -> Int {
        var low = 0
        var high = log.count
        while low < high {
            let mid = (low + high) / 2
            if log[mid].zxid <= zxid { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func logContains(_ zxid: Int64) -> Bool {
        let index = logIndex(after: zxid) - 1
        return index >= 0 && log[index].zxid == zxid
    }

    mutating func deliver(through zxid: Int64, actions: inout [ZabAction]) {
        guard zxid > deliveredZxid else { return }
        var index = logIndex(after: deliveredZxid)
        while index < log.count, log[index].zxid <= zxid {
            actions.append(.deliver(log[index]))
            deliveredZxid = log[index].zxid
            index += 1
        }
    }

    mutating func appendEntries(_ entries: [ZabLogEntry], actions: inout [ZabAction]) -> Bool {
        var fresh: [ZabLogEntry] = []
        var last = lastLoggedZxid
        for entry in entries where entry.zxid > lastLoggedZxid {
            guard entry.zxid > last else { return false }
            last = entry.zxid
            fresh.append(entry)
        }
        guard !fresh.isEmpty else { return true }
        log.append(contentsOf: fresh)
        actions.append(.appendLog(fresh))
        return true
    }

    mutating func truncate(after zxid: Int64, actions: inout [ZabAction]) -> Bool {
        guard zxid >= deliveredZxid else {
            anomaly("TRUNC to \(Zxid.describe(zxid)) below delivered \(Zxid.describe(deliveredZxid))")
            return false
        }
        log.removeSubrange(logIndex(after: zxid)...)
        syncedZxid = min(syncedZxid, zxid)
        actions.append(.truncateLog(after: zxid))
        return true
    }

    /// Records something a correct peer never sends (tests assert there are none); the caller
    /// then drops the link.
    mutating func anomaly(_ text: String) {
        if anomalies.count < 20 { anomalies.append("member \(configuration.id): \(text)") }
    }
}
