import Foundation
import Logging
import NIOCore
import ZooKeeperProtocol
import ZooKeeperServerCore
import ZooKeeperStorage

/// The driver of an ensemble member: runs ``ZabPeer``'s actions against the disk, the peer links
/// and the core. All on the driver's loop.
///
/// - A leader's core makes transactions as a standalone one does; each `.append` becomes a Zab
///   proposal, and each delivered (committed) zxid releases the replies held for it.
/// - A follower's core forwards writes; delivered transactions are applied to it.
/// - Leaving a role closes every client connection; a core that holds proposals never committed
///   is rebuilt from the newest snapshot and the delivered log entries.
extension ServerDriver {
    func startReplication() {
        guard let replication else { return }
        if let saved = core.currentConfiguration, saved.version > replication.settings.configurationVersion {
            // The snapshot holds a newer membership than the files (a reconfig committed before
            // they were rewritten).
            _ = replication.adopt(saved, now: Replication.now())
        }
        core.installConfiguration(replication.settings.dynamicConfiguration, now: Self.clock())
        guard replication.zab.isMember else {
            logger.warning("member \(replication.settings.myid) is not in the membership (version \(String(replication.settings.configurationVersion, radix: 16))); it takes no part")
            return
        }
        replication.checkPartitionFile()
        runZab(replication.zab.start(now: Replication.now()))
    }

    func replicationTick() {
        guard let replication, !stopping else { return }
        replication.checkPartitionFile()
        runZab(replication.zab.tick(now: Replication.now()))
        core.syncedMembers = replication.zab.syncedLearners
        if core.role == .follower,
            NIODeadline.now() - replication.lastTouchReport >= .milliseconds(Int64(max(10, settings.core.tickTime / 2)))
        {
            replication.lastTouchReport = .now()
            let touched = core.takeTouchedSessions()
            if !touched.isEmpty, let leader = replication.leaderId {
                replication.quorumTransport.send(.learner(.touch(sessions: touched)), to: leader)
            }
        }
    }

    /// A leader's core made a transaction: propose it.
    func propose(zxid: Int64, bytes: [UInt8]) {
        guard let replication else { return }
        var newMembers: QuorumMembers?
        if Self.transactionType(bytes) == .reconfig, let membership = Self.membership(in: bytes), !membership.voters.isEmpty {
            newMembers = QuorumMembers(voters: membership.voters, observers: membership.observers)
        }
        switch replication.zab.propose(bytes, now: Replication.now(), newMembers: newMembers) {
        case .proposed(let proposed, let actions):
            guard proposed == zxid else {
                fail("the core made transaction 0x\(String(zxid, radix: 16)) but Zab proposed 0x\(String(proposed, radix: 16))")
                return
            }
            runZab(actions)
        case .notLeader:
            // Zab left leadership (its role change follows and resets the core).
            logger.warning("transaction 0x\(String(zxid, radix: 16)) was not proposed: not leading any more")
        }
    }

    func logSynced(through zxid: Int64) {
        guard let replication else { return }
        runZab(replication.zab.logSynced(through: zxid, now: Replication.now()))
    }

    // MARK: Forwarding

    func forwardToLeader(_ id: ConnectionID, _ request: ForwardedRequest) {
        guard let replication, let leader = replication.leaderId else { return }
        replication.quorumTransport.send(.learner(.forward(connection: id.rawValue, request)), to: leader)
    }

    /// A reply of the leader's core to a follower's client.
    func forwardedConnectionSend(_ id: ConnectionID, _ frame: ByteBuffer) {
        guard let replication, let target = replication.forwardedConnections[id] else { return }
        replication.quorumTransport.send(
            .learner(.reply(connection: target.remote, frame: Array(frame.readableBytesView))), to: target.peer)
    }

    func forwardedConnectionClose(_ id: ConnectionID) {
        guard let replication, let target = replication.forwardedConnections.removeValue(forKey: id) else { return }
        replication.forwardedByRemote[target.peer]?[target.remote] = nil
        replication.quorumTransport.send(.learner(.close(connection: target.remote)), to: target.peer)
        run(core.connectionClosed(id, now: Self.clock()))
    }

    /// A client connection of this member closed: the leader forgets its copy.
    func clientConnectionClosed(_ id: ConnectionID) {
        guard let replication, core.role == .follower, let leader = replication.leaderId else { return }
        replication.quorumTransport.send(.learner(.connectionClosed(connection: id.rawValue)), to: leader)
    }

    func forwardedConnection(peer: PeerID, remote: UInt64) -> ConnectionID {
        let replication = replication!
        if let id = replication.forwardedByRemote[peer]?[remote] { return id }
        let id = ConnectionID(rawValue: nextConnectionID)
        nextConnectionID += 1
        replication.forwardedConnections[id] = (peer, remote)
        replication.forwardedByRemote[peer, default: [:]][remote] = id
        return id
    }

    func dropForwardedConnections(of peer: PeerID?) {
        guard let replication else { return }
        for (id, target) in replication.forwardedConnections where peer == nil || target.peer == peer {
            replication.forwardedConnections[id] = nil
            replication.forwardedByRemote[target.peer]?[target.remote] = nil
            run(core.connectionClosed(id, now: Self.clock()))
        }
    }

