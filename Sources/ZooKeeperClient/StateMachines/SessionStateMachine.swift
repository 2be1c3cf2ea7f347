import NIOCore
import ZooKeeperProtocol

/// Identifies one caller's request inside the client.
public struct RequestID: Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The state of a client's session, as callers observe it.
public enum SessionState: Hashable, Sendable, CustomStringConvertible {
    /// Looking for a server before the session exists.
    case connecting
    /// The session is open on a read-write server.
    case connected
    /// The session is open on a read-only server: reads work, writes fail with NOTREADONLY.
    case connectedReadOnly
    /// The connection was lost; the client is reconnecting and the session may still be alive.
    case disconnected
    /// The server reported the session expired (terminal).
    case expired
    /// Authentication was rejected (terminal).
    case authFailed
    /// The client closed the session (terminal).
    case closed

    /// Whether no further transition can happen.
    public var isTerminal: Bool {
        switch self {
        case .expired, .authFailed, .closed: return true
        case .connecting, .connected, .connectedReadOnly, .disconnected: return false
        }
    }

    /// Whether requests can be sent right now.
    public var isConnected: Bool { self == .connected || self == .connectedReadOnly }

    public var description: String {
        switch self {
        case .connecting: return "CONNECTING"
        case .connected: return "CONNECTED"
        case .connectedReadOnly: return "CONNECTEDREADONLY"
        case .disconnected: return "DISCONNECTED"
        case .expired: return "EXPIRED"
        case .authFailed: return "AUTH_FAILED"
        case .closed: return "CLOSED"
        }
    }
}

/// A watch event in server terms (path includes any chroot).
public struct ServerWatchEvent: Hashable, Sendable {
    public var type: EventType
    public var path: String
    /// The notifying transaction's zxid (3.9+), or -1.
    public var zxid: Int64
}

/// The client session protocol as an IO-free state machine: events in, actions out.
///
/// It owns the connection lifecycle (which host to try next, handshake, pings, read timeouts,
/// reconnects with the same session id and password), the pipeline of in-flight requests matched
/// by xid in FIFO order, authentication packets, and the watch table that is re-registered with
/// SetWatches/SetWatches2 after a reconnect. Time is passed in with every event (`now`) and
/// randomness comes from an injected seed, so every transition is reproducible in tests.
///
/// The driver must execute the returned actions in order, and report the outcome of every
/// `.openConnection` with ``channelConnected(now:)``, ``connectFailed(now:reason:)`` or, later,
/// ``connectionLost(now:reason:)``. It calls ``tick(now:)`` periodically (every 50 ms is enough).
public struct SessionStateMachine: Sendable {
    public struct Configuration: Sendable {
        /// Servers in the order to try them (the caller shuffles them).
        public var hosts: [HostAndPort]
        /// Requested session timeout in milliseconds.
        public var sessionTimeout: Int32
        /// Whether the client accepts read-only servers.
        public var canBeReadOnly: Bool
        /// Largest total length of watch paths in one SetWatches packet (ZooKeeper uses 128 KiB).
        public var setWatchesPacketLimit: Int = 128 * 1024
        /// An existing session to resume instead of creating one.
        public var resumeSession: (id: Int64, password: [UInt8])?
        /// SASL DIGEST-MD5 credentials, exchanged on every connection right after the handshake and
        /// before anything else is sent; a rejection ends the session with AUTHFAILED.
        public var sasl: (username: String, password: String)?

        public init(hosts: [HostAndPort], sessionTimeout: Int32, canBeReadOnly: Bool = false) {
            precondition(!hosts.isEmpty, "a session needs at least one host")
            self.hosts = hosts
            self.sessionTimeout = sessionTimeout
            self.canBeReadOnly = canBeReadOnly
        }
    }

