/// The leader side (Leader.java and LearnerHandler.java).
extension ZabPeer {
    struct Leader: Sendable {
        enum Phase: Int, Comparable, Sendable {
            /// Collecting LEARNERINFO from a quorum to pick the epoch (getEpochToPropose).
            case discovery
            /// LEADERINFO sent; collecting ACKEPOCH from a quorum (waitForEpochAck).
            case epochAck
            /// Syncing learners; collecting NEWLEADER ACKs from a quorum (waitForNewLeaderAck).
            case newLeaderAck
            /// Established.
            case broadcast

            static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
        }

        struct Handler: Sendable {
            enum Phase: Int, Comparable, Sendable {
                case info, leaderInfoSent, epochAcked, synced, newLeaderAcked, upToDate
                static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
            }
            var session: UInt64
            var observer: Bool
            var nextOut: UInt64 = 0
            var nextIn: UInt64 = 1
            var phase: Phase = .info
            var lastHeard: Int64
            var peerLastZxid: Int64 = 0
            var syncedTo: Int64 = 0
        }

        struct Proposal: Sendable {
            var zxid: Int64
            var acks: Set<PeerID>
            /// A reconfiguration's new membership, whose quorum must ack too.
            var newMembers: QuorumMembers?
        }

        var phase: Phase = .discovery
        var epoch: Int64 = -1
        var deadline: Int64
        var infos: [PeerID: Int64] = [:]
        var epochAcks: Set<PeerID> = []
        var newLeaderAcks: Set<PeerID> = []
        var newLeaderZxid: Int64 = 0
        var learners: [PeerID: Handler] = [:]
        var counter: Int64 = 0
        /// Proposals not yet committed, in zxid order.
        var outstanding: [Proposal] = []
        var committed: Int64 = 0
        var nextPing: Int64
        var nextQuorumCheck: Int64
    }

    mutating func startLeading(now: Int64, actions: inout [ZabAction]) {
        follower = nil
        var l = Leader(
            deadline: now + configuration.initLimit * configuration.tickTime, nextPing: now,
            nextQuorumCheck: now + configuration.tickTime)
        l.infos[configuration.id] = acceptedEpoch
        leader = l
        election.setState(.leading)
        actions.append(.roleChanged(role))
        leaderAdvance(now: now, actions: &actions)
        // Learners that decided before this member did.
        let early = earlyLearnerInfos
        earlyLearnerInfos = [:]
        for (id, item) in early.sorted(by: { $0.key < $1.key })
        where now - item.at <= configuration.initLimit * configuration.tickTime {
            leaderReceived(item.envelope, from: id, now: now, actions: &actions)
        }
    }

    mutating func sendToLearner(_ id: PeerID, _ message: ZabMessage, actions: inout [ZabAction]) {
        guard var handler = leader?.learners[id] else { return }
        actions.append(.send(to: id, .zab(ZabEnvelope(session: handler.session, seq: handler.nextOut, message: message))))
        handler.nextOut += 1
        leader!.learners[id] = handler
    }

    /// Moves through the start-up phases as far as the quorums gathered so far allow.
    mutating func leaderAdvance(now: Int64, actions: inout [ZabAction]) {
        let members = configuration.members
        let limit = configuration.initLimit * configuration.tickTime
        if leader?.phase == .discovery, let l = leader, members.isQuorum(l.infos.keys) {
            // getEpochToPropose: one more than any accepted epoch in the quorum.
            let epoch = (l.infos.values.max() ?? 0) + 1
            acceptedEpoch = epoch
            actions.append(.persistEpochs(acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch))
            leader!.epoch = epoch
            leader!.phase = .epochAck
            leader!.deadline = now + limit
            leader!.epochAcks = [configuration.id]
            actions.append(.roleChanged(role))
            for (id, handler) in l.learners.sorted(by: { $0.key < $1.key }) where handler.phase == .info {
                leader!.learners[id]!.phase = .leaderInfoSent
                sendToLearner(id, .leaderInfo(epoch: epoch), actions: &actions)
            }
        }
        if leader?.phase == .epochAck, let l = leader, members.isQuorum(l.epochAcks) {
            currentEpoch = l.epoch
            actions.append(.persistEpochs(acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch))
            leader!.phase = .newLeaderAck
            leader!.deadline = now + limit
            leader!.newLeaderZxid = lastLoggedZxid
            leader!.committed = deliveredZxid
            for (id, handler) in l.learners.sorted(by: { $0.key < $1.key }) where handler.phase == .epochAcked {
                syncLearner(id, actions: &actions)
            }
            if syncedZxid >= lastLoggedZxid { leader!.newLeaderAcks.insert(configuration.id) }
        }
        if leader?.phase == .newLeaderAck, let l = leader, members.isQuorum(l.newLeaderAcks) {
            // Established: the history up to NEWLEADER is committed.
            leader!.phase = .broadcast
            leader!.committed = l.newLeaderZxid
            leader!.nextQuorumCheck = now + configuration.tickTime
            actions.append(.roleChanged(role))
            deliver(through: l.newLeaderZxid, actions: &actions)
            for (id, handler) in l.learners.sorted(by: { $0.key < $1.key }) where handler.phase == .newLeaderAcked {
                leader!.learners[id]!.phase = .upToDate
                sendToLearner(id, .upToDate(committedZxid: l.newLeaderZxid), actions: &actions)
            }
        }
    }