    // MARK: Peer events

    func peerMessage(_ message: PeerMessage, from peer: PeerID) {
        loop.preconditionInEventLoop()
        guard let replication, !stopping else { return }
        let now = Self.clock()
        switch message {
        case .quorum(let quorumMessage):
            if logger.logLevel <= .trace { logger.trace("from \(peer): \(quorumMessage)") }
            runZab(replication.zab.received(quorumMessage, from: peer, now: Replication.now()))
        case .learner(let learnerMessage):
            let leading: Bool
            if case .leading(_, true) = replication.role { leading = true } else { leading = false }
            let fromLeader = replication.leaderId == peer && core.role == .follower
            switch learnerMessage {
            case .forward(let remote, let request):
                guard leading else { return }
                let id = forwardedConnection(peer: peer, remote: remote)
                switch request {
                case .connect(let connect):
                    run(core.forwardedConnectReceived(id, remoteAddress: "member \(peer)", request: connect, now: now))
                case .request(let sessionId, let authIds, let header, let body):
                    run(core.forwardedRequestReceived(
                        id, remoteAddress: "member \(peer)", sessionId: sessionId, authIds: authIds, header: header,
                        body: ByteBuffer(bytes: body), now: now))
                }
            case .connectionClosed(let remote):
                guard leading, let id = replication.forwardedByRemote[peer]?[remote] else { return }
                replication.forwardedByRemote[peer]?[remote] = nil
                replication.forwardedConnections[id] = nil
                run(core.connectionClosed(id, now: now))
            case .touch(let sessions):
                guard leading else { return }
                core.touchSessions(sessions, now: now)
            case .reply(let remote, let frame):
                guard fromLeader else { return }
                run(core.forwardedReplyReceived(ConnectionID(rawValue: remote), frame: ByteBuffer(bytes: frame), now: now))
            case .close(let remote):
                guard fromLeader else { return }
                run(core.forwardedCloseReceived(ConnectionID(rawValue: remote)))
            }
        }
    }

    func peerLinkLost(_ peer: PeerID) {
        loop.preconditionInEventLoop()
        guard let replication, !stopping else { return }
        if case .leading = replication.role { dropForwardedConnections(of: peer) }
        runZab(replication.zab.linkLost(peer, now: Replication.now()))
    }

    func peerElectionLinkLost(_ peer: PeerID) {
        loop.preconditionInEventLoop()
        guard let replication, !stopping else { return }
        runZab(replication.zab.electionLinkLost(peer, now: Replication.now()))
    }

    // MARK: Zab actions

    /// Runs Zab's actions in order (see ``ZabAction`` for what must be durable before what).
    func runZab(_ actions: [ZabAction]) {
        guard let replication, !actions.isEmpty else { return }
        var establish: ZabRole?
        var reportSynced = false
        for action in actions {
            switch action {
            case .persistEpochs(let accepted, let current):
                do {
                    try replication.epochFiles.write(acceptedEpoch: accepted, currentEpoch: current)
                } catch {
                    return fail("cannot write the epoch files: \(error)")
                }
            case .truncateLog(let zxid):
                do {
                    try committer.truncate(after: zxid)
                    logger.info("log truncated after 0x\(String(zxid, radix: 16)) to match the leader")
                    reportSynced = true
                } catch {
                    return fail("cannot truncate the log: \(error)")
                }
            case .installSnapshot(let snapshot):
                do {
                    try storage.snapshots.write(zxid: snapshot.zxid, bytes: snapshot.bytes)
                    try committer.truncate(after: snapshot.zxid)
                    let clock = Self.clock()
                    core = try ServerCore(configuration: settings.core, snapshot: snapshot.bytes, transactions: [], now: clock)
                    core.installConfiguration(replication.settings.dynamicConfiguration, now: clock)
                    run(core.setRole(.notServing, now: clock))
                    logger.info("installed the leader's snapshot 0x\(String(snapshot.zxid, radix: 16)) (\(snapshot.bytes.count) bytes)")
                    reportSynced = true
                } catch {
                    return fail("cannot install the leader's snapshot 0x\(String(snapshot.zxid, radix: 16)): \(error)")
                }
            case .appendLog(let entries):
                for entry in entries {
                    do {
                        try committer.append(zxid: entry.zxid, bytes: entry.bytes)
                    } catch {
                        return fail("cannot append transaction 0x\(String(entry.zxid, radix: 16)) to the log: \(error)")
                    }
                }
            case .send(let peer, let message):
                if logger.logLevel <= .trace { logger.trace("to \(peer): \(message)") }
                switch message {
                case .notification:
                    replication.electionTransport.send(.quorum(message), to: peer)
                case .zab:
                    replication.quorumTransport.send(.quorum(message), to: peer)
                }
            case .deliver(let entry):
                do {
                    run(try core.applyCommitted(zxid: entry.zxid, bytes: entry.bytes, now: Self.clock()))
                } catch {
                    return fail("cannot apply committed transaction 0x\(String(entry.zxid, radix: 16)): \(error)")
                }
                if Self.transactionType(entry.bytes) == .reconfig, let membership = Self.membership(in: entry.bytes) {
                    core.reconfigCommitted()
                    if case .following(let leader, _) = replication.role, !membership.servers.contains(where: { $0.id == leader }) {
                        // The leader removed itself: its reply to the client that asked comes
                        // right after this COMMIT on the same link, so take the new membership
                        // (and with it the search for a new leader) a moment later.
                        loop.scheduleTask(in: .milliseconds(20)) { [self] in
                            if let replication = self.replication { runZab(replication.adopt(membership, now: Replication.now())) }
                        }
                    } else {
                        runZab(replication.adopt(membership, now: Replication.now()))
                    }
                }
                if replication.snapshotWanted, replication.canSnapshot(core), !snapshotInProgress {
                    replication.snapshotWanted = false
                    takeSnapshot()
                }
            case .roleChanged(let role):
                establish = roleChanged(role)
            }
        }
        if let establish {
            // After the deliveries that came with it: the core serves from the delivered state.
            let clock = Self.clock()
            switch establish {
            case .leading(let epoch, _):
                run(core.beginEpoch(epoch, now: clock))
            case .following, .observing:
                run(core.setRole(.follower, now: clock))
            case .looking:
                break
            }
        }
        if reportSynced {
            runZab(replication.zab.logSynced(through: committer.log.durableZxid, now: Replication.now()))
        }
    }