    /// What the driver must do.
    public enum Action: Sendable {
        /// Open a TCP connection to the host; report the result.
        case openConnection(HostAndPort)
        /// Send the handshake frame on the new connection.
        case sendConnectRequest(ConnectRequest)
        /// Send a request frame on the current connection.
        case send(xid: Int32, request: ZooKeeperRequest)
        /// Close the current connection; ignore anything it reports afterwards.
        case closeConnection
        /// Complete a caller's request.
        case succeed(RequestID, ZooKeeperResponse)
        /// Fail a caller's request.
        case fail(RequestID, ZooKeeperError)
        /// Deliver an event to these watch registrations (one-shot ones are already removed).
        case fireWatches([WatchID], ServerWatchEvent)
        /// End these watch registrations, with an error when the session ended abnormally.
        case finishWatches([WatchID], ZooKeeperError?)
        /// Ask whether `host` is a read-write server (`isro`); report with ``readWriteServerFound(_:now:)``.
        case probeReadWrite(HostAndPort)
        /// The session state changed.
        case stateChanged(SessionState)
    }

    /// A watch a request leaves when it succeeds.
    public enum WatchIntent: Hashable, Sendable {
        /// getData; exists (becomes an exist watch when the node is missing).
        case data(WatchID)
        case child(WatchID)
        case persistent(WatchID)
        case persistentRecursive(WatchID)
    }

    private enum Phase {
        case idle(retryAt: NIODeadline)
        case connecting(HostAndPort, since: NIODeadline)
        case handshaking(HostAndPort, since: NIODeadline)
        case connected(HostAndPort, readOnly: Bool)
        case closing(since: NIODeadline)
        case terminated(SessionState)
    }

    private struct Outstanding {
        /// nil for requests the machine sends itself (SetWatches, SASL).
        var id: RequestID?
        var xid: Int32
        var request: ZooKeeperRequest
        var watch: WatchIntent?
    }

    private struct Queued {
        var id: RequestID
        var request: ZooKeeperRequest
        var watch: WatchIntent?
    }

    public let configuration: Configuration
    private var phase: Phase
    private var rng: SplitMix64

    /// Session id, 0 until the first handshake.
    public private(set) var sessionId: Int64 = 0
    /// Session password, 16 zero bytes until the first handshake.
    public private(set) var password = [UInt8](repeating: 0, count: 16)
    /// The negotiated timeout in milliseconds, 0 until the first handshake.
    public private(set) var negotiatedTimeout: Int32 = 0
    /// The highest zxid seen in a normal reply.
    public private(set) var lastZxidSeen: Int64 = 0
    /// The host of the current connection or attempt.
    public var currentHost: HostAndPort? {
        switch phase {
        case .connecting(let host, _), .handshaking(let host, _), .connected(let host, _): return host
        case .idle, .closing, .terminated: return nil
        }
    }
    /// The state callers see.
    public private(set) var state: SessionState = .connecting
    /// Why the session ended (with its detail), once it is terminated.
    public private(set) var terminationError: ZooKeeperError?

    private var nextHostIndex = 0
    private var failedAttemptsInRound = 0
    private var failedRounds = 0
    private var nextXid: Int32 = 1
    private var lastSend: NIODeadline = .uptimeNanoseconds(0)
    private var lastReceive: NIODeadline = .uptimeNanoseconds(0)
    private var lastHeardFromServer: NIODeadline?
    private var queued = CircularBuffer<Queued>()
    private var pending = CircularBuffer<Outstanding>()
    private var authInfo: [AuthPacket] = []
    private var authWaitingForConnection: [(RequestID, AuthPacket)] = []
    private var authInFlight = CircularBuffer<RequestID?>()
    private var watches = WatchRegistry()
    private var readOnlyProbe: (next: NIODeadline, backoff: TimeAmount, hostIndex: Int)?
    /// The SASL exchange running on the current connection; until it succeeds, only its packets
    /// (and pings) are sent and callers' requests stay queued.
    private var saslExchange: SASLDigestClient?
    /// Whether the SASL exchange on the current connection is still running.
    public var isAuthenticatingWithSASL: Bool { saslExchange != nil }
    /// A session first made on a read-only server is valid only there.
    private var sessionIsReadOnlyLocal = false

    public init(configuration: Configuration, seed: UInt64, now: NIODeadline) {
        self.configuration = configuration
        self.rng = SplitMix64(seed: seed)
        self.phase = .idle(retryAt: now)
        if let resume = configuration.resumeSession {
            self.sessionId = resume.id
            self.password = resume.password
        }
    }

    // MARK: Derived timers

