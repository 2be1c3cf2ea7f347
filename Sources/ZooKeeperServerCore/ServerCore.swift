import NIOCore
import ZooKeeperProtocol

/// The ZooKeeper server as an IO-free state machine. One event loop calls it; every event returns
/// the actions the driver must run, in order.
///
/// Durability: writes are applied to the tree when processed, but every frame is tagged with the
/// last zxid the tree held when it was produced and only leaves (as `.send`) once
/// `transactionsDurable(upTo:)` covers that zxid. Frames leave in production order.
public struct ServerCore: Sendable {
    public let configuration: ServerConfiguration
    public internal(set) var tree: DataTree
    public internal(set) var watches = WatchManager()
    public internal(set) var lastZxid: Int64 = 0
    public internal(set) var durableZxid: Int64 = 0
    /// What this server does for clients; see ``ServerRole``. Standalone unless the driver runs
    /// an ensemble.
    public internal(set) var role: ServerRole = .standalone
    /// Sessions a follower saw activity on since the driver last asked (``takeTouchedSessions()``);
    /// the leader, which owns expiry, is told.
    var touchedSessions: Set<Int64> = []
    /// A reconfig was proposed and is not committed yet (one at a time, as in ZooKeeper).
    var reconfigInFlight = false
    /// On a leader: members whose learners are synced (for reconfig's quorum check).
    public var syncedMembers: Set<Int64> = []

    struct Session: Sendable {
        var timeout: Int32
        /// Monotonic ms, a multiple of tickTime.
        var expiresAt: Int64
        var connection: ConnectionID?
    }

    struct Connection: Sendable {
        var remoteAddress: String
        var sessionId: Int64?
        var authIds: [Id]
        var sentReadOnlyByte = false
        var closing = false
        var packetsReceived = 0
        var packetsSent = 0
        var outstanding = 0
        var lastOperation: String?
        var lastCxid: Int32 = 0
        var lastZxid: Int64 = 0
        var latencyCount = 0
        var latencyTotal: Int64 = 0
        var latencyMin: Int64 = 0
        var latencyMax: Int64 = 0
        var sasl: SASLDigestServer?
        /// On a leader: a follower's client connection, whose requests the follower forwards.
        var forwarded = false
        /// On a follower: requests handed to the leader and not answered yet. Later requests of
        /// the connection wait in `queued`, so replies keep the client's order.
        var forwardsPending = 0
        var queued: [(header: RequestHeader, body: ByteBuffer)] = []
        /// On a follower: the ConnectRequest went to the leader.
        var awaitingConnect = false
        /// On a follower: the client's closeSession went to the leader.
        var closeForwarded = false
        /// A read-only server's local session (never logged).
        var readOnlySession = false
    }

    struct Held: Sendable {
        var tag: Int64
        var action: ServerAction
        var connection: ConnectionID?
        /// Monotonic ms when the request this replies to was received (for latency).
        var receivedAt: Int64?
    }

