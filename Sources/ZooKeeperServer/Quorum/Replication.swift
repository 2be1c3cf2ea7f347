import Foundation
import Logging
import NIOCore
import NIOPosix
import ZooKeeperProtocol
import ZooKeeperServerCore
import ZooKeeperStorage

/// A member's replication state, owned by its ``ServerDriver`` and touched only on its loop:
/// the IO-free ``ZabPeer`` (election and Zab), the two peer transports, and the bookkeeping that
/// joins them to the client-facing ``ServerCore``.
final class Replication: @unchecked Sendable {
    var settings: QuorumSettings
    var zab: ZabPeer
    let epochFiles: EpochFiles
    let snapshots: SnapshotStore
    let logger: Logger
    let loop: EventLoop
    let partitionFile: String
    var electionTransport: PeerTransport!
    var quorumTransport: PeerTransport!
    /// The role Zab reported last.
    var role: ZabRole = .looking
    /// The member this one follows (or observes).
    var leaderId: PeerID?
    /// When the current election began, for the log line that reports its length.
    var lookingSince: NIODeadline? = .now()
    /// On a leader: follower client connections, as connections of the leader's core.
    var forwardedConnections: [ConnectionID: (peer: PeerID, remote: UInt64)] = [:]
    var forwardedByRemote: [PeerID: [UInt64: ConnectionID]] = [:]
    /// The core asked for a snapshot while proposals were in flight.
    var snapshotWanted = false
    var lastTouchReport = NIODeadline.now()
    var lastPartitionCheck = NIODeadline.uptimeNanoseconds(0)

    init(
        settings: QuorumSettings, tickTime: Int, dataDirectory: String, forceSync: Bool, recovery: Storage.Recovery,
        snapshots: SnapshotStore, loop: EventLoop, logger: Logger
    ) throws {
        self.settings = settings
        self.epochFiles = EpochFiles(directory: dataDirectory, forceSync: forceSync)
        self.snapshots = snapshots
        self.logger = logger
        self.loop = loop
        self.partitionFile = (dataDirectory as NSString).appendingPathComponent("zksh-partition")
        let epochs = try epochFiles.read()
        let voters = Set(settings.members.filter { !$0.observer }.map(\.id))
        let observers = Set(settings.members.filter(\.observer).map(\.id))
        let configuration = ZabConfiguration(
            id: settings.myid, members: QuorumMembers(voters: voters, observers: observers),
            tickTime: Int64(max(1, tickTime)), initLimit: Int64(settings.initLimit),
            syncLimit: Int64(settings.syncLimit), finalizeWait: Int64(settings.finalizeWait))
        let base = recovery.snapshot?.zxid ?? 0
        let persisted = ZabPersistentState(
            acceptedEpoch: epochs.acceptedEpoch, currentEpoch: epochs.currentEpoch, appliedZxid: base,
            log: recovery.transactions.filter { $0.zxid > base }.map { ZabLogEntry(zxid: $0.zxid, bytes: $0.bytes) })
        var seed = SystemRandomNumberGenerator()
        zab = ZabPeer(
            configuration: configuration, persisted: persisted, snapshots: DiskSnapshotSource(store: snapshots),
            randomSeed: seed.next())
        logger.info("member \(settings.myid) of \(voters.sorted())\(observers.isEmpty ? "" : " with observers \(observers.sorted())"); accepted epoch \(epochs.acceptedEpoch), current epoch \(epochs.currentEpoch), last logged zxid 0x\(String(zab.lastLoggedZxid, radix: 16))")
    }

    func peers(_ port: KeyPath<QuorumSettings.Member, Int>) -> [PeerID: PeerTransport.Peer] {
        var result: [PeerID: PeerTransport.Peer] = [:]
        for member in settings.members {
            result[member.id] = .init(
                host: member.host, port: member[keyPath: port], addresses: PeerTransport.addresses(of: member.host))
        }
        return result
    }

    /// Binds the quorum and election ports. Off the loop.
    func listen(driver: ServerDriver) throws {
        electionTransport = PeerTransport(
            kind: "election", selfId: settings.myid, loop: loop, peers: peers(\.electionPort), logger: logger,
            onMessage: { [weak driver] peer, message in driver?.peerMessage(message, from: peer) },
            onLinkLost: { [weak driver] peer in driver?.peerElectionLinkLost(peer) })
        quorumTransport = PeerTransport(
            kind: "quorum", selfId: settings.myid, loop: loop, peers: peers(\.quorumPort), logger: logger,
            onMessage: { [weak driver] peer, message in driver?.peerMessage(message, from: peer) },
            onLinkLost: { [weak driver] peer in driver?.peerLinkLost(peer) })
        let me = settings.me
        try electionTransport.listen(host: me.host, port: me.electionPort)
        try quorumTransport.listen(host: me.host, port: me.quorumPort)
    }

    func close() -> [EventLoopFuture<Void>] {
        [electionTransport?.close(), quorumTransport?.close()].compactMap { $0 }
    }