    /// LearnerHandler.syncFollower: DIFF, TRUNC or SNAP, the entries, then NEWLEADER.
    mutating func syncLearner(_ id: PeerID, actions: inout [ZabAction]) {
        guard let l = leader, let handler = l.learners[id] else { return }
        // Observers get committed history only (later commits come as INFORM); followers also
        // get the outstanding proposals (later ones are forwarded).
        let limit = handler.observer ? (l.phase == .broadcast ? l.committed : l.newLeaderZxid) : lastLoggedZxid
        let decision = Self.chooseSync(
            peerLastZxid: handler.peerLastZxid, limit: limit, logBase: logBase,
            contains: { self.logContains($0) },
            previous: { zxid in
                let index = self.logIndex(after: zxid - 1) - 1
                return index >= 0 ? self.log[index].zxid : self.logBase
            })
        var mode = decision
        let from: Int64
        switch decision {
        case .diff: from = min(handler.peerLastZxid, limit)
        case .trunc(let zxid): from = zxid
        case .snap:
            let snapshot = snapshots.currentSnapshot()
            precondition(
                snapshot.zxid >= logBase && snapshot.zxid <= deliveredZxid,
                "the snapshot must hold delivered transactions only, and the log everything after it")
            mode = .snap(snapshot)
            from = snapshot.zxid
        }
        let entries = Array(log[logIndex(after: from)..<logIndex(after: limit)])
        leader!.learners[id]!.phase = .synced
        leader!.learners[id]!.syncedTo = limit
        sendToLearner(id, .sync(mode, entries: entries), actions: &actions)
        sendToLearner(id, .newLeader(epoch: l.epoch, zxid: limit), actions: &actions)
    }

    /// The sync decision for a learner whose last logged zxid is `peerLastZxid`, syncing it up to
    /// `limit` from a log holding entries after `logBase`; `previous(z)` is the largest logged
    /// zxid below `z` (or `logBase`). `.snap` carries a placeholder snapshot.
    /// - equal: empty DIFF; ahead: TRUNC to `limit`; inside the log (or at its base): DIFF;
    ///   inside the log's range but not in it (an uncommitted proposal of an old epoch): TRUNC to
    ///   the previous logged zxid, then DIFF; before the log: SNAP.
    public static func chooseSync(
        peerLastZxid peer: Int64, limit: Int64, logBase: Int64, contains: (Int64) -> Bool,
        previous: (Int64) -> Int64
    ) -> ZabSyncMode {
        if peer == limit { return .diff }
        if peer > limit { return .trunc(limit) }
        if peer == logBase || (peer > logBase && contains(peer)) { return .diff }
        if peer > logBase { return .trunc(previous(peer)) }
        return .snap(ZabSnapshot(zxid: logBase, bytes: []))
    }