    var sessions: [Int64: Session] = [:]
    var expiryBuckets: [Int64: Set<Int64>] = [:]
    var connections: [ConnectionID: Connection] = [:]
    var held: [Held] = []
    var heldStart = 0
    var nextSessionId: Int64 = 0
    var transactionsSinceSnapshot = 0
    var nextContainerCheck: Int64
    /// Candidates of the current container check still to delete, in order.
    var containerDeletionQueue: [String] = []
    /// Monotonic ms before which the next container/TTL deletion must not happen.
    var nextContainerDeletion: Int64 = 0
    var totalPacketsReceived = 0
    var totalPacketsSent = 0
    var latencyCount = 0
    var latencyTotal: Int64 = 0
    var latencyMin: Int64 = 0
    var latencyMax: Int64 = 0
    let allocator = ByteBufferAllocator()
    /// Unpredictable bytes (SASL nonces). Injected so tests can be deterministic.
    public var randomBytes: @Sendable (Int) -> [UInt8] = { count in
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    // MARK: Construction

    public init(
        configuration: ServerConfiguration, snapshot: [UInt8]?, transactions: [(zxid: Int64, bytes: [UInt8])],
        now: ServerClock
    ) throws {
        try self.init(configuration: configuration, snapshot: snapshot, now: now) { apply in
            for (zxid, bytes) in transactions { try apply(zxid, bytes) }
        }
    }

    /// Loads `snapshot`, then the logged transactions `replay` hands to the function it is given,
    /// in zxid order, one at a time (a long log need not be held in memory at once).
    public init(
        configuration: ServerConfiguration, snapshot: [UInt8]?, now: ServerClock,
        replaying replay: (_ apply: (_ zxid: Int64, _ bytes: [UInt8]) throws -> Void) throws -> Void
    ) throws {
        self.configuration = configuration
        self.tree = DataTree(extendedTypesEnabled: configuration.extendedTypesEnabled)
        self.nextContainerCheck = now.monotonicMilliseconds + Int64(configuration.containerCheckInterval)
        var sessionTimeouts: [Int64: Int32] = [:]
        if let snapshot {
            do {
                // Decoded a window at a time: the snapshot is never copied whole into a buffer.
                var input = WindowedInput(snapshot, window: 4 << 20)
                var buffer = input.firstBuffer()
                guard try buffer.txnInt("magic") == Self.snapshotMagic, try buffer.txnInt("version") == 1 else {
                    throw ServerCoreError.undecodableSnapshot("bad magic or version")
                }
                self.lastZxid = try buffer.txnLong("zxid")
                self.tree = try DataTree(
                    from: &buffer, extendedTypesEnabled: configuration.extendedTypesEnabled, inputBytes: input.count
                ) { input.refill(&$0) }
                while input.refill(&buffer) {}  // the sessions after the tree
                let count = try buffer.txnInt("sessions")
                for _ in 0..<max(count, 0) {
                    let id = try buffer.txnLong("id")
                    sessionTimeouts[id] = try buffer.txnInt("timeout")
                }
            } catch let error as JuteDecodingError {
                throw ServerCoreError.undecodableSnapshot(error.description)
            }
        }
        // Replayed into a local tree that is the only reference to its storage (a copy still
        // shared with `self.tree` would be copied whole by the first change).
        var tree = self.tree
        self.tree = DataTree(extendedTypesEnabled: configuration.extendedTypesEnabled)
        var lastZxid = self.lastZxid
        try replay { zxid, bytes in
            guard zxid > lastZxid else { return }
            let transaction: Transaction
            do {
                transaction = try Transaction(bytes: bytes)
            } catch {
                throw ServerCoreError.undecodableTransaction(zxid: zxid, String(describing: error))
            }
            var events: [TreeEvent] = []
            _ = tree.apply(transaction.header, transaction.body, events: &events)
            switch transaction.body {
            case .createSession(let timeout): sessionTimeouts[transaction.header.clientId] = timeout
            case .closeSession: sessionTimeouts[transaction.header.clientId] = nil
            case .create, .delete, .deleteContainer, .setData, .setACL, .check, .error, .multi: break
            }
            lastZxid = max(lastZxid, transaction.zxid)
        }
        self.tree = tree
        self.lastZxid = lastZxid
        self.durableZxid = self.lastZxid
        for (id, timeout) in sessionTimeouts {
            self.sessions[id] = Session(timeout: timeout, expiresAt: 0, connection: nil)
            self.touch(id, timeout: timeout, now: now)
        }
        // (serverId << 56) | ((ms << 24) >>> 8): the top byte stays free for the server id.
        let millis = UInt64(bitPattern: now.wallClockMilliseconds)
        self.nextSessionId = Int64(bitPattern: (UInt64(bitPattern: configuration.serverId) << 56) | ((millis << 24) >> 8))
    }

    public init(configuration: ServerConfiguration, now: ServerClock) {
        // A fresh server cannot fail to decode anything.
        try! self.init(configuration: configuration, snapshot: nil, transactions: [], now: now)
    }

    static let snapshotMagic: Int32 = 0x5A4B_5343  // "ZKSC"

    /// The whole state (tree, sessions with timeouts, last zxid) as bytes, and the zxid it includes.
    public func snapshot() -> (zxid: Int64, bytes: [UInt8]) {
        var bytes: [UInt8] = []
        self.encodeSnapshot(pieceSize: .max) { piece in bytes += piece.readableBytesView }
        return (self.lastZxid, bytes)
    }

    /// The bytes of ``snapshot()``, handed to `emit` in order in pieces of about `pieceSize`
    /// bytes, so that a large tree is written out without being held encoded whole.
    public func encodeSnapshot(pieceSize: Int = 1 << 20, _ emit: (ByteBuffer) throws -> Void) rethrows {
        var buffer = self.allocator.buffer(capacity: pieceSize == .max ? 4096 : pieceSize + pieceSize / 4)
        buffer.writeJuteInt(Self.snapshotMagic)
        buffer.writeJuteInt(1)
        buffer.writeJuteLong(self.lastZxid)
        try self.tree.encode(into: &buffer, pieceSize: pieceSize) { full in
            try emit(full)
            full.clear()
        }
        let ids = self.sessions.keys.sorted()
        buffer.writeJuteInt(Int32(ids.count))
        for id in ids {
            buffer.writeJuteLong(id)
            buffer.writeJuteInt(self.sessions[id]!.timeout)
        }
        try emit(buffer)
    }

    /// Session ids and timeouts (for tests and `dump`).
    public var sessionTimeouts: [Int64: Int32] { self.sessions.mapValues(\.timeout) }

    public static func sessionPassword(for sessionId: Int64) -> [UInt8] { JavaRandom.sessionPassword(sessionId) }

    // MARK: Connection events

    public mutating func connectionOpened(_ id: ConnectionID, remoteAddress: String, now: ServerClock) -> [ServerAction] {
        let host = IPAddress.hostPart(of: remoteAddress)
        let limit = self.configuration.maxClientConnectionsPerHost
        if limit > 0 && self.connections.values.filter({ $0.remoteAddress == host && !$0.forwarded }).count >= limit {
            return [.close(id)]
        }
        self.connections[id] = Connection(remoteAddress: host, authIds: [Id(scheme: "ip", id: host)])
        return []
    }

    public mutating func connectionClosed(_ id: ConnectionID, now: ServerClock) -> [ServerAction] {
        guard let connection = self.connections.removeValue(forKey: id) else { return [] }
        self.watches.removeConnection(id)
        if let sessionId = connection.sessionId, self.sessions[sessionId]?.connection == id {
            self.sessions[sessionId]?.connection = nil
        }
        // Frames still held for it will never be sent.
        for index in self.heldStart..<self.held.count where self.held[index].connection == id {
            self.held[index].connection = nil
            self.held[index].action = .takeSnapshot  // marker, filtered on release
            self.held[index].tag = Int64.min
        }
        return []
    }

    public mutating func connectRequestReceived(_ id: ConnectionID, _ request: ConnectRequest, now: ServerClock) -> [ServerAction] {
        var actions: [ServerAction] = []
        guard var connection = self.connections[id], connection.sessionId == nil, !connection.closing else {
            return [.close(id)]
        }
        connection.packetsReceived += 1
        self.totalPacketsReceived += 1
        connection.sentReadOnlyByte = request.readOnly != nil
        self.connections[id] = connection
        if request.lastZxidSeen > self.lastZxid {
            self.closeConnection(id, actions: &actions)
            self.release(into: &actions)
            return actions
        }
        let timeout = Int32(clamping: min(
            max(Int(request.timeOut), self.configuration.effectiveMinSessionTimeout),
            self.configuration.effectiveMaxSessionTimeout))
        switch self.role {
        case .standalone, .leader:
            break
        case .notServing:
            self.closeConnection(id, actions: &actions)
            self.release(into: &actions)
            return actions
        case .follower:
            if request.sessionId == 0 {
                // The session is created by the leader's transaction; the reply comes back from it.
                self.connections[id]?.awaitingConnect = true
                actions.append(.forward(id, .connect(request)))
                return actions
            }
        case .readOnly:
            self.readOnlyConnect(id, request, timeout: timeout, now: now, actions: &actions)
            self.release(into: &actions)
            return actions
        }
        if request.sessionId == 0 {
            var sessionId = self.nextSessionId
            while self.sessions[sessionId] != nil || sessionId == 0 || sessionId == Int64.min { sessionId &+= 1 }
            self.nextSessionId = sessionId &+ 1
            let zxid = self.commit(
                .createSession(timeout: timeout), type: .createSession, sessionId: sessionId, cxid: 0, now: now,
                actions: &actions)
            self.sessions[sessionId]?.connection = id
            self.connections[id]?.sessionId = sessionId
            self.queueConnectResponse(id, timeout: timeout, sessionId: sessionId, valid: true, tag: zxid)
        } else {
            let sessionId = request.sessionId
            // Close any other connection bound to the session first.
            for (other, otherConnection) in self.connections where other != id && otherConnection.sessionId == sessionId {
                self.connections[other]?.sessionId = nil
                self.watches.removeConnection(other)
                self.closeConnection(other, actions: &actions)
            }
            if request.password == JavaRandom.sessionPassword(sessionId), self.sessions[sessionId] != nil {
                self.sessions[sessionId]?.connection = id
                self.connections[id]?.sessionId = sessionId
                self.touch(sessionId, timeout: timeout, now: now)
                self.queueConnectResponse(id, timeout: timeout, sessionId: sessionId, valid: true, tag: self.lastZxid)
            } else {
                self.queueConnectResponse(id, timeout: timeout, sessionId: sessionId, valid: false, tag: self.lastZxid)
                self.closeConnection(id, actions: &actions)
            }
        }
        self.release(into: &actions)
        return actions
    }

    mutating func queueConnectResponse(_ id: ConnectionID, timeout: Int32, sessionId: Int64, valid: Bool, tag: Int64) {
        let readOnly: Bool? = self.connections[id]?.sentReadOnlyByte == true ? (self.role == .readOnly) : nil
        let response = ConnectResponse(
            protocolVersion: 0, timeOut: valid ? timeout : 0, sessionId: valid ? sessionId : 0,
            password: valid ? JavaRandom.sessionPassword(sessionId) : [UInt8](repeating: 0, count: 16), readOnly: readOnly)
        var buffer = self.allocator.buffer(capacity: 48)
        buffer.writeZooKeeperFrame { response.encode(into: &$0) }
        self.hold(.send(id, buffer), tag: tag, connection: id)
    }

    // MARK: Time

    /// Time passes: session expiry (closeSession transactions), container/TTL reaping.
    public mutating func tick(now: ServerClock) -> [ServerAction] {
        var actions: [ServerAction] = []
        let nowMillis = now.monotonicMilliseconds
        switch self.role {
        case .standalone, .leader:
            break
        case .follower, .notServing:
            // The leader owns expiry and containers; its closeSession transactions reach us.
            return []
        case .readOnly:
            self.expireReadOnlySessions(now: now, actions: &actions)
            self.release(into: &actions)
            return actions
        }
        let due = self.expiryBuckets.keys.filter { $0 <= nowMillis }.sorted()
        for bucket in due {
            for sessionId in (self.expiryBuckets.removeValue(forKey: bucket) ?? []).sorted() {
                guard let session = self.sessions[sessionId] else { continue }
                let connection = session.connection
                self.closeSessionTransaction(sessionId, cxid: 0, now: now, actions: &actions)
                if let connection {
                    self.connections[connection]?.sessionId = nil
                    self.watches.removeConnection(connection)
                    self.closeConnection(connection, actions: &actions)
                }
            }
        }
        self.reapContainers(now: now, actions: &actions)
        self.release(into: &actions)
        return actions
    }

    /// ZooKeeper's ContainerManager: every `containerCheckInterval` ms (at a fixed rate) the empty
    /// containers and expired TTL nodes are collected, then deleted one by one, each deletion at
    /// least 60000 / `containerMaxPerMinute` ms after the previous one. The next check starts once
    /// the previous one has worked through its candidates (ZooKeeper's timer runs one at a time).
    /// A candidate is checked again when its turn comes (a container that got a child meanwhile
    /// yields an error transaction, as in ZooKeeper).
    mutating func reapContainers(now: ServerClock, actions: inout [ServerAction]) {
        let nowMillis = now.monotonicMilliseconds
        let interval = Int64(max(self.configuration.containerCheckInterval, 1))
        if self.containerDeletionQueue.isEmpty, nowMillis >= self.nextContainerCheck {
            self.nextContainerCheck += interval
            if self.nextContainerCheck <= nowMillis { self.nextContainerCheck = nowMillis + interval }
            self.containerDeletionQueue = self.containerCandidates(now: now)
            self.nextContainerDeletion = max(self.nextContainerDeletion, nowMillis)
        }
        let spacing = 60_000 / Int64(max(self.configuration.containerMaxPerMinute, 1))
        var index = 0
        while index < self.containerDeletionQueue.count, nowMillis >= self.nextContainerDeletion {
            let path = self.containerDeletionQueue[index]
            index += 1
            let body = self.validateDeleteContainer(path)
            _ = self.commit(body, type: body.isError ? .error : .deleteContainer, sessionId: 0, cxid: 0, now: now, actions: &actions)
            self.nextContainerDeletion += spacing
        }
        self.containerDeletionQueue.removeFirst(index)
    }

    func containerCandidates(now: ServerClock) -> [String] {
        var candidates: [String] = []
        for path in self.tree.containers {
            guard let node = self.tree.node(at: path), node.childCount == 0 else { continue }
            let neverUsed = self.configuration.containerMaxNeverUsedInterval
            // ZooKeeper: maxNeverUsedIntervalMs != 0 (a negative value reaps unused ones at once).
            if node.childCreates > 0
                || (neverUsed != 0 && now.wallClockMilliseconds - node.mtime > Int64(neverUsed))
            {
                candidates.append(path)
            }
        }
        for path in self.tree.ttlNodes {
            guard let node = self.tree.node(at: path), node.childCount == 0 else { continue }
            if case .ttl(let ttl) = self.tree.kind(of: node), ttl != 0, now.wallClockMilliseconds - node.mtime > ttl {
                candidates.append(path)
            }
        }
        return candidates.sorted()
    }

    func validateDeleteContainer(_ path: String) -> TxnBody {
        guard let node = self.tree.node(at: path) else { return .error(.noNode) }
        guard node.childCount == 0 else { return .error(.notEmpty) }
        if case .ephemeral = self.tree.kind(of: node) { return .error(.badVersion) }
        return .deleteContainer(path: path)
    }

    mutating func touch(_ sessionId: Int64, timeout: Int32? = nil, now: ServerClock) {
        guard var session = self.sessions[sessionId] else { return }
        if self.role == .follower { self.touchedSessions.insert(sessionId) }
        let tick = Int64(max(self.configuration.tickTime, 1))
        let expires = ((now.monotonicMilliseconds + Int64(timeout ?? session.timeout)) / tick + 1) * tick
        guard expires != session.expiresAt else { return }
        self.expiryBuckets[session.expiresAt]?.remove(sessionId)
        if self.expiryBuckets[session.expiresAt]?.isEmpty == true { self.expiryBuckets[session.expiresAt] = nil }
        session.expiresAt = expires
        self.expiryBuckets[expires, default: []].insert(sessionId)
        self.sessions[sessionId] = session
    }

    // MARK: Durability

    /// The log is durable up to `zxid`: releases the frames held for it. `now`, when given, is used
    /// for the latency figures.
    public mutating func transactionsDurable(upTo zxid: Int64, now: ServerClock? = nil) -> [ServerAction] {
        self.durableZxid = max(self.durableZxid, min(zxid, self.lastZxid))
        var actions: [ServerAction] = []
        self.release(into: &actions, now: now)
        return actions
    }

    mutating func hold(_ action: ServerAction, tag: Int64, connection: ConnectionID?, receivedAt: Int64? = nil) {
        if case .send(let id, _) = action {
            self.connections[id]?.packetsSent += 1
            self.totalPacketsSent += 1
            if receivedAt != nil { self.connections[id]?.outstanding += 1 }
        }
        self.held.append(Held(tag: tag, action: action, connection: connection, receivedAt: receivedAt))
    }

    mutating func release(into actions: inout [ServerAction], now: ServerClock? = nil) {
        while self.heldStart < self.held.count, self.held[self.heldStart].tag <= self.durableZxid {
            let item = self.held[self.heldStart]
            self.heldStart += 1
            guard item.tag != Int64.min else { continue }
            if let receivedAt = item.receivedAt, let id = item.connection {
                self.connections[id]?.outstanding -= 1
                let latency = max(0, (now?.monotonicMilliseconds ?? receivedAt) - receivedAt)
                self.recordLatency(latency, connection: id)
            }
            actions.append(item.action)
        }
        if self.heldStart == self.held.count {
            self.held.removeAll(keepingCapacity: true)
            self.heldStart = 0
        } else if self.heldStart > 1024 {
            self.held.removeFirst(self.heldStart)
            self.heldStart = 0
        }
    }

    mutating func recordLatency(_ latency: Int64, connection id: ConnectionID) {
        if var connection = self.connections[id] {
            connection.latencyMin = connection.latencyCount == 0 ? latency : min(connection.latencyMin, latency)
            connection.latencyMax = max(connection.latencyMax, latency)
            connection.latencyCount += 1
            connection.latencyTotal += latency
            self.connections[id] = connection
        }
        self.latencyMin = self.latencyCount == 0 ? latency : min(self.latencyMin, latency)
        self.latencyMax = max(self.latencyMax, latency)
        self.latencyCount += 1
        self.latencyTotal += latency
    }

    mutating func closeConnection(_ id: ConnectionID, actions: inout [ServerAction]) {
        guard self.connections[id]?.closing == false else { return }
        self.connections[id]?.closing = true
        self.hold(.close(id), tag: self.lastZxid, connection: id)
    }

    // MARK: Transactions

    /// Logs and applies one transaction; returns its zxid. Events are queued to watchers.
    @discardableResult
    mutating func commit(
        _ body: TxnBody, type: OpCode, sessionId: Int64, cxid: Int32, now: ServerClock,
        actions: inout [ServerAction]
    ) -> Int64 {
        let (zxid, _) = self.commitReturningResult(body, type: type, sessionId: sessionId, cxid: cxid, now: now, actions: &actions)
        return zxid
    }

    mutating func commitReturningResult(
        _ body: TxnBody, type: OpCode, sessionId: Int64, cxid: Int32, now: ServerClock, actions: inout [ServerAction]
    ) -> (Int64, TxnResult) {
        self.lastZxid += 1
        let header = TxnHeader(clientId: sessionId, cxid: cxid, zxid: self.lastZxid, time: now.wallClockMilliseconds, type: type)
        let transaction = Transaction(header: header, body: body)
        actions.append(.append(zxid: header.zxid, bytes: transaction.encoded()))
        return (header.zxid, self.applyTransaction(header, body, now: now, actions: &actions))
    }

    /// Applies a transaction to the tree and the sessions and queues its watch events.
    mutating func applyTransaction(_ header: TxnHeader, _ body: TxnBody, now: ServerClock, actions: inout [ServerAction]) -> TxnResult {
        let sessionId = header.clientId
        var events: [TreeEvent] = []
        let result = self.tree.apply(header, body, events: &events)
        switch body {
        case .createSession(let timeout):
            self.sessions[sessionId] = Session(timeout: timeout, expiresAt: 0, connection: nil)
            self.touch(sessionId, now: now)
        case .closeSession:
            if let session = self.sessions.removeValue(forKey: sessionId) {
                self.expiryBuckets[session.expiresAt]?.remove(sessionId)
                if self.expiryBuckets[session.expiresAt]?.isEmpty == true { self.expiryBuckets[session.expiresAt] = nil }
            }
        case .create, .delete, .deleteContainer, .setData, .setACL, .check, .error, .multi: break
        }
        self.deliver(events, zxid: header.zxid)
        self.transactionsSinceSnapshot += 1
        if self.transactionsSinceSnapshot >= max(self.configuration.snapCount, 1) {
            self.transactionsSinceSnapshot = 0
            actions.append(.takeSnapshot)
        }
        return result
    }

    mutating func closeSessionTransaction(_ sessionId: Int64, cxid: Int32, now: ServerClock, actions: inout [ServerAction]) {
        let paths = self.tree.ephemerals(of: sessionId).sorted()
        self.commit(.closeSession(paths: paths), type: .closeSession, sessionId: sessionId, cxid: cxid, now: now, actions: &actions)
    }

    // MARK: Watch events

    mutating func deliver(_ events: [TreeEvent], zxid: Int64) {
        for event in events {
            switch event {
            case .created(let path, let acl):
                self.notify(self.watches.trigger(.data, path: path), .nodeCreated, path, acl, zxid: zxid)
            case .dataChanged(let path, let acl):
                self.notify(self.watches.trigger(.data, path: path), .nodeDataChanged, path, acl, zxid: zxid)
            case .childrenChanged(let path, let acl):
                self.notify(self.watches.trigger(.child, path: path), .nodeChildrenChanged, path, acl, zxid: zxid)
            case .deleted(let path, let acl):
                let data = self.watches.trigger(.data, path: path)
                let child = self.watches.trigger(.child, path: path, suppress: data)
                self.notify(data.union(child), .nodeDeleted, path, acl, zxid: zxid)
            }
        }
    }

    mutating func notify(_ targets: Set<ConnectionID>, _ type: EventType, _ path: String, _ acl: [ACL]?, zxid: Int64) {
        for id in targets.sorted() {
            guard let connection = self.connections[id], !connection.closing else { continue }
            if let acl, !Authorization.check(acl, .read, ids: connection.authIds, skipACL: self.configuration.skipACL) {
                continue
            }
            var buffer = self.allocator.buffer(capacity: 32 + path.utf8.count)
            buffer.writeZooKeeperFrame { buffer in
                ReplyHeader(xid: SpecialXid.notification, zxid: zxid, err: 0).encode(into: &buffer)
                WatcherEvent(type: type, state: .syncConnected, path: path).encode(into: &buffer)
            }
            self.hold(.send(id, buffer), tag: self.lastZxid, connection: id)
        }
    }

    // MARK: Statistics

    public var statistics: ServerStatistics {
        let byPath = self.watches.watchesByPath
        var byConnection: [ConnectionID: [String]] = [:]
        for id in self.watches.watchingConnections { byConnection[id] = self.watches.paths(of: id).sorted() }
        let connections = self.connections.keys.sorted().map { id -> ServerStatistics.Connection in
            let c = self.connections[id]!
            return ServerStatistics.Connection(
                id: id, remoteAddress: c.remoteAddress, sessionId: c.sessionId,
                sessionTimeout: c.sessionId.flatMap { self.sessions[$0]?.timeout }, packetsReceived: c.packetsReceived,
                packetsSent: c.packetsSent, outstandingRequests: c.outstanding, lastOperation: c.lastOperation,
                lastCxid: c.lastCxid, lastZxid: c.lastZxid, minLatency: c.latencyMin,
                averageLatency: c.latencyCount == 0 ? 0 : Double(c.latencyTotal) / Double(c.latencyCount),
                maxLatency: c.latencyMax, watchCount: self.watches.paths(of: id).count)
        }
        let sessions = self.sessions.keys.sorted().map { id -> ServerStatistics.Session in
            let s = self.sessions[id]!
            return ServerStatistics.Session(
                sessionId: id, timeout: s.timeout,
                expiresAt: NIODeadline.uptimeNanoseconds(UInt64(max(s.expiresAt, 0)) * 1_000_000),
                ephemeralPaths: self.tree.ephemerals(of: id).sorted())
        }
        return ServerStatistics(
            nodeCount: self.tree.nodeCount, watchCount: self.watches.watchCount, watchedPathCount: byPath.count,
            watchingConnectionCount: byConnection.count, watchesByPath: byPath, watchesByConnection: byConnection,
            connections: connections, outstandingRequests: connections.reduce(0) { $0 + $1.outstandingRequests },
            lastZxid: self.lastZxid, durableZxid: self.durableZxid, ephemeralsCount: self.tree.ephemeralCount,
            approximateDataSize: self.tree.approximateDataSize, sessions: sessions,
            packetsReceived: self.totalPacketsReceived, packetsSent: self.totalPacketsSent, minLatency: self.latencyMin,
            averageLatency: self.latencyCount == 0 ? 0 : Double(self.latencyTotal) / Double(self.latencyCount),
            maxLatency: self.latencyMax)
    }
}

extension TxnBody {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