    private var effectiveTimeout: TimeAmount {
        .milliseconds(Int64(negotiatedTimeout > 0 ? negotiatedTimeout : configuration.sessionTimeout))
    }
    /// Drop the connection when nothing arrived for this long (2T/3).
    var readTimeout: TimeAmount { .nanoseconds(effectiveTimeout.nanoseconds * 2 / 3) }
    /// Ping when nothing was sent for this long (T/3, at most 10 s).
    var pingInterval: TimeAmount { min(.nanoseconds(readTimeout.nanoseconds / 2), .seconds(10)) }
    /// Give up on one connection attempt after T/N (at least 1 s).
    var connectAttemptTimeout: TimeAmount {
        let total = TimeAmount.milliseconds(Int64(configuration.sessionTimeout))
        return max(TimeAmount.nanoseconds(total.nanoseconds / Int64(configuration.hosts.count)), TimeAmount.seconds(1))
    }
    /// Without hearing from any server for this long, the session is taken as expired (4T/3).
    var expirationTimeout: TimeAmount { .nanoseconds(effectiveTimeout.nanoseconds * 4 / 3) }

    /// Watches currently registered.
    public var watchCount: Int { watches.count }

    // MARK: Events

    /// Advances time: starts connection attempts, sends pings, detects dead connections.
    public mutating func tick(now: NIODeadline) -> [Action] {
        switch phase {
        case .idle(let retryAt):
            if let heard = lastHeardFromServer, sessionId != 0, now - heard > expirationTimeout {
                return terminate(.expired, error: ZooKeeperError(.sessionExpired, detail: "no server reachable within the session timeout"))
            }
            guard now >= retryAt else { return [] }
            let host = configuration.hosts[nextHostIndex % configuration.hosts.count]
            nextHostIndex = (nextHostIndex + 1) % configuration.hosts.count
            phase = .connecting(host, since: now)
            return [.openConnection(host)]
        case .connecting(_, let since), .handshaking(_, let since):
            if now - since > connectAttemptTimeout {
                return [.closeConnection] + attemptFailed(now: now)
            }
            return []
        case .connected(let host, let readOnly):
            if now - lastReceive > readTimeout {
                return [.closeConnection] + connectionLost(now: now, reason: "no reply from \(host) within \(readTimeout.nanoseconds / 1_000_000) ms")
            }
            var actions: [Action] = []
            if now - lastSend >= pingInterval {
                lastSend = now
                actions.append(.send(xid: SpecialXid.ping, request: .ping))
            }
            if readOnly, configuration.hosts.count > 1, var probe = readOnlyProbe, now >= probe.next {
                // Probe the other hosts in turn, backing off from 100 ms to 60 s as ZooKeeper does.
                if configuration.hosts[probe.hostIndex] == host {
                    probe.hostIndex = (probe.hostIndex + 1) % configuration.hosts.count
                }
                actions.append(.probeReadWrite(configuration.hosts[probe.hostIndex]))
                probe.hostIndex = (probe.hostIndex + 1) % configuration.hosts.count
                probe.next = now + probe.backoff
                probe.backoff = min(.nanoseconds(probe.backoff.nanoseconds * 2), .seconds(60))
                readOnlyProbe = probe
            }
            return actions
        case .closing(let since):
            if now - since > min(effectiveTimeout, .seconds(5)) {
                return terminate(.closed, error: nil)
            }
            return []
        case .terminated:
            return []
        }
    }

    /// The TCP connection from the last `.openConnection` is up.
    public mutating func channelConnected(now: NIODeadline) -> [Action] {
        guard case .connecting(let host, let since) = phase else { return [] }
        phase = .handshaking(host, since: since)
        // A session made on a read-only server is valid only there: until a read-write server
        // has been seen, each connection asks for a new session (as ZooKeeper's client does).
        let request = ConnectRequest(
            protocolVersion: 0, lastZxidSeen: lastZxidSeen, timeOut: configuration.sessionTimeout,
            sessionId: sessionIsReadOnlyLocal ? 0 : sessionId,
            password: sessionIsReadOnlyLocal ? [UInt8](repeating: 0, count: 16) : password,
            readOnly: configuration.canBeReadOnly
        )
        return [.sendConnectRequest(request)]
    }

    /// The last `.openConnection` failed.
    public mutating func connectFailed(now: NIODeadline, reason: String) -> [Action] {
        guard case .connecting = phase else { return [] }
        return attemptFailed(now: now)
    }

