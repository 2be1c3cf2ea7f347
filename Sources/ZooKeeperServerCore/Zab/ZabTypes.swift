/// zxid helpers: a zxid is `epoch << 32 | counter`.
public enum Zxid {
    public static func make(epoch: Int64, counter: Int64) -> Int64 { (epoch << 32) | (counter & 0xFFFF_FFFF) }
    public static func epoch(_ zxid: Int64) -> Int64 { zxid >> 32 }
    public static func counter(_ zxid: Int64) -> Int64 { zxid & 0xFFFF_FFFF }
    public static func describe(_ zxid: Int64) -> String { "\(epoch(zxid)).\(counter(zxid))" }
}

/// One transaction as the replication layer sees it: a zxid and opaque bytes (for zksh, a
/// `Transaction.encoded()`).
public struct ZabLogEntry: Hashable, Sendable, CustomStringConvertible {
    public var zxid: Int64
    public var bytes: [UInt8]

    public init(zxid: Int64, bytes: [UInt8]) {
        self.zxid = zxid
        self.bytes = bytes
    }

    public var description: String { "<\(Zxid.describe(zxid))>" }
}

/// The caller's applied state as bytes, including every transaction up to `zxid`.
public struct ZabSnapshot: Hashable, Sendable {
    public var zxid: Int64
    public var bytes: [UInt8]

    public init(zxid: Int64, bytes: [UInt8]) {
        self.zxid = zxid
        self.bytes = bytes
    }
}

/// Produces a snapshot of the caller's applied state. The core asks only when it is leading and
/// must send SNAP. The snapshot holds delivered transactions only (its zxid is at most
/// ``ZabPeer/deliveredZxid``) and no older than the log (its zxid is at least ``ZabPeer/logBase``):
/// the entries after it follow from the log. An in-memory driver returns exactly the delivered
/// state; a disk-backed one may return its newest snapshot file.
public protocol ZabSnapshotSource: Sendable {
    func currentSnapshot() -> ZabSnapshot
}

/// What survives a restart, handed to ``ZabPeer/init(configuration:persisted:snapshots:randomSeed:)``.
public struct ZabPersistentState: Hashable, Sendable {
    /// ZooKeeper's `acceptedEpoch` file: the newest epoch this member agreed to (LEADERINFO).
    public var acceptedEpoch: Int64
    /// ZooKeeper's `currentEpoch` file: the newest epoch whose NEWLEADER this member acked.
    public var currentEpoch: Int64
    /// The zxid of the state the caller loaded (its snapshot); 0 for an empty state. Everything
    /// up to it is committed and already applied, so it is never delivered again.
    public var appliedZxid: Int64
    /// The durable log entries after `appliedZxid`, in zxid order. They may include proposals
    /// that were never committed; the core delivers them only once a leader confirms them.
    public var log: [ZabLogEntry]

    public init(acceptedEpoch: Int64 = 0, currentEpoch: Int64 = 0, appliedZxid: Int64 = 0, log: [ZabLogEntry] = []) {
        self.acceptedEpoch = acceptedEpoch
        self.currentEpoch = currentEpoch
        self.appliedZxid = appliedZxid
        self.log = log
    }
}

/// How a leader brings a learner's log in line with its history (LearnerHandler.syncFollower).
public enum ZabSyncMode: Hashable, Sendable {
    /// The learner's log is a prefix of the leader's history: only entries follow.
    case diff
    /// Drop every log entry after this zxid, then the entries follow.
    case trunc(Int64)
    /// Replace the state with this snapshot (and drop the log), then the entries after it follow.
    case snap(ZabSnapshot)
}

/// A message between two members' Zab layers (our own wire format; the client port is the only
/// ZooKeeper-compatible one). Names follow ZooKeeper's `Leader` packet types.
public enum ZabMessage: Hashable, Sendable {
    /// Learner → leader: FOLLOWERINFO / OBSERVERINFO, with the learner's accepted epoch.
    case learnerInfo(acceptedEpoch: Int64, observer: Bool)
    /// Leader → learner: the new epoch.
    case leaderInfo(epoch: Int64)
    /// Learner → leader: ACKEPOCH with the learner's current epoch and last logged zxid.
    case ackEpoch(currentEpoch: Int64, lastZxid: Int64)
    /// Leader → learner: DIFF / TRUNC / SNAP and the history entries that follow.
    case sync(ZabSyncMode, entries: [ZabLogEntry])
    /// Leader → learner: NEWLEADER; `zxid` is the last history entry the learner was sent.
    case newLeader(epoch: Int64, zxid: Int64)
    /// Learner → leader: ACK of NEWLEADER, once the synced log and the current epoch are durable.
    case newLeaderAck(zxid: Int64)
    /// Leader → learner: UPTODATE; everything up to `committedZxid` is committed.
    case upToDate(committedZxid: Int64)
    /// Leader → follower: PROPOSAL.
    case proposal(ZabLogEntry)
    /// Follower → leader: ACK; cumulative (every proposal up to `zxid` is durable).
    case ack(zxid: Int64)
    /// Leader → follower: COMMIT.
    case commit(zxid: Int64)
    /// Leader → observer: INFORM (a committed entry).
    case inform(ZabLogEntry)
    /// Heartbeat, both ways (the learner answers the leader's).
    case ping
}

