import NIOCore
import ZooKeeperProtocol

/// The server core inside an ensemble (see ``ServerRole``).
///
/// - Leader: its own clients and the followers' forwarded requests (each follower client
///   connection becomes a connection of its own here, opened by the first forwarded request)
///   make transactions as in standalone mode; the driver proposes them instead of logging them,
///   and reports commits through ``transactionsDurable(upTo:now:)``, which releases the replies.
///   Replies to forwarded requests leave as `.send` to those connections: the driver sends them
///   to the follower after the COMMIT, on the same link, so the follower has applied the
///   transaction when the reply reaches it.
/// - Follower: reads are answered from the local tree; writes, `sync` and `closeSession`, and
///   ConnectRequests for new sessions, leave as `.forward`; later requests of that connection
///   wait until the reply is back (``forwardedReplyReceived(_:frame:now:)``), so replies keep
///   the client's order. Committed transactions arrive through ``applyCommitted(zxid:bytes:now:)``.
extension ServerCore {
    /// Requests a follower hands to the leader: every write, `sync` and `closeSession`.
    static let forwardedOpCodes: Set<Int32> = [1, 2, 5, 7, 9, 14, 15, 16, 19, 21, -11]

    // MARK: Role changes

    /// Switches what the server does for clients. Every client connection is closed (as
    /// ZooKeeper does when a member changes role; clients reconnect and keep their sessions),
    /// and frames not sent yet are dropped.
    public mutating func setRole(_ role: ServerRole, now: ServerClock) -> [ServerAction] {
        var actions: [ServerAction] = []
        for id in self.connections.keys.sorted() {
            self.watches.removeConnection(id)
            actions.append(.close(id))
        }
        self.connections.removeAll()
        self.held.removeAll()
        self.heldStart = 0
        for id in self.sessions.keys { self.sessions[id]?.connection = nil }
        if self.role == .readOnly {
            // A read-only server's sessions were local; they end with the mode.
            for id in self.readOnlySessionIds { self.readOnlyCloseSession(id) }
        }
        self.touchedSessions = []
        self.role = role
        self.durableZxid = self.lastZxid
        return actions
    }

    /// The member leads epoch `epoch`: transactions from here on are numbered
    /// `epoch << 32 | 1, 2, …` and every session gets a full timeout from now (the leader owns
    /// expiry from here on, as a new ZooKeeper leader's session tracker does).
    public mutating func beginEpoch(_ epoch: Int64, now: ServerClock) -> [ServerAction] {
        let actions = self.setRole(.leader, now: now)
        self.lastZxid = max(self.lastZxid, Zxid.make(epoch: epoch, counter: 0))
        self.durableZxid = self.lastZxid
        self.expiryBuckets = [:]
        for id in self.sessions.keys {
            self.sessions[id]?.expiresAt = 0
            self.touch(id, now: now)
        }
        return actions
    }

    // MARK: Follower

    mutating func forward(
        _ id: ConnectionID, sessionId: Int64, header: RequestHeader, body: ByteBuffer, now: ServerClock,
        actions: inout [ServerAction]
    ) {
        self.touch(sessionId, now: now)
        self.connections[id]?.lastOperation = header.type.name
        if header.xid > 0 { self.connections[id]?.lastCxid = header.xid }
        self.connections[id]?.forwardsPending += 1
        if header.type == .closeSession { self.connections[id]?.closeForwarded = true }
        let authIds = self.connections[id]?.authIds ?? []
        actions.append(.forward(id, .request(sessionId: sessionId, authIds: authIds, header: header, body: Array(body.readableBytesView))))
    }