    /// The server answered the handshake.
    public mutating func connectResponseReceived(_ response: ConnectResponse, now: NIODeadline) -> [Action] {
        guard case .handshaking(let host, _) = phase else { return [] }
        guard response.timeOut > 0 else {
            return [.closeConnection] + terminate(.expired, error: ZooKeeperError(.sessionExpired))
        }
        let readOnly = response.readOnly ?? false
        if sessionId == 0 || sessionIsReadOnlyLocal { sessionIsReadOnlyLocal = readOnly }
        sessionId = response.sessionId
        password = response.password
        negotiatedTimeout = response.timeOut
        phase = .connected(host, readOnly: readOnly)
        lastReceive = now
        lastSend = now
        lastHeardFromServer = now
        failedAttemptsInRound = 0
        failedRounds = 0
        readOnlyProbe = readOnly ? (next: now + .milliseconds(100), backoff: .milliseconds(100), hostIndex: nextHostIndex) : nil
        if let sasl = configuration.sasl {
            // Credentials are per connection: authenticate before anything else goes out
            // (ZooKeeper's client holds its outgoing queue the same way). Callers see the session
            // as connected only once the server accepted them.
            saslExchange = SASLDigestClient(username: sasl.username, password: sasl.password, cnonce: makeCnonce())
            return [sendSASL(SASLDigestClient.initialResponse, now: now)]
        }
        return sessionReady(readOnly: readOnly, now: now)
    }

    /// The connection is usable (after the handshake, and after SASL when configured): report the
    /// state, then send credentials, watches, and what callers queued meanwhile.
    private mutating func sessionReady(readOnly: Bool, now: NIODeadline) -> [Action] {
        let newState: SessionState = readOnly ? .connectedReadOnly : .connected
        var actions: [Action] = []
        if state != newState {
            state = newState
            actions.append(.stateChanged(newState))
        }
        // Credentials first, then watches, then what callers queued meanwhile (ZooKeeper's order).
        var waiting = authWaitingForConnection
        authWaitingForConnection = []
        for packet in authInfo {
            var waiter: RequestID?
            if let index = waiting.firstIndex(where: { $0.1 == packet }) {
                waiter = waiting.remove(at: index).0
            }
            authInFlight.append(waiter)
            actions.append(.send(xid: SpecialXid.auth, request: .auth(packet)))
        }
        actions += setWatchesRequests()
        while let next = queued.popFirst() {
            actions.append(sendNow(id: next.id, request: next.request, watch: next.watch, now: now))
        }
        return actions
    }

    /// A reply or notification arrived: `header` is decoded, `body` holds the rest of the frame.
    public mutating func replyReceived(_ header: ReplyHeader, body: ByteBuffer, now: NIODeadline) -> [Action] {
        switch phase {
        case .connected, .closing: break
        case .idle, .connecting, .handshaking, .terminated: return []
        }
        lastReceive = now
        lastHeardFromServer = now
        switch header.xid {
        case SpecialXid.notification:
            var body = body
            guard let event = try? WatcherEvent(from: &body) else {
                return [.closeConnection] + connectionLost(now: now, reason: "malformed watch notification")
            }
            let ids = watches.materialize(event.type, path: event.path)
            guard !ids.isEmpty else { return [] }
            return [.fireWatches(ids, ServerWatchEvent(type: event.type, path: event.path, zxid: header.zxid))]
        case SpecialXid.ping:
            return []
        case SpecialXid.auth:
            let waiter = authInFlight.popFirst() ?? nil
            if header.err == 0 {
                return waiter.map { [.succeed($0, .empty)] } ?? []
            }
            var actions: [Action] = []
            if let waiter { actions.append(.fail(waiter, ZooKeeperError(.authFailed))) }
            return actions + [.closeConnection] + terminate(.authFailed, error: ZooKeeperError(.authFailed))
        default:
            break
        }
        guard let outstanding = pending.popFirst() else {
            return [.closeConnection] + connectionLost(now: now, reason: "unexpected reply xid \(header.xid)")
        }
        guard outstanding.xid == header.xid else {
            pending.prepend(outstanding)
            return [.closeConnection] + connectionLost(
                now: now, reason: "reply xid \(header.xid) does not match request xid \(outstanding.xid)")
        }
        if header.zxid > 0 { lastZxidSeen = max(lastZxidSeen, header.zxid) }
        return complete(outstanding, header: header, body: body, now: now)
    }