/// A Zab message on a learner link. The learner opens a link with a random `session` and
/// LEARNERINFO at `seq` 0; each direction numbers its messages 0, 1, 2…. A duplicate (lower
/// `seq`) is ignored; a gap (higher `seq`) means the link is broken, like a reset TCP connection.
/// Over TCP the driver never sees either.
public struct ZabEnvelope: Hashable, Sendable {
    public var session: UInt64
    public var seq: UInt64
    public var message: ZabMessage

    public init(session: UInt64, seq: UInt64, message: ZabMessage) {
        self.session = session
        self.seq = seq
        self.message = message
    }
}

/// Everything one member sends another.
public enum QuorumMessage: Hashable, Sendable {
    case notification(Notification)
    case zab(ZabEnvelope)
}

/// A member's role as seen by its driver.
public enum ZabRole: Hashable, Sendable {
    case looking
    /// `established`: UPTODATE received; the member delivers committed transactions.
    case following(leader: PeerID, established: Bool)
    case observing(leader: PeerID, established: Bool)
    /// `established`: a quorum acked NEWLEADER; the leader accepts ``ZabPeer/propose(_:now:)``.
    case leading(epoch: Int64, established: Bool)
}

/// Actions for the driver, to be executed IN ORDER:
/// - `.persistEpochs`, `.truncateLog` and `.installSnapshot` are durable before the driver
///   executes the next action (they precede sends that depend on them).
/// - `.appendLog` appends without waiting; the driver makes the entries durable (fsync) and then
///   calls ``ZabPeer/logSynced(through:now:)``. Acks wait for that call, never for the append.
/// - `.deliver` comes only after the transaction is committed, in zxid order, exactly once per
///   incarnation; the driver applies it to its state before passing the next event.
public enum ZabAction: Hashable, Sendable {
    case persistEpochs(acceptedEpoch: Int64, currentEpoch: Int64)
    case truncateLog(after: Int64)
    /// Replace the applied state and drop the whole log; the snapshot must be durable.
    case installSnapshot(ZabSnapshot)
    case appendLog([ZabLogEntry])
    case send(to: PeerID, QuorumMessage)
    case deliver(ZabLogEntry)
    case roleChanged(ZabRole)
}

/// Ensemble and timing configuration (zoo.cfg's `tickTime`, `initLimit`, `syncLimit`).
public struct ZabConfiguration: Hashable, Sendable {
    public var id: PeerID
    public var members: QuorumMembers
    /// ms.
    public var tickTime: Int64
    /// Ticks a learner may take to connect and sync (and a new leader to gather its quorums).
    public var initLimit: Int64
    /// Ticks a learner may be silent in broadcast before it (or the leader) gives up.
    public var syncLimit: Int64
    /// See ``LeaderElection/Configuration``.
    public var finalizeWait: Int64
    public var maxNotificationInterval: Int64

    public init(
        id: PeerID, members: QuorumMembers, tickTime: Int64 = 2000, initLimit: Int64 = 10, syncLimit: Int64 = 5,
        finalizeWait: Int64 = 200, maxNotificationInterval: Int64 = 60_000
    ) {
        self.id = id
        self.members = members
        self.tickTime = tickTime
        self.initLimit = initLimit
        self.syncLimit = syncLimit
        self.finalizeWait = finalizeWait
        self.maxNotificationInterval = maxNotificationInterval
    }

    var electionConfiguration: LeaderElection.Configuration {
        .init(
            id: id, members: members, finalizeWait: finalizeWait, minNotificationInterval: finalizeWait,
            maxNotificationInterval: maxNotificationInterval)
    }
}

/// SplitMix64, for link session ids; seeded by the driver.
struct ZabRandom: Sendable {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
