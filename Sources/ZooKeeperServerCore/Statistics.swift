import NIOCore
import ZooKeeperProtocol

/// Figures for the four-letter words (`srvr`, `stat`, `cons`, `wchs`, `wchc`, `wchp`, `dump`, `mntr`).
public struct ServerStatistics: Sendable {
    public struct Connection: Sendable {
        public var id: ConnectionID
        public var remoteAddress: String
        public var sessionId: Int64?
        public var sessionTimeout: Int32?
        public var packetsReceived: Int
        public var packetsSent: Int
        /// Requests received but whose replies are still held for durability.
        public var outstandingRequests: Int
        public var lastOperation: String?
        public var lastCxid: Int32
        public var lastZxid: Int64
        /// Latency figures in milliseconds (request received to reply produced).
        public var minLatency: Int64
        public var averageLatency: Double
        public var maxLatency: Int64
        public var watchCount: Int
    }

    public struct Session: Sendable {
        public var sessionId: Int64
        public var timeout: Int32
        /// Monotonic deadline at which the session expires if nothing is heard.
        public var expiresAt: NIODeadline
        public var ephemeralPaths: [String]
    }

    public var nodeCount: Int
    /// Total watches: (connection, path) pairs over both tables.
    public var watchCount: Int
    /// Distinct watched paths.
    public var watchedPathCount: Int
    /// Connections that have at least one watch.
    public var watchingConnectionCount: Int
    /// path -> connections watching it (`wchp`).
    public var watchesByPath: [String: [ConnectionID]]
    /// connection -> session id and its watched paths (`wchc`).
    public var watchesByConnection: [ConnectionID: [String]]
    public var connections: [Connection]
    public var outstandingRequests: Int
    public var lastZxid: Int64
    public var durableZxid: Int64
    public var ephemeralsCount: Int
    public var approximateDataSize: Int64
    public var sessions: [Session]
    public var packetsReceived: Int
    public var packetsSent: Int
    public var minLatency: Int64
    public var averageLatency: Double
    public var maxLatency: Int64
}