    /// The current connection closed or failed.
    public mutating func connectionLost(now: NIODeadline, reason: String) -> [Action] {
        switch phase {
        case .connecting, .handshaking:
            return attemptFailed(now: now)
        case .connected:
            var actions = failInFlight(ZooKeeperError(.connectionLoss, detail: reason))
            saslExchange = nil
            state = .disconnected
            actions.append(.stateChanged(.disconnected))
            // The first retry goes out quickly, to the next host.
            phase = .idle(retryAt: now + .milliseconds(Int64.random(in: 0...50, using: &rng)))
            return actions
        case .closing:
            return terminate(.closed, error: nil)
        case .idle, .terminated:
            return []
        }
    }

    /// A probed host answered that it is read-write: move the session there.
    public mutating func readWriteServerFound(_ host: HostAndPort, now: NIODeadline) -> [Action] {
        guard case .connected(_, true) = phase,
              let index = configuration.hosts.firstIndex(of: host) else { return [] }
        var actions: [Action] = [.closeConnection]
        actions += failInFlight(ZooKeeperError(.connectionLoss, detail: "moving to read-write server \(host)"))
        saslExchange = nil
        nextHostIndex = index
        phase = .idle(retryAt: now)
        state = .disconnected
        actions.append(.stateChanged(.disconnected))
        if sessionIsReadOnlyLocal {
            sessionId = 0
            password = [UInt8](repeating: 0, count: 16)
        }
        return actions
    }

    /// A caller submits a request, optionally leaving a watch.
    public mutating func submit(_ request: ZooKeeperRequest, id: RequestID, watch: WatchIntent? = nil, now: NIODeadline) -> [Action] {
        switch phase {
        case .terminated(let terminal):
            return [.fail(id, terminalError(terminal).withPath(request.path))]
        case .closing:
            return [.fail(id, ZooKeeperError(.sessionExpired, path: request.path, detail: "session is closing"))]
        case .connected where saslExchange != nil:
            queued.append(Queued(id: id, request: request, watch: watch))
            return []
        case .connected:
            return [sendNow(id: id, request: request, watch: watch, now: now)]
        case .idle, .connecting, .handshaking:
            queued.append(Queued(id: id, request: request, watch: watch))
            return []
        }
    }

    /// Adds credentials; they are sent now if connected and again after every reconnect.
    public mutating func addAuth(_ packet: AuthPacket, id: RequestID) -> [Action] {
        if case .terminated(let terminal) = phase { return [.fail(id, terminalError(terminal))] }
        if !authInfo.contains(packet) { authInfo.append(packet) }
        if case .connected = phase, saslExchange == nil {
            authInFlight.append(id)
            return [.send(xid: SpecialXid.auth, request: .auth(packet))]
        }
        authWaitingForConnection.append((id, packet))
        return []
    }

    /// Removes a watch registration locally (the caller stopped listening).
    public mutating func watchCancelled(_ id: WatchID) -> [Action] {
        watches.remove(id)
        return []
    }

    /// Removes local registrations of `kinds` on `path` (after the server agreed, or with local=true).
    public mutating func removeLocalWatches(path: String, kinds: [WatchKind]) -> [Action] {
        let removed = watches.removeAll(path: path, kinds: kinds)
        return removed.isEmpty ? [] : [.finishWatches(removed, nil)]
    }

    /// Whether a registration is active.
    public func isWatchRegistered(_ id: WatchID) -> Bool { watches.contains(id) }

    /// Whether a watch of `kind` on `path` is registered locally.
    public func hasLocalWatch(path: String, kind: WatchKind) -> Bool { watches.contains(path: path, kind: kind) }

    /// Ends the session: closeSession when connected, otherwise just stop.
    public mutating func closeRequested(id: RequestID, now: NIODeadline) -> [Action] {
        switch phase {
        case .connected:
            phase = .closing(since: now)
            let xid = takeXid()
            pending.append(Outstanding(id: id, xid: xid, request: .closeSession, watch: nil))
            lastSend = now
            return [.send(xid: xid, request: .closeSession)]
        case .idle, .connecting, .handshaking:
            return [.succeed(id, .empty)] + terminate(.closed, error: nil)
        case .closing:
            return [.succeed(id, .empty)]
        case .terminated:
            return [.succeed(id, .empty)]
        }
    }