    /// The leader's reply to a forwarded request (a complete frame). A ConnectResponse binds the
    /// new session to the connection. Requests that waited behind the forwarded one run now.
    public mutating func forwardedReplyReceived(_ id: ConnectionID, frame: ByteBuffer, now: ServerClock) -> [ServerAction] {
        guard var connection = self.connections[id], !connection.closing else { return [] }
        var actions: [ServerAction] = []
        if connection.awaitingConnect {
            connection.awaitingConnect = false
            var body = frame
            body.moveReaderIndex(forwardBy: min(4, body.readableBytes))
            if let response = try? ConnectResponse(from: &body), response.sessionId != 0, response.timeOut > 0,
                self.sessions[response.sessionId] != nil
            {
                connection.sessionId = response.sessionId
                self.sessions[response.sessionId]?.connection = id
                self.touch(response.sessionId, now: now)
            }
        } else {
            connection.forwardsPending = max(0, connection.forwardsPending - 1)
        }
        self.connections[id] = connection
        self.hold(.send(id, frame), tag: self.lastZxid, connection: id)
        self.release(into: &actions)
        // Run what waited, up to the next request that must be forwarded.
        while let waiting = self.connections[id], waiting.forwardsPending == 0, !waiting.closing,
            let next = waiting.queued.first
        {
            self.connections[id]?.queued.removeFirst()
            // Not counted twice: requestReceived counts packets again.
            self.connections[id]?.packetsReceived -= 1
            self.totalPacketsReceived -= 1
            actions += self.requestReceived(id, header: next.header, body: next.body, now: now)
        }
        return actions
    }

    /// The leader closed the session's connection (closeSession, or the session moved).
    public mutating func forwardedCloseReceived(_ id: ConnectionID) -> [ServerAction] {
        var actions: [ServerAction] = []
        self.closeConnection(id, actions: &actions)
        self.release(into: &actions)
        return actions
    }

    /// Sessions with activity on this follower since the last call (for the leader's expiry).
    public mutating func takeTouchedSessions() -> [Int64] {
        defer { self.touchedSessions = [] }
        return self.touchedSessions.sorted()
    }

    /// A committed transaction, in zxid order. On the leader, its own proposals are already
    /// applied and only their replies are released; everything else is applied here (watches
    /// fire, a closed session's connection is closed).
    /// - Throws: ``ServerCoreError/undecodableTransaction(zxid:_:)``.
    public mutating func applyCommitted(zxid: Int64, bytes: [UInt8], now: ServerClock) throws -> [ServerAction] {
        guard zxid > self.lastZxid else { return self.transactionsDurable(upTo: zxid, now: now) }
        let transaction: Transaction
        do {
            transaction = try Transaction(bytes: bytes)
        } catch {
            throw ServerCoreError.undecodableTransaction(zxid: zxid, error.description)
        }
        var actions: [ServerAction] = []
        var header = transaction.header
        header.zxid = zxid
        let closedConnection: ConnectionID?
        if case .closeSession = transaction.body { closedConnection = self.sessions[header.clientId]?.connection } else { closedConnection = nil }
        self.lastZxid = zxid
        _ = self.applyTransaction(header, transaction.body, now: now, actions: &actions)
        self.durableZxid = zxid
        if let closedConnection, let connection = self.connections[closedConnection], !connection.closeForwarded {
            // Expired by the leader: the client learns it when its connection closes.
            self.connections[closedConnection]?.sessionId = nil
            self.watches.removeConnection(closedConnection)
            self.closeConnection(closedConnection, actions: &actions)
        }
        self.release(into: &actions, now: now)
        return actions
    }

    // MARK: Leader

    /// A follower's client asks for a new session.
    public mutating func forwardedConnectReceived(
        _ id: ConnectionID, remoteAddress: String, request: ConnectRequest, now: ServerClock
    ) -> [ServerAction] {
        if self.connections[id] == nil { self.openForwardedConnection(id, remoteAddress: remoteAddress) }
        return self.connectRequestReceived(id, request, now: now)
    }

