import NIOCore
import ZooKeeperProtocol

/// Identifies one client connection. Chosen by the driver; unique while the connection is open.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "cnxn#\(self.rawValue)" }
}

/// Everything the core needs from zoo.cfg / system properties (the driver parses the file).
public struct ServerConfiguration: Sendable {
    /// myid; 1 for standalone (session ids start with it in the top byte).
    public var serverId: Int64 = 1
    /// ms
    public var tickTime: Int = 3000
    /// ms; nil = 2 * tickTime
    public var minSessionTimeout: Int? = nil
    /// ms; nil = 20 * tickTime
    public var maxSessionTimeout: Int? = nil
    /// maxClientCnxns; 0 = unlimited
    public var maxClientConnectionsPerHost: Int = 60
    /// jute.maxbuffer
    public var maxBuffer: Int = 0xfffff
    /// TTL nodes (zookeeper.extendedTypesEnabled)
    public var extendedTypesEnabled: Bool = false
    /// "super:<base64 sha1>"
    public var superDigest: String? = nil
    public var digestAuthenticationEnabled: Bool = true
    public var skipACL: Bool = false
    /// user -> password, from the JAAS Server section (DIGEST-MD5).
    public var saslDigestUsers: [String: String] = [:]
    /// ms
    public var containerCheckInterval: Int = 60_000
    /// znode.container.maxNeverUsedIntervalMs; 0 = never reap unused containers.
    public var containerMaxNeverUsedInterval: Int = 0
    /// znode.container.maxPerMinute: container and TTL deletions are spaced 60000 / this ms apart.
    public var containerMaxPerMinute: Int = 10_000
    /// zookeeper.enforceQuota: refuse creates and setData beyond a hard quota (QUOTAEXCEEDED).
    public var enforceQuota: Bool = false
    public var snapCount: Int = 100_000
    /// `reconfigEnabled`: clients (with WRITE on /zookeeper/config) may change the membership.
    public var reconfigEnabled = false

    public init() {}

    public var effectiveMinSessionTimeout: Int { self.minSessionTimeout ?? 2 * self.tickTime }
    public var effectiveMaxSessionTimeout: Int { self.maxSessionTimeout ?? 20 * self.tickTime }
}

/// The two clocks the core needs, passed in with every event. The core never reads a clock itself.
public struct ServerClock: Sendable, Hashable {
    /// Monotonic time, for session expiry buckets and the container check timer.
    public var monotonic: NIODeadline
    /// Wall-clock milliseconds since the epoch, for ctime/mtime, TTL ages and session ids.
    public var wallClockMilliseconds: Int64

    public init(monotonic: NIODeadline, wallClockMilliseconds: Int64) {
        self.monotonic = monotonic
        self.wallClockMilliseconds = wallClockMilliseconds
    }

    /// Monotonic milliseconds.
    var monotonicMilliseconds: Int64 { Int64(self.monotonic.uptimeNanoseconds / 1_000_000) }
}

/// What the driver must do, in order.
public enum ServerAction: Sendable {
    /// Append this transaction to the log (the driver hands it to the group committer and later
    /// calls `transactionsDurable(upTo:)`).
    case append(zxid: Int64, bytes: [UInt8])
    /// Write this complete frame (4-byte length prefix included) to the connection.
    case send(ConnectionID, ByteBuffer)
    /// Close the connection after the frames already sent to it.
    case close(ConnectionID)
    /// snapCount transactions since the last snapshot: call `snapshot()` and store it.
    case takeSnapshot
    /// A follower hands this client request to the leader (see ``ForwardedRequest``); the answer
    /// comes back through `forwardedReplyReceived`.
    case forward(ConnectionID, ForwardedRequest)
}

/// A client request a follower cannot serve itself (it changes state, or orders against all
/// writes) and hands to the leader, as ZooKeeper's Learner sends REQUEST packets.
public enum ForwardedRequest: Hashable, Sendable {
    /// A ConnectRequest for a new session (the leader creates the session through a transaction).
    case connect(ConnectRequest)
    /// A request of an established session: the header and the encoded body after it, with the
    /// identities the client authenticated as on the follower.
    case request(sessionId: Int64, authIds: [Id], header: RequestHeader, body: [UInt8])
}

/// What a server in an ensemble is doing for its clients.
public enum ServerRole: Hashable, Sendable {
    /// A single server: it logs and applies its own transactions.
    case standalone
    /// The established leader: its transactions are proposed to the ensemble and replies wait
    /// for the commit (``ServerCore/transactionsDurable(upTo:now:)`` reports committed zxids).
    case leader
    /// A follower or observer: reads locally, forwards writes, applies committed transactions.
    case follower
    /// Cut off from the quorum with `readonlymode.enabled`: serves reads to read-only clients.
    case readOnly
    /// Electing or syncing: serves no client.
    case notServing
}

/// Errors from `ServerCore.init` when storage cannot be decoded.
public enum ServerCoreError: Error, Hashable, Sendable {
    case undecodableSnapshot(String)
    case undecodableTransaction(zxid: Int64, String)
}