    // MARK: SASL

    private mutating func makeCnonce() -> String {
        var bytes: [UInt8] = []
        for _ in 0..<3 { withUnsafeBytes(of: rng.next().littleEndian) { bytes += $0 } }
        return SASLDigestClient.hex(bytes)
    }

    private mutating func sendSASL(_ token: [UInt8], now: NIODeadline) -> Action {
        sendNow(id: nil, request: .sasl(GetSASLRequest(token: token)), watch: nil, now: now)
    }

    private mutating func saslReplyReceived(header: ReplyHeader, body: ByteBuffer, now: NIODeadline) -> [Action] {
        guard var exchange = saslExchange, case .connected(_, let readOnly) = phase else {
            return []  // The session is closing: the exchange no longer matters.
        }
        func failed(_ reason: String) -> [Action] {
            saslExchange = nil
            let error = ZooKeeperError(.authFailed, detail: "SASL DIGEST-MD5 as \(exchange.username): \(reason)")
            return [.closeConnection] + terminate(.authFailed, error: error)
        }
        let code = ZooKeeperError.Code(rawValue: header.err)
        guard code == .ok else {
            return failed(code == .authFailed ? "the server rejected the credentials" : "the server answered \(code.name)")
        }
        var body = body
        guard let response = try? SetSASLResponse(from: &body) else { return failed("malformed SetSASLResponse") }
        let step = exchange.step(response.token ?? [])
        saslExchange = exchange
        switch step {
        case .respond(let token):
            return [sendSASL(token, now: now)]
        case .succeeded:
            saslExchange = nil
            return sessionReady(readOnly: readOnly, now: now)
        case .failed(let reason):
            return failed(reason)
        }
    }

    // MARK: Internals

    private mutating func takeXid() -> Int32 {
        let xid = nextXid
        nextXid = nextXid == Int32.max ? 1 : nextXid + 1
        return xid
    }

    private mutating func sendNow(id: RequestID?, request: ZooKeeperRequest, watch: WatchIntent?, now: NIODeadline) -> Action {
        let xid = takeXid()
        pending.append(Outstanding(id: id, xid: xid, request: request, watch: watch))
        lastSend = now
        return .send(xid: xid, request: request)
    }

    private mutating func setWatchesRequests() -> [Action] {
        let snapshot = watches.snapshot()
        guard !snapshot.isEmpty else { return [] }
        let usePersistent = !snapshot.persistent.isEmpty || !snapshot.persistentRecursive.isEmpty
        // Split into packets of at most `setWatchesPacketLimit` path bytes, list by list, in ZooKeeper's order.
        var packets: [[[String]]] = []
        var current: [[String]] = Array(repeating: [], count: 5)
        var size = 0
        let lists = [snapshot.data, snapshot.exist, snapshot.child, snapshot.persistent, snapshot.persistentRecursive]
        for (listIndex, list) in lists.enumerated() {
            for path in list {
                if size + path.utf8.count > configuration.setWatchesPacketLimit, size > 0 {
                    packets.append(current)
                    current = Array(repeating: [], count: 5)
                    size = 0
                }
                current[listIndex].append(path)
                size += path.utf8.count
            }
        }
        packets.append(current)
        return packets.map { lists in
            let request: ZooKeeperRequest
            if usePersistent {
                request = .setWatches2(SetWatches2(
                    relativeZxid: lastZxidSeen, dataWatches: lists[0], existWatches: lists[1], childWatches: lists[2],
                    persistentWatches: lists[3], persistentRecursiveWatches: lists[4]))
            } else {
                request = .setWatches(SetWatches(
                    relativeZxid: lastZxidSeen, dataWatches: lists[0], existWatches: lists[1], childWatches: lists[2]))
            }
            return sendNow(id: nil, request: request, watch: nil, now: lastSend)
        }
    }