    /// Monotonic milliseconds, Zab's clock.
    static func now() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }

    /// A snapshot holds committed state only: a leader waits until its proposals are delivered.
    func canSnapshot(_ core: ServerCore) -> Bool {
        switch role {
        case .leading: return core.lastZxid == zab.deliveredZxid
        case .following, .observing: return core.lastZxid <= zab.deliveredZxid
        case .looking: return core.lastZxid <= zab.deliveredZxid
        }
    }

    /// A snapshot of the delivered state is durable: the log entries it covers leave memory.
    func snapshotWritten(zxid: Int64) {
        let through = min(zxid, zab.deliveredZxid)
        if through > zab.logBase { zab.compactLog(through: through) }
    }

    var roleName: String {
        switch role {
        case .leading(_, true): return "leader"
        case .following(_, true): return "follower"
        case .observing(_, true): return "observer"
        case .looking, .leading, .following, .observing: return "looking"
        }
    }

    /// A committed reconfig: Zab, the links and the files follow the new membership. ZooKeeper's
    /// files: the membership goes to `zoo.cfg.dynamic.<version>` beside zoo.cfg, and zoo.cfg
    /// loses its server lines and points at it, so a restart uses the current membership.
    func adopt(_ membership: DynamicConfiguration, now: Int64) -> [ZabAction] {
        guard membership.version > settings.configurationVersion else { return [] }
        settings.members = membership.servers
        settings.configurationVersion = membership.version
        logger.notice("membership version \(String(membership.version, radix: 16)): voters \(membership.voters.sorted())\(membership.observers.isEmpty ? "" : ", observers \(membership.observers.sorted())")")
        electionTransport.setPeers(peers(\.electionPort))
        quorumTransport.setPeers(peers(\.quorumPort))
        if let file = settings.configurationFile { writeConfigurationFiles(membership, next: file) }
        guard !membership.voters.isEmpty else { return [] }
        let actions = zab.reconfigure(QuorumMembers(voters: membership.voters, observers: membership.observers), now: now)
        if !zab.isMember { logger.notice("this member was removed from the ensemble; it no longer takes part") }
        return actions
    }

    func writeConfigurationFiles(_ membership: DynamicConfiguration, next configurationFile: String) {
        let directory = (configurationFile as NSString).deletingLastPathComponent
        let name = (configurationFile as NSString).lastPathComponent + ".dynamic.\(String(membership.version, radix: 16))"
        let dynamicPath = (directory as NSString).appendingPathComponent(name)
        do {
            try (membership.text + "\n").write(toFile: dynamicPath, atomically: true, encoding: .utf8)
            let text = try String(contentsOfFile: configurationFile, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.hasPrefix("server.") && !trimmed.hasPrefix("dynamicConfigFile")
            }
            while lines.last == "" { lines.removeLast() }
            lines.append("dynamicConfigFile=\(dynamicPath)")
            try (lines.joined(separator: "\n") + "\n").write(toFile: configurationFile, atomically: true, encoding: .utf8)
        } catch {
            logger.error("cannot write the new membership to \(dynamicPath) and \(configurationFile): \(error)")
        }
    }

    /// The member's role and figures for srvr and mntr, as ZooKeeper shows them.
    func describe(into context: inout FourLetterWordContext, core: ServerCore) {
        switch core.role {
        case .leader: context.mode = "leader"
        case .follower: context.mode = settings.me.observer ? "observer" : "follower"
        case .readOnly: context.mode = "read-only"
        case .standalone, .notServing:
            context.mode = "looking"
            context.serving = false
        }
        context.quorumFigures.append(("zk_peer_state", "\(roleName == "looking" ? "looking" : roleName == "leader" ? "leading" : roleName == "observer" ? "observing" : "following") - \(roleName == "looking" ? "election" : "broadcast")"))
        context.quorumFigures.append(("zk_current_epoch", "\(zab.currentEpoch)"))
        if let learners = zab.learnerSummary {
            context.quorumFigures += [
                ("zk_learners", "\(learners.learners)"),
                ("zk_synced_followers", "\(learners.syncedFollowers)"),
                ("zk_synced_non_voting_followers", "0"),
                ("zk_synced_observers", "\(learners.syncedObservers)"),
                ("zk_pending_syncs", "0"),
            ]
        }
    }

    /// Reads the partition file (ids whose traffic this member drops), at most every 100 ms.
    func checkPartitionFile() {
        let now = NIODeadline.now()
        guard now - lastPartitionCheck >= .milliseconds(100) else { return }
        lastPartitionCheck = now
        var blocked: Set<PeerID> = []
        if let text = try? String(contentsOfFile: partitionFile, encoding: .utf8) {
            for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "\t" }) {
                if let id = PeerID(word), id != settings.myid { blocked.insert(id) }
            }
        }
        if blocked != electionTransport.blocked {
            logger.notice(blocked.isEmpty ? "partition healed" : "partitioned from members \(blocked.sorted())")
            electionTransport.setBlocked(blocked)
            quorumTransport.setBlocked(blocked)
        }
    }
}

/// The newest snapshot file, for a leader that must send SNAP (it holds committed state only).
struct DiskSnapshotSource: ZabSnapshotSource {
    let store: SnapshotStore

    func currentSnapshot() -> ZabSnapshot {
        do {
            guard let snapshot = try store.latest() else { return ZabSnapshot(zxid: 0, bytes: []) }
            return ZabSnapshot(zxid: snapshot.zxid, bytes: snapshot.bytes)
        } catch {
            preconditionFailure("cannot read the snapshot a learner needs: \(error)")
        }
    }
}