    /// A follower's client request (see ``ForwardedRequest/request(sessionId:authIds:header:body:)``).
    public mutating func forwardedRequestReceived(
        _ id: ConnectionID, remoteAddress: String, sessionId: Int64, authIds: [Id], header: RequestHeader,
        body: ByteBuffer, now: ServerClock
    ) -> [ServerAction] {
        if self.connections[id] == nil { self.openForwardedConnection(id, remoteAddress: remoteAddress) }
        self.connections[id]?.authIds = authIds
        guard self.sessions[sessionId] != nil else {
            var actions: [ServerAction] = []
            var buffer = self.allocator.buffer(capacity: 20)
            buffer.writeReplyFrame(
                header: ReplyHeader(xid: header.xid, zxid: self.lastZxid, err: ZooKeeperError.Code.sessionExpired.rawValue),
                response: nil)
            self.hold(.send(id, buffer), tag: self.lastZxid, connection: id)
            self.closeConnection(id, actions: &actions)
            self.release(into: &actions)
            return actions
        }
        if self.connections[id]?.sessionId != sessionId {
            self.connections[id]?.sessionId = sessionId
            self.sessions[sessionId]?.connection = id
        }
        return self.requestReceived(id, header: header, body: body, now: now)
    }

    mutating func openForwardedConnection(_ id: ConnectionID, remoteAddress: String) {
        var connection = Connection(remoteAddress: IPAddress.hostPart(of: remoteAddress), authIds: [])
        connection.forwarded = true
        self.connections[id] = connection
    }

    /// A follower reports activity on these sessions: they live on.
    public mutating func touchSessions(_ ids: [Int64], now: ServerClock) {
        for id in ids { self.touch(id, now: now) }
    }

    // MARK: Read-only mode

    var readOnlySessionIds: [Int64] {
        self.connections.values.compactMap { $0.readOnlySession ? $0.sessionId : nil }
    }

    mutating func readOnlyConnect(
        _ id: ConnectionID, _ request: ConnectRequest, timeout: Int32, now: ServerClock, actions: inout [ServerAction]
    ) {
        guard request.readOnly == true else {
            // ZooKeeper: "Refusing session request for not-read-only client".
            self.closeConnection(id, actions: &actions)
            return
        }
        var sessionId = request.sessionId
        if sessionId == 0 || self.sessions[sessionId] == nil || request.password != JavaRandom.sessionPassword(sessionId) {
            if request.sessionId != 0 {
                self.queueConnectResponse(id, timeout: timeout, sessionId: request.sessionId, valid: false, tag: self.lastZxid)
                self.closeConnection(id, actions: &actions)
                return
            }
            sessionId = self.nextSessionId
            while self.sessions[sessionId] != nil || sessionId == 0 || sessionId == Int64.min { sessionId &+= 1 }
            self.nextSessionId = sessionId &+ 1
            self.sessions[sessionId] = Session(timeout: timeout, expiresAt: 0, connection: nil)
            self.connections[id]?.readOnlySession = true
        }
        self.sessions[sessionId]?.connection = id
        self.connections[id]?.sessionId = sessionId
        self.touch(sessionId, timeout: timeout, now: now)
        self.queueConnectResponse(id, timeout: timeout, sessionId: sessionId, valid: true, tag: self.lastZxid)
    }

    mutating func readOnlyCloseSession(_ sessionId: Int64) {
        guard let session = self.sessions.removeValue(forKey: sessionId) else { return }
        self.expiryBuckets[session.expiresAt]?.remove(sessionId)
        if self.expiryBuckets[session.expiresAt]?.isEmpty == true { self.expiryBuckets[session.expiresAt] = nil }
    }

    mutating func expireReadOnlySessions(now: ServerClock, actions: inout [ServerAction]) {
        let nowMillis = now.monotonicMilliseconds
        for bucket in self.expiryBuckets.keys.filter({ $0 <= nowMillis }).sorted() {
            for sessionId in (self.expiryBuckets.removeValue(forKey: bucket) ?? []).sorted() {
                guard let connection = self.sessions[sessionId]?.connection else { continue }
                // Sessions of the ensemble are not ours to expire; only the connection goes.
                if self.connections[connection]?.readOnlySession == true { self.readOnlyCloseSession(sessionId) }
                self.connections[connection]?.sessionId = nil
                self.watches.removeConnection(connection)
                self.closeConnection(connection, actions: &actions)
            }
        }
    }
}

