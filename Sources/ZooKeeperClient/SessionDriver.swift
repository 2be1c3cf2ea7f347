import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ZooKeeperProtocol

/// Runs a ``SessionStateMachine`` on one event loop: feeds it network events and time, and carries
/// out its actions (connect, write frames, resume callers, deliver watch events).
///
/// Every method must be called on `eventLoop`; public entry points hop there first.
final class SessionDriver: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var machine: SessionStateMachine
    private let logger: Logger
    private let maximumFrameLength: Int
    private let chroot: String?

    private var channel: (any Channel)?
    private var connectionID = 0
    private var needsFlush = false
    private var flushScheduled = false
    private var lastConnectError: String?
    /// Connection attempts refused in a row (reset by a successful connect).
    private(set) var refusedAttemptsInARow = 0
    var hostCount: Int { machine.configuration.hosts.count }
    private var ticker: RepeatedTask?
    /// TLS for every connection, set by ``setTLS(_:options:)`` before ``start()``.
    private var tls: (context: NIOSSLContext, options: ZooKeeperClient.TLSOptions)?

    private var nextRequestID: UInt64 = 1
    private var nextWatchID: UInt64 = 1
    private var requests: [RequestID: CheckedContinuation<ZooKeeperResponse, any Error>] = [:]
    private var watchStreams: [WatchID: (continuation: AsyncThrowingStream<WatchedEvent, any Error>.Continuation, oneShot: Bool)] = [:]
    private var stateListeners: [UInt64: AsyncStream<SessionState>.Continuation] = [:]
    private var nextListenerID: UInt64 = 1

    init(configuration: SessionStateMachine.Configuration, chroot: String?, seed: UInt64, maximumFrameLength: Int,
         eventLoop: any EventLoop, logger: Logger) {
        self.eventLoop = eventLoop
        self.machine = SessionStateMachine(configuration: configuration, seed: seed, now: .now())
        self.chroot = chroot
        self.maximumFrameLength = maximumFrameLength
        self.logger = logger
    }

    // MARK: Read-only views (on the loop)

    var state: SessionState { machine.state }
    var sessionId: Int64 { machine.sessionId }
    var sessionPassword: [UInt8] { machine.password }
    var negotiatedTimeout: Int32 { machine.negotiatedTimeout }
    var lastZxidSeen: Int64 { machine.lastZxidSeen }
    var currentHost: HostAndPort? { machine.currentHost }
    var lastError: String? { lastConnectError }
    var terminationError: ZooKeeperError? { machine.terminationError }

    func setTLS(_ context: NIOSSLContext, options: ZooKeeperClient.TLSOptions) {
        tls = (context, options)
    }

    // MARK: Lifecycle

    func start() {
        eventLoop.assertInEventLoop()
        guard ticker == nil else { return }
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(50)) { [weak self] _ in
            guard let self else { return }
            self.run(self.machine.tick(now: .now()))
        }
    }

    func stop() {
        ticker?.cancel()
        ticker = nil
        channel?.close(promise: nil)
        channel = nil
        for (_, listener) in stateListeners { listener.finish() }
        stateListeners = [:]
    }

    // MARK: Caller entry points (on the loop)

    func makeRequestID() -> RequestID {
        defer { nextRequestID += 1 }
        return RequestID(rawValue: nextRequestID)
    }

    func submit(_ request: ZooKeeperRequest, id: RequestID, watch: SessionStateMachine.WatchIntent?,
                continuation: CheckedContinuation<ZooKeeperResponse, any Error>) {
        requests[id] = continuation
        run(machine.submit(request, id: id, watch: watch, now: .now()))
    }

    /// The caller gave up waiting: resume it now; the reply, when it comes, is dropped.
    func abandon(_ id: RequestID) {
        requests.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    func addAuth(_ packet: AuthPacket, continuation: CheckedContinuation<ZooKeeperResponse, any Error>) {
        let id = makeRequestID()
        requests[id] = continuation
        run(machine.addAuth(packet, id: id))
    }

    func close(continuation: CheckedContinuation<ZooKeeperResponse, any Error>) {
        let id = makeRequestID()
        requests[id] = continuation
        run(machine.closeRequested(id: id, now: .now()))
    }

    /// Makes a watch stream whose registration the caller's request will create.
    func makeWatch(kind: WatchKind, path: String) -> ZooKeeperWatch {
        let id = WatchID(rawValue: nextWatchID)
        nextWatchID += 1
        let (stream, continuation) = AsyncThrowingStream<WatchedEvent, any Error>.makeStream()
        continuation.onTermination = { [weak self] termination in
            guard let self, case .cancelled = termination else { return }
            self.eventLoop.execute {
                self.watchStreams[id] = nil
                self.run(self.machine.watchCancelled(id))
            }
        }
        watchStreams[id] = (continuation, kind.isOneShot)
        return ZooKeeperWatch(id: id, kind: kind, path: path, stream: stream)
    }

    /// Ends a watch stream whose request did not leave a registration.
    func discardWatchIfUnregistered(_ watch: ZooKeeperWatch, error: (any Error)?) {
        guard !machine.isWatchRegistered(watch.id), let entry = watchStreams.removeValue(forKey: watch.id) else { return }
        entry.continuation.finish(throwing: error)
    }

    /// Ends one watch registration locally. Returns whether any registration of the same kind
    /// remains on the path (when none does, the caller may ask the server to drop its watch).
    func stopWatching(_ watch: ZooKeeperWatch) -> (wasRegistered: Bool, othersRemain: Bool, anyOnPath: Bool) {
        let wasRegistered = machine.isWatchRegistered(watch.id)
        run(machine.watchCancelled(watch.id))
        watchStreams.removeValue(forKey: watch.id)?.continuation.finish()
        let path = ZooKeeperPath.prependChroot(chroot, to: watch.path)
        let sameKind: [WatchKind] = watch.kind == .data || watch.kind == .exist ? [.data, .exist] : [watch.kind]
        return (wasRegistered, hasLocalWatch(path: path, kinds: sameKind), hasLocalWatch(path: path, kinds: WatchKind.allCases))
    }

    func removeLocalWatches(path: String, kinds: [WatchKind]) -> Bool {
        let actions = machine.removeLocalWatches(path: path, kinds: kinds)
        run(actions)
        return !actions.isEmpty
    }

    func hasLocalWatch(path: String, kinds: [WatchKind]) -> Bool {
        kinds.contains { machine.hasLocalWatch(path: path, kind: $0) }
    }

    func stateStream() -> AsyncStream<SessionState> {
        let (stream, continuation) = AsyncStream<SessionState>.makeStream()
        let id = nextListenerID
        nextListenerID += 1
        continuation.yield(machine.state)
        if machine.state.isTerminal {
            continuation.finish()
            return stream
        }
        stateListeners[id] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.eventLoop.execute { self.stateListeners[id] = nil }
        }
        return stream
    }

    // MARK: Network events (on the loop)

    func connectResponseReceived(_ response: ConnectResponse, connectionID: Int) {
        guard connectionID == self.connectionID else { return }
        refusedAttemptsInARow = 0
        run(machine.connectResponseReceived(response, now: .now()))
    }

    func replyReceived(_ header: ReplyHeader, body: ByteBuffer, connectionID: Int) {
        guard connectionID == self.connectionID else { return }
        run(machine.replyReceived(header, body: body, now: .now()))
    }

    func connectionFailed(connectionID: Int, reason: String) {
        guard connectionID == self.connectionID else { return }
        lastConnectError = reason
        // A server whose certificate fails verification (or that rejects ours) fails the same
        // way every time: count it like a refusal so connect() gives up early.
        if reason.hasPrefix("TLS ") { refusedAttemptsInARow += 1 }
        channel = nil
        self.connectionID += 1
        logger.debug("connection lost", metadata: ["reason": "\(reason)"])
        run(machine.connectionLost(now: .now(), reason: reason))
    }

    func flushIfNeeded(connectionID: Int) {
        guard connectionID == self.connectionID, needsFlush, let channel else { return }
        needsFlush = false
        channel.flush()
    }

    // MARK: Actions

    private func run(_ actions: [SessionStateMachine.Action]) {
        for action in actions {
            run(action)
        }
        scheduleFlush()
        wakeProgressWaiters()
    }

    // MARK: Waiting for progress

    private var progressWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextProgressWaiter = 0

    /// Resumes `continuation` after the state machine's next step (a connection opened or
    /// failed, a reply, a state change), or after `maximum` if none comes first.
    func waitForProgress(maximum: TimeAmount, _ continuation: CheckedContinuation<Void, Never>) {
        let id = nextProgressWaiter
        nextProgressWaiter += 1
        progressWaiters[id] = continuation
        eventLoop.scheduleTask(in: maximum) { [weak self] in
            self?.progressWaiters.removeValue(forKey: id)?.resume()
        }
    }

    private func wakeProgressWaiters() {
        guard !progressWaiters.isEmpty else { return }
        let waiters = progressWaiters
        progressWaiters = [:]
        for (_, continuation) in waiters { continuation.resume() }
    }

    /// Flushes once the loop has run what is queued on it now: requests submitted together
    /// (by many tasks at once) leave in one write instead of one write each.
    private func scheduleFlush() {
        guard needsFlush, !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [weak self] in
            guard let self else { return }
            self.flushScheduled = false
            if self.needsFlush, let channel = self.channel {
                self.needsFlush = false
                channel.flush()
            }
        }
    }

    private func run(_ action: SessionStateMachine.Action) {
        switch action {
        case .openConnection(let host):
            openConnection(to: host)
        case .sendConnectRequest(let request):
            guard let channel else { return }
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeZooKeeperFrame { request.encode(into: &$0) }
            channel.write(buffer, promise: nil)
            needsFlush = true
        case .send(let xid, let request):
            guard let channel else { return }
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeRequestFrame(xid: xid, request: request)
            channel.write(buffer, promise: nil)
            needsFlush = true
        case .closeConnection:
            if let channel {
                if needsFlush { channel.flush(); needsFlush = false }
                channel.close(promise: nil)
            }
            channel = nil
            connectionID += 1
        case .succeed(let id, let response):
            requests.removeValue(forKey: id)?.resume(returning: response)
        case .fail(let id, let error):
            requests.removeValue(forKey: id)?.resume(throwing: error)
        case .fireWatches(let ids, let event):
            let visible = WatchedEvent(type: event.type, path: ZooKeeperPath.stripChroot(chroot, from: event.path), zxid: event.zxid)
            for id in ids {
                guard let entry = watchStreams[id] else { continue }
                entry.continuation.yield(visible)
                if entry.oneShot {
                    watchStreams[id] = nil
                    entry.continuation.finish()
                }
            }
        case .finishWatches(let ids, let error):
            for id in ids {
                watchStreams.removeValue(forKey: id)?.continuation.finish(throwing: error)
            }
        case .probeReadWrite(let host):
            probeReadWrite(host)
        case .stateChanged(let state):
            logger.debug("session state", metadata: ["state": "\(state)"])
            for (_, listener) in stateListeners {
                listener.yield(state)
                if state.isTerminal { listener.finish() }
            }
            if state.isTerminal {
                stateListeners = [:]
                ticker?.cancel()
                ticker = nil
            }
        }
    }

    private func openConnection(to host: HostAndPort) {
        connectionID += 1
        let id = connectionID
        let maximumFrameLength = self.maximumFrameLength
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Reads grow to a whole maximum-size reply (1 MiB) when replies are that large, so a
            // big reply arrives in one buffer instead of being gathered from 64 KiB reads by
            // copying; small replies keep small buffers (the allocator adapts to what arrives).
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 64, initial: 2048, maximum: ZooKeeperFrameDecoder.defaultMaximumFrameLength + 4))
            .connectTimeout(machine.connectAttemptTimeout)
            .channelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    // The session may have been closed and released while this connection was being set up.
                    guard let self else { throw ChannelError.ioOnClosedChannel }
                    if let tls {
                        let handler = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.options.serverName(for: host.host))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(ZooKeeperFrameDecoder(maximumFrameLength: maximumFrameLength)))
                    try channel.pipeline.syncOperations.addHandler(ZooKeeperChannelHandler(driver: self, connectionID: id))
                }
            }
        bootstrap.connect(host: host.host, port: host.port).hop(to: eventLoop).whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let channel):
                guard id == self.connectionID else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                // With TLS a failed handshake counts as a refusal: only the ZooKeeper handshake resets it.
                if tls == nil { self.refusedAttemptsInARow = 0 }
                self.run(self.machine.channelConnected(now: .now()))
            case .failure(let error):
                guard id == self.connectionID else { return }
                let description = Self.describe(error)
                if description == "connection refused" { self.refusedAttemptsInARow += 1 } else { self.refusedAttemptsInARow = 0 }
                self.lastConnectError = "\(host): \(description)"
                self.logger.debug("connect failed", metadata: ["host": "\(host)", "error": "\(error)"])
                self.run(self.machine.connectFailed(now: .now(), reason: "\(error)"))
            }
        }
    }

    private func probeReadWrite(_ host: HostAndPort) {
        let future = FourLetterWord.send("isro", to: host, eventLoop: eventLoop, timeout: .seconds(2))
        future.whenSuccess { [weak self] answer in
            guard let self, answer.trimmingCharactersInWhitespace() == "rw" else { return }
            self.run(self.machine.readWriteServerFound(host, now: .now()))
        }
    }

    /// A short human description of a connect error (`connection refused`, `timed out`).
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dnsError = error.dnsAAAAError ?? error.dnsAError { return "cannot resolve host: \(dnsError)" }
            return "no address to connect to"
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ETIMEDOUT: return "timed out"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable"
            case ECONNRESET: return "connection reset"
            default: return String(cString: strerror(error.errnoCode))
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out" }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let inner):
                let text = "\(inner)"
                if text.contains("CERTIFICATE_VERIFY_FAILED") {
                    return "TLS handshake failed: the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)"
                }
                if text.contains("ALERT") {
                    return "TLS handshake failed: the server rejected the connection (\(text)); does it require a client certificate?"
                }
                return "TLS handshake failed: \(text)"
            case .uncleanShutdown:
                return "TLS connection closed uncleanly (did the server reject the client certificate?)"
            default:
                return "TLS error: \(error)"
            }
        }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "TLS handshake failed: the server's certificate does not match its name or address (\(error))"
        }
        return "\(error)"
    }
}
