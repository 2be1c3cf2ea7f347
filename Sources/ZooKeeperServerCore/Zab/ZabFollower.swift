/// The learner side (Follower/Observer/Learner.java): connect, agree on the epoch, sync, then
/// log/ack proposals (followers) or apply INFORMs (observers).
extension ZabPeer {
    struct Follower: Sendable {
        enum Phase: Int, Comparable, Sendable {
            /// LEARNERINFO sent, waiting for LEADERINFO.
            case connecting
            /// ACKEPOCH sent, waiting for the sync and NEWLEADER.
            case syncing
            /// NEWLEADER received (acked once durable), waiting for UPTODATE.
            case synced
            /// UPTODATE received.
            case broadcast

            static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
        }

        var leader: PeerID
        var observer: Bool
        var session: UInt64
        var nextOut: UInt64 = 0
        var nextIn: UInt64 = 0
        var phase: Phase = .connecting
        var epoch: Int64 = -1
        var lastHeard: Int64
        /// When LEARNERINFO last went out (it is sent again each tick until LEADERINFO comes).
        var lastAttempt: Int64
        /// NEWLEADER's zxid until its ACK is sent.
        var pendingNewLeader: Int64?
        var newLeaderAcked = false
        var ackedZxid: Int64 = 0
        var committed: Int64 = 0
    }

    mutating func startLearning(leader id: PeerID, observer: Bool, now: Int64, actions: inout [ZabAction]) {
        leader = nil
        earlyLearnerInfos = [:]
        follower = Follower(leader: id, observer: observer, session: random.next(), lastHeard: now, lastAttempt: now)
        election.setState(observer ? .observing : .following)
        actions.append(.roleChanged(role))
        sendToLeader(.learnerInfo(acceptedEpoch: acceptedEpoch, observer: observer), actions: &actions)
    }

    mutating func sendToLeader(_ message: ZabMessage, actions: inout [ZabAction]) {
        guard var f = follower else { return }
        actions.append(.send(to: f.leader, .zab(ZabEnvelope(session: f.session, seq: f.nextOut, message: message))))
        f.nextOut += 1
        follower = f
    }