// MARK: - Dynamic reconfiguration

extension ServerCore {
    /// The membership `/zookeeper/config` holds (empty for a standalone server).
    public var currentConfiguration: DynamicConfiguration? {
        guard let data = self.tree.node(at: DataTree.configPath)?.data, !data.isEmpty else { return nil }
        return try? DynamicConfiguration(text: String(decoding: data, as: UTF8.self))
    }

    /// Puts the membership a member starts with into `/zookeeper/config` (as ZooKeeper does when
    /// it loads its database), unless the tree already holds that version or a newer one.
    public mutating func installConfiguration(_ configuration: DynamicConfiguration, now: ServerClock) {
        if let current = self.currentConfiguration, current == configuration || current.version > configuration.version {
            return
        }
        var events: [TreeEvent] = []
        let header = TxnHeader(clientId: 0, cxid: 0, zxid: configuration.version, time: now.wallClockMilliseconds, type: .reconfig)
        _ = self.tree.apply(header, .setData(path: DataTree.configPath, data: Array(configuration.text.utf8), version: -1), events: &events)
    }

    /// The reconfig the leader proposed last is committed: the next one may come.
    public mutating func reconfigCommitted() {
        self.reconfigInFlight = false
    }

    /// ZooKeeper's PrepRequestProcessor for reconfig: enabled, WRITE on /zookeeper/config (only
    /// the superuser by default), one at a time, the expected version, then incremental
    /// (joining/leaving) or whole (newMembers) change; the new voters must include a quorum of
    /// members that are up and synced. The transaction sets /zookeeper/config to the new
    /// membership, whose version is the transaction's zxid.
    func validateReconfig(_ request: ReconfigRequest, context: RequestContext) throws(Reject) -> TxnBody {
        guard self.configuration.reconfigEnabled, self.role == .leader || self.role == .standalone else {
            throw Reject(.reconfigDisabled)
        }
        guard let node = self.tree.node(at: DataTree.configPath) else { throw Reject(.noNode) }
        guard self.checkACL(node.acl, .write, context) else { throw Reject(.noAuth) }
        guard !self.reconfigInFlight else { throw Reject(.reconfigInProgress) }
        guard self.role == .leader, let current = self.currentConfiguration else {
            // A standalone server has no membership to change.
            throw Reject(.reconfigDisabled)
        }
        if request.curConfigId != -1 && request.curConfigId != current.version { throw Reject(.badVersion) }
        var servers: [DynamicConfiguration.Server]
        do {
            if let newMembers = request.newMembers, !newMembers.isEmpty {
                servers = try DynamicConfiguration.parseServerList(newMembers)
            } else {
                servers = current.servers
                for id in (request.leavingServers ?? "").split(separator: ",") {
                    guard let id = Int64(id.trimmingSpaces) else { throw Reject(.badArguments) }
                    servers.removeAll { $0.id == id }
                }
                for joining in try DynamicConfiguration.parseServerList(request.joiningServers ?? "") {
                    servers.removeAll { $0.id == joining.id }
                    servers.append(joining)
                }
            }
        } catch {
            throw Reject(.badArguments)
        }
        let next = DynamicConfiguration(servers: servers, version: self.lastZxid + 1)
        guard !next.voters.isEmpty, Set(next.servers.map(\.id)).count == next.servers.count else { throw Reject(.badArguments) }
        let up = self.syncedMembers.union([self.configuration.serverId])
        guard next.voters.intersection(up).count * 2 > next.voters.count else { throw Reject(.newConfigNoQuorum) }
        return .setData(path: DataTree.configPath, data: Array(next.text.utf8), version: -1)
    }
}