    private mutating func complete(_ outstanding: Outstanding, header: ReplyHeader, body: ByteBuffer, now: NIODeadline) -> [Action] {
        let opCode = outstanding.request.opCode
        if opCode == .closeSession {
            var actions: [Action] = []
            if let id = outstanding.id { actions.append(.succeed(id, .empty)) }
            return actions + terminate(.closed, error: nil)
        }
        if opCode == .sasl, outstanding.id == nil {
            return saslReplyReceived(header: header, body: body, now: now)
        }
        guard let id = outstanding.id else { return [] }  // SetWatches: nothing to report.
        let code = ZooKeeperError.Code(rawValue: header.err)
        if code != .ok {
            // exists on a missing node still leaves a watch: for the node's creation.
            if opCode == .exists, code == .noNode, case .data(let watchID) = outstanding.watch {
                watches.add(watchID, kind: .exist, path: outstanding.request.path ?? "/")
            }
            if code == .sessionExpired {
                return [.fail(id, ZooKeeperError(code, path: outstanding.request.path))]
                    + [.closeConnection] + terminate(.expired, error: ZooKeeperError(.sessionExpired))
            }
            return [.fail(id, ZooKeeperError(code, path: outstanding.request.path))]
        }
        var body = body
        let response: ZooKeeperResponse
        do {
            response = try ZooKeeperResponse.decode(opCode: opCode, from: &body)
        } catch {
            return [.fail(id, ZooKeeperError(.marshallingError, path: outstanding.request.path, detail: "\(error)"))]
        }
        if let watch = outstanding.watch, let path = outstanding.request.path {
            switch watch {
            case .data(let watchID): watches.add(watchID, kind: .data, path: path)
            case .child(let watchID): watches.add(watchID, kind: .child, path: path)
            case .persistent(let watchID): watches.add(watchID, kind: .persistent, path: path)
            case .persistentRecursive(let watchID): watches.add(watchID, kind: .persistentRecursive, path: path)
            }
        }
        return [.succeed(id, response)]
    }

    private mutating func attemptFailed(now: NIODeadline) -> [Action] {
        failedAttemptsInRound += 1
        var delay: TimeAmount = .zero
        if failedAttemptsInRound >= configuration.hosts.count {
            failedAttemptsInRound = 0
            failedRounds += 1
            let ceiling = min(Int64(1000), Int64(50) << min(failedRounds, 5))
            delay = .milliseconds(Int64.random(in: ceiling / 2...ceiling, using: &rng))
        }
        phase = .idle(retryAt: now + delay)
        return failHandshakeOnlyAuth()
    }

    private mutating func failHandshakeOnlyAuth() -> [Action] {
        // Auth packets sent during a handshake that failed are re-sent on the next one.
        authInFlight.removeAll()
        return []
    }

    private mutating func failInFlight(_ error: ZooKeeperError) -> [Action] {
        var actions: [Action] = []
        while let outstanding = pending.popFirst() {
            guard let id = outstanding.id else { continue }
            if outstanding.request == .closeSession {
                // The caller asked to end the session; without a connection it is ended locally.
                actions.append(.succeed(id, .empty))
            } else {
                actions.append(.fail(id, error.withPath(outstanding.request.path)))
            }
        }
        while let waiter = authInFlight.popFirst() {
            if let waiter { actions.append(.fail(waiter, error)) }
        }
        return actions
    }

    private func terminalError(_ state: SessionState) -> ZooKeeperError {
        switch state {
        case .authFailed: return ZooKeeperError(.authFailed)
        case .closed: return ZooKeeperError(.sessionExpired, detail: "session closed")
        case .expired, .connecting, .connected, .connectedReadOnly, .disconnected: return ZooKeeperError(.sessionExpired)
        }
    }

    private mutating func terminate(_ terminal: SessionState, error: ZooKeeperError?) -> [Action] {
        if case .terminated = phase { return [] }
        phase = .terminated(terminal)
        let failure = error ?? terminalError(terminal)
        terminationError = failure
        var actions = failInFlight(failure)
        while let next = queued.popFirst() { actions.append(.fail(next.id, failure.withPath(next.request.path))) }
        for (id, _) in authWaitingForConnection { actions.append(.fail(id, failure)) }
        authWaitingForConnection = []
        let ids = watches.removeEverything()
        if !ids.isEmpty { actions.append(.finishWatches(ids, error)) }
        state = terminal
        actions.append(.stateChanged(terminal))
        return actions
    }
}