    /// Reacts to a role change at once; returns an established role the core takes on once the
    /// deliveries that come with it have been applied.
    func roleChanged(_ role: ZabRole) -> ZabRole? {
        guard let replication else { return nil }
        let previous = replication.role
        replication.role = role
        let clock = Self.clock()
        let since = replication.lookingSince.map { " after \((NIODeadline.now() - $0).nanoseconds / 1_000_000) ms" } ?? ""
        switch role {
        case .looking:
            replication.leaderId = nil
            replication.lookingSince = .now()
            dropForwardedConnections(of: nil)
            if previous != .looking { logger.notice("LOOKING (was \(describe(previous)))") }
            if core.lastZxid > replication.zab.deliveredZxid { rebuildCore() }
            run(core.setRole(replication.settings.readOnlyModeEnabled ? .readOnly : .notServing, now: clock))
            return nil
        case .following(let leader, let established), .observing(let leader, let established):
            replication.leaderId = leader
            if !established {
                run(core.setRole(.notServing, now: clock))
                return nil
            }
            logger.notice("\(describe(role)) member \(leader)\(since), at zxid 0x\(String(replication.zab.deliveredZxid, radix: 16))")
            replication.lookingSince = nil
            return role
        case .leading(let epoch, let established):
            replication.leaderId = replication.settings.myid
            if !established {
                run(core.setRole(.notServing, now: clock))
                return nil
            }
            logger.notice("LEADING epoch \(epoch)\(since), at zxid 0x\(String(replication.zab.lastLoggedZxid, radix: 16))")
            replication.lookingSince = nil
            return role
        }
    }

    /// The op code in a logged transaction's header (client id, cxid, zxid, time, type).
    static func transactionType(_ bytes: [UInt8]) -> OpCode? {
        guard bytes.count >= 32 else { return nil }
        let raw = bytes[28..<32].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return OpCode(rawValue: Int32(bitPattern: raw))
    }

    /// The membership a reconfig transaction sets.
    static func membership(in bytes: [UInt8]) -> DynamicConfiguration? {
        guard let transaction = try? Transaction(bytes: bytes), case .setData(_, let data, _) = transaction.body,
            let data
        else { return nil }
        return try? DynamicConfiguration(text: String(decoding: data, as: UTF8.self))
    }

    func describe(_ role: ZabRole) -> String {
        switch role {
        case .looking: return "LOOKING"
        case .following: return "FOLLOWING"
        case .observing: return "OBSERVING"
        case .leading: return "LEADING"
        }
    }

    /// Drops proposals a deposed leader applied but never saw committed: the core is loaded
    /// again from the newest snapshot and the delivered log entries.
    func rebuildCore() {
        guard let replication else { return }
        let delivered = replication.zab.deliveredZxid
        do {
            let snapshot = try storage.snapshots.latest()
            let base = snapshot?.zxid ?? 0
            var entries: [(zxid: Int64, bytes: [UInt8])] = []
            if base < replication.zab.logBase {
                entries += try storage.log.readEntries(after: base)
                    .filter { $0.zxid <= replication.zab.logBase }.map { ($0.zxid, $0.bytes) }
            }
            entries += replication.zab.log.filter { $0.zxid > max(base, replication.zab.logBase) && $0.zxid <= delivered }
                .map { ($0.zxid, $0.bytes) }
            core = try ServerCore(configuration: settings.core, snapshot: snapshot?.bytes, transactions: entries, now: Self.clock())
            core.installConfiguration(replication.settings.dynamicConfiguration, now: Self.clock())
            logger.info("dropped uncommitted proposals: state reloaded at zxid 0x\(String(delivered, radix: 16))")
        } catch {
            fail("cannot reload the committed state: \(error)")
        }
    }
}