    mutating func followerReceived(_ envelope: ZabEnvelope, from sender: PeerID, now: Int64, actions: inout [ZabAction]) {
        guard var f = follower, sender == f.leader, envelope.session == f.session else { return }
        if envelope.seq < f.nextIn { return }  // duplicate
        if envelope.seq > f.nextIn {
            // A message is missing: the link is broken.
            becomeLooking(now: now, actions: &actions)
            return
        }
        f.nextIn += 1
        f.lastHeard = now
        follower = f

        func protocolError(_ text: String) {
            anomaly("from leader \(sender): \(text)")
            becomeLooking(now: now, actions: &actions)
        }

        switch envelope.message {
        case .leaderInfo(let epoch):
            guard f.phase == .connecting else { return protocolError("LEADERINFO in \(f.phase)") }
            if epoch < acceptedEpoch {
                // ZooKeeper: "Leaders epoch is less than accepted epoch": look again.
                becomeLooking(now: now, actions: &actions)
                return
            }
            if epoch > acceptedEpoch {
                acceptedEpoch = epoch
                actions.append(.persistEpochs(acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch))
            }
            follower!.epoch = epoch
            follower!.phase = .syncing
            sendToLeader(.ackEpoch(currentEpoch: currentEpoch, lastZxid: lastLoggedZxid), actions: &actions)

        case .sync(let mode, let entries):
            guard f.phase == .syncing else { return protocolError("sync in \(f.phase)") }
            switch mode {
            case .diff:
                break
            case .trunc(let zxid):
                guard truncate(after: zxid, actions: &actions) else { return becomeLooking(now: now, actions: &actions) }
            case .snap(let snapshot):
                log = []
                logBase = snapshot.zxid
                syncedZxid = snapshot.zxid
                deliveredZxid = snapshot.zxid
                actions.append(.installSnapshot(snapshot))
            }
            guard appendEntries(entries, actions: &actions) else { return protocolError("sync entries out of order") }

        case .newLeader(let epoch, let zxid):
            guard f.phase == .syncing, epoch == f.epoch else { return protocolError("NEWLEADER in \(f.phase)") }
            guard zxid == lastLoggedZxid else { return protocolError("NEWLEADER \(Zxid.describe(zxid)) after a sync to \(Zxid.describe(lastLoggedZxid))") }
            follower!.phase = .synced
            follower!.pendingNewLeader = zxid
            followerTryAck(actions: &actions)

        case .upToDate(let committed):
            guard f.phase == .synced, f.newLeaderAcked else { return protocolError("UPTODATE before NEWLEADER was acked") }
            follower!.phase = .broadcast
            follower!.committed = max(f.committed, committed)
            actions.append(.roleChanged(role))
            deliver(through: min(follower!.committed, lastLoggedZxid), actions: &actions)

        case .proposal(let entry):
            guard !f.observer, f.phase >= .synced else { return protocolError("PROPOSAL in \(f.phase)") }
            guard entry.zxid > lastLoggedZxid, Zxid.epoch(entry.zxid) == f.epoch else {
                return protocolError("PROPOSAL \(Zxid.describe(entry.zxid)) after \(Zxid.describe(lastLoggedZxid))")
            }
            _ = appendEntries([entry], actions: &actions)

        case .commit(let zxid):
            guard !f.observer, f.phase >= .synced else { return protocolError("COMMIT in \(f.phase)") }
            guard zxid <= lastLoggedZxid else { return protocolError("COMMIT of unknown \(Zxid.describe(zxid))") }
            follower!.committed = max(f.committed, zxid)
            if f.phase == .broadcast { deliver(through: follower!.committed, actions: &actions) }

        case .inform(let entry):
            guard f.observer, f.phase >= .synced else { return protocolError("INFORM in \(f.phase)") }
            guard entry.zxid > lastLoggedZxid else { return protocolError("INFORM out of order") }
            _ = appendEntries([entry], actions: &actions)
            follower!.committed = entry.zxid
            if f.phase == .broadcast { deliver(through: entry.zxid, actions: &actions) }

        case .ping:
            sendToLeader(.ping, actions: &actions)

        case .learnerInfo, .ackEpoch, .newLeaderAck, .ack:
            protocolError("learner-to-leader message sent to a learner")
        }
    }

    /// Sends the NEWLEADER ACK once the synced log is durable (persisting currentEpoch first),
    /// then cumulative ACKs for durable proposals.
    mutating func followerTryAck(actions: inout [ZabAction]) {
        guard let f = follower, f.phase >= .synced else { return }
        if let zxid = f.pendingNewLeader {
            guard syncedZxid >= zxid else { return }
            if currentEpoch != f.epoch {
                currentEpoch = f.epoch
                actions.append(.persistEpochs(acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch))
            }
            follower!.pendingNewLeader = nil
            follower!.newLeaderAcked = true
            follower!.ackedZxid = zxid
            sendToLeader(.newLeaderAck(zxid: zxid), actions: &actions)
        }
        guard let g = follower, g.newLeaderAcked, !g.observer, syncedZxid > g.ackedZxid else { return }
        follower!.ackedZxid = syncedZxid
        sendToLeader(.ack(zxid: syncedZxid), actions: &actions)
    }

    /// LEARNERINFO goes out again every tickTime (at most every 200 ms) until LEADERINFO comes.
    mutating func followerTick(now: Int64, actions: inout [ZabAction]) {
        guard let f = follower else { return }
        let limit = (f.phase == .broadcast ? configuration.syncLimit : configuration.initLimit) * configuration.tickTime
        if now - f.lastHeard > limit {
            becomeLooking(now: now, actions: &actions)
            return
        }
        if f.phase == .connecting, now - f.lastAttempt >= min(configuration.tickTime, 200) {
            // The leader may not have been leading yet (it drops Zab traffic while it looks), or
            // the message was lost: try again on a new link, as ZooKeeper's learner reconnects.
            follower!.session = random.next()
            follower!.nextOut = 0
            follower!.nextIn = 0
            follower!.lastAttempt = now
            sendToLeader(.learnerInfo(acceptedEpoch: acceptedEpoch, observer: f.observer), actions: &actions)
        }
    }
}