    mutating func leaderReceived(_ envelope: ZabEnvelope, from sender: PeerID, now: Int64, actions: inout [ZabAction]) {
        guard let l = leader else { return }
        let members = configuration.members
        if case .learnerInfo(let learnerAcceptedEpoch, let observer) = envelope.message, envelope.seq == 0 {
            guard l.learners[sender]?.session != envelope.session else { return }  // duplicate
            guard observer == members.observers.contains(sender) else { return }
            // A new link replaces any old one from that member.
            leader!.learners[sender] = Leader.Handler(session: envelope.session, observer: observer, lastHeard: now)
            if l.phase == .discovery {
                if members.isVoter(sender) { leader!.infos[sender] = learnerAcceptedEpoch }
                leaderAdvance(now: now, actions: &actions)
            } else {
                leader!.learners[sender]!.phase = .leaderInfoSent
                sendToLearner(sender, .leaderInfo(epoch: l.epoch), actions: &actions)
            }
            return
        }
        guard var handler = l.learners[sender], handler.session == envelope.session else { return }
        if envelope.seq < handler.nextIn { return }
        if envelope.seq > handler.nextIn {
            leader!.learners[sender] = nil  // the link is broken; the learner will time out
            return
        }
        handler.nextIn += 1
        handler.lastHeard = now
        leader!.learners[sender] = handler

        func dropLearner(_ text: String) {
            anomaly("from learner \(sender): \(text)")
            leader!.learners[sender] = nil
        }

        switch envelope.message {
        case .ackEpoch(let peerCurrentEpoch, let peerLastZxid):
            guard handler.phase == .leaderInfoSent else { return dropLearner("ACKEPOCH in \(handler.phase)") }
            leader!.learners[sender]!.phase = .epochAcked
            leader!.learners[sender]!.peerLastZxid = peerLastZxid
            if l.phase == .epochAck {
                if members.isVoter(sender) {
                    // waitForEpochAck: a voter more recent than the leader means a wrong election.
                    if (peerCurrentEpoch, peerLastZxid) > (currentEpoch, lastLoggedZxid) {
                        becomeLooking(now: now, actions: &actions)
                        return
                    }
                    leader!.epochAcks.insert(sender)
                }
                leaderAdvance(now: now, actions: &actions)
            } else {
                syncLearner(sender, actions: &actions)
            }
        case .newLeaderAck(let zxid):
            guard handler.phase == .synced, zxid == handler.syncedTo else { return dropLearner("bad NEWLEADER ACK") }
            leader!.learners[sender]!.phase = .newLeaderAcked
            if l.phase == .newLeaderAck {
                if members.isVoter(sender) { leader!.newLeaderAcks.insert(sender) }
                leaderAdvance(now: now, actions: &actions)
            } else {
                if members.isVoter(sender) { leaderAck(from: sender, through: zxid, actions: &actions) }
                leader!.learners[sender]!.phase = .upToDate
                sendToLearner(sender, .upToDate(committedZxid: leader!.committed), actions: &actions)
            }
        case .ack(let zxid):
            guard handler.phase >= .newLeaderAcked, !handler.observer else { return dropLearner("early ACK") }
            if l.phase == .broadcast { leaderAck(from: sender, through: zxid, actions: &actions) }
        case .ping:
            break
        case .learnerInfo, .leaderInfo, .sync, .newLeader, .upToDate, .proposal, .commit, .inform:
            dropLearner("unexpected message")
        }
    }

    mutating func leaderSelfSynced(now: Int64, actions: inout [ZabAction]) {
        guard let l = leader else { return }
        switch l.phase {
        case .discovery, .epochAck:
            break
        case .newLeaderAck:
            if syncedZxid >= l.newLeaderZxid {
                leader!.newLeaderAcks.insert(configuration.id)
                leaderAdvance(now: now, actions: &actions)
            }
        case .broadcast:
            leaderAck(from: configuration.id, through: syncedZxid, actions: &actions)
        }
    }

    /// Records a cumulative ack and commits, in zxid order, every proposal a quorum acked.
    mutating func leaderAck(from id: PeerID, through zxid: Int64, actions: inout [ZabAction]) {
        guard var l = leader, l.phase == .broadcast else { return }
        for index in l.outstanding.indices where l.outstanding[index].zxid <= zxid {
            l.outstanding[index].acks.insert(id)
        }
        var committedNow: [Int64] = []
        while let first = l.outstanding.first, configuration.members.isQuorum(first.acks),
            first.newMembers?.isQuorum(first.acks) ?? true
        {
            l.outstanding.removeFirst()
            l.committed = first.zxid
            committedNow.append(first.zxid)
        }
        leader = l
        guard !committedNow.isEmpty else { return }
        for zxid in committedNow {
            for (learner, handler) in l.learners.sorted(by: { $0.key < $1.key }) where handler.phase >= .synced {
                if handler.observer {
                    if zxid > handler.syncedTo, let index = Optional(logIndex(after: zxid) - 1), index >= 0 {
                        sendToLearner(learner, .inform(log[index]), actions: &actions)
                    }
                } else {
                    sendToLearner(learner, .commit(zxid: zxid), actions: &actions)
                }
            }
        }
        deliver(through: l.committed, actions: &actions)
    }

    mutating func leaderTick(now: Int64, actions: inout [ZabAction]) {
        guard let l = leader else { return }
        // Drop silent learners (the LearnerHandler's socket timeout).
        for (id, handler) in l.learners {
            let limit =
                (handler.phase >= .newLeaderAcked ? configuration.syncLimit : configuration.initLimit)
                * configuration.tickTime
            if now - handler.lastHeard > limit { leader!.learners[id] = nil }
        }
        if l.phase != .broadcast {
            if now >= l.deadline {
                becomeLooking(now: now, actions: &actions)
                return
            }
        } else if now >= l.nextQuorumCheck {
            leader!.nextQuorumCheck = now + configuration.tickTime
            var live: Set<PeerID> = [configuration.id]
            for (id, handler) in leader!.learners where handler.phase >= .newLeaderAcked { live.insert(id) }
            if !configuration.members.isQuorum(live) {
                // "Not sufficient followers synced": back to LOOKING.
                becomeLooking(now: now, actions: &actions)
                return
            }
        }
        if now >= l.nextPing {
            leader!.nextPing = now + max(configuration.tickTime / 2, 1)
            for id in leader!.learners.keys.sorted() { sendToLearner(id, .ping, actions: &actions) }
        }
    }
}
