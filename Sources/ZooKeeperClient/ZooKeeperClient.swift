import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ZooKeeperProtocol

/// A ZooKeeper client: one session, kept alive across reconnects, with every operation as an
/// async method.
///
/// ```swift
/// let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
/// let client = try ZooKeeperClient(connectString: "127.0.0.1:2181,127.0.0.1:2182/app", eventLoopGroup: group)
/// try await client.connect()
/// let created = try await client.create("/config", data: Array("v1".utf8))
/// let (data, stat, watch) = try await client.getDataAndWatch("/config")
/// for try await event in watch { print(event) }   // NodeDataChanged /config
/// try await client.close()
/// ```
///
/// Requests may be issued from many tasks at once: they are pipelined on one connection and
/// answered in order. When the connection drops, calls in flight fail with CONNECTIONLOSS and the
/// client reconnects to the next server with the same session id and password, so the session,
/// its ephemeral nodes and its watches survive. If the session expires, every pending call fails
/// with SESSIONEXPIRED and ``sessionStates()`` reports `.expired`.
public final class ZooKeeperClient: Sendable {
    /// How to reach the ensemble and what session to ask for.
    public struct Configuration: Sendable {
        /// Servers and optional chroot.
        public var connectString: ConnectString
        /// Requested session timeout; the server clamps it to its bounds.
        public var sessionTimeout: Duration = .seconds(30)
        /// How long ``ZooKeeperClient/connect()`` waits for the first session before failing.
        public var connectTimeout: Duration = .seconds(15)
        /// Accept read-only servers (ensemble members cut off from the quorum).
        public var canBeReadOnly: Bool = false
        /// Largest frame accepted from the server (ZooKeeper's jute.maxbuffer plus headers).
        public var maximumFrameLength: Int = ZooKeeperFrameDecoder.defaultMaximumFrameLength
        /// Credentials sent right after the session opens, and after every reconnect.
        public var credentials: [(scheme: String, auth: [UInt8])] = []
        /// Seed for host order and reconnect jitter; nil picks a random one.
        public var seed: UInt64? = nil
        /// Give up connecting as soon as every server refused the connection twice in a row
        /// (nothing listens there), instead of retrying until `connectTimeout`.
        public var failFastWhenRefused: Bool = true
        /// Resume this existing session (id and password from ``ZooKeeperClient/sessionPassword``)
        /// instead of creating a new one.
        public var resumeSession: (id: Int64, password: [UInt8])? = nil
        /// Connect with TLS (to the servers' `secureClientPort`).
        public var tls: TLSOptions? = nil
        /// SASL DIGEST-MD5 user and password (as a JAAS `Client` section with ZooKeeper's
        /// `DigestLoginModule`). The exchange runs on every connection right after the handshake,
        /// before any other request; the server then knows the session as `sasl:<username>`.
        /// A rejection ends the session with AUTHFAILED.
        public var sasl: (username: String, password: String)? = nil

        public init(connectString: ConnectString) {
            self.connectString = connectString
        }

        public init(connectString: String) throws {
            self.connectString = try ConnectString(parsing: connectString)
        }
    }

    public let configuration: Configuration
    /// An executor on this client's event loop, for tasks that mostly await its requests
    /// (`Task(executorPreference: client.taskExecutor) { … }`); see ``EventLoopTaskExecutor``.
    public let taskExecutor: EventLoopTaskExecutor
    private let driver: SessionDriver
    private let requestIDs = NIOLockedValueBox<UInt64>(1 << 32)
    private var chroot: String? { configuration.connectString.chroot }

    /// Creates a client. Nothing happens on the network until ``connect()``.
    public init(configuration: Configuration, eventLoopGroup: any EventLoopGroup, logger: Logger = Logger(label: "zksh.client")) {
        self.configuration = configuration
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        var rng = SplitMix64(seed: seed)
        let hosts = configuration.connectString.hosts.shuffled(using: &rng)
        let timeoutMilliseconds = Int32(clamping: configuration.sessionTimeout.components.seconds * 1000
            + configuration.sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        var sessionConfiguration = SessionStateMachine.Configuration(
            hosts: hosts, sessionTimeout: timeoutMilliseconds, canBeReadOnly: configuration.canBeReadOnly)
        sessionConfiguration.resumeSession = configuration.resumeSession
        sessionConfiguration.sasl = configuration.sasl
        self.driver = SessionDriver(
            configuration: sessionConfiguration,
            chroot: configuration.connectString.chroot, seed: rng.next(),
            maximumFrameLength: configuration.maximumFrameLength, eventLoop: eventLoopGroup.next(), logger: logger)
        self.taskExecutor = EventLoopTaskExecutor(eventLoop: driver.eventLoop)
    }

    /// Creates a client for a connect string (`h1:p1,h2:p2[/chroot]`).
    public convenience init(connectString: String, sessionTimeout: Duration = .seconds(30),
                            eventLoopGroup: any EventLoopGroup, logger: Logger = Logger(label: "zksh.client")) throws {
        var configuration = try Configuration(connectString: connectString)
        configuration.sessionTimeout = sessionTimeout
        self.init(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    // MARK: Session

    /// Opens the session and waits until it is established (or fails after `connectTimeout`).
    ///
    /// Throws CONNECTIONLOSS naming the last server error when no server answered in time (the
    /// client is then closed), or the terminal error (AUTHFAILED, SESSIONEXPIRED).
    public func connect() async throws {
        if let tls = configuration.tls {
            let context: NIOSSLContext
            do {
                context = try tls.makeContext()
            } catch {
                try? await close()
                throw error
            }
            await onLoop { $0.setTLS(context, options: tls) }
        }
        await onLoop { $0.start() }
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let failFast = configuration.failFastWhenRefused
        var outcome: SessionState?
        do {
            while true {
                let (state, refused, hosts) = await onLoop { ($0.state, $0.refusedAttemptsInARow, $0.hostCount) }
                if state.isConnected || state.isTerminal { outcome = state; break }
                if failFast && refused >= 2 * hosts { break }
                if ContinuousClock.now >= deadline { break }
                try Task.checkCancellation()
                // Until the session's next step, or 10 ms at most (deadline and cancellation are
                // checked at least that often).
                let driver = self.driver
                await withCheckedContinuation { continuation in
                    driver.eventLoop.execute { driver.waitForProgress(maximum: .milliseconds(10), continuation) }
                }
            }
        } catch {
            try? await close()
            throw error
        }
        guard let outcome, outcome.isConnected else {
            let (detail, terminationError) = await onLoop { ($0.lastError, $0.terminationError) }
            try? await close()
            if outcome == .authFailed { throw terminationError ?? ZooKeeperError(.authFailed) }
            if outcome == .expired { throw ZooKeeperError(.sessionExpired) }
            throw ZooKeeperError(.connectionLoss, detail: "could not connect to \(configuration.connectString)"
                + " (\(Self.shortDetail(detail, hostCount: configuration.connectString.hosts.count)))")
        }
        do {
            for credential in configuration.credentials {
                try await addAuth(scheme: credential.scheme, auth: credential.auth)
            }
        } catch {
            try? await close()
            throw error
        }
    }

    /// The last attempt's error; without the host when there is only one.
    private static func shortDetail(_ detail: String?, hostCount: Int) -> String {
        guard let detail else { return "timed out" }
        guard hostCount == 1 else { return detail }
        let parts = detail.split(separator: " ", maxSplits: 1)
        return parts.count == 2 && parts[0].hasSuffix(":") ? String(parts[1]) : detail
    }

    /// Ends the session: the server deletes its ephemeral nodes. Later calls fail.
    public func close() async throws {
        _ = try await withCheckedThrowingContinuation { continuation in
            driver.eventLoop.execute { self.driver.close(continuation: continuation) }
        }
        await onLoop { $0.stop() }
    }

    /// The current state, then every change, ending after a terminal state.
    public func sessionStates() async -> AsyncStream<SessionState> {
        await onLoop { $0.stateStream() }
    }

    /// The current session state.
    public var state: SessionState { get async { await onLoop { $0.state } } }
    /// The session id (0 before the first connection).
    public var sessionID: Int64 { get async { await onLoop { $0.sessionId } } }
    /// The session password, needed with ``sessionID`` to resume the session from another client.
    public var sessionPassword: [UInt8] { get async { await onLoop { $0.sessionPassword } } }
    /// The negotiated session timeout in milliseconds.
    public var negotiatedTimeout: Int32 { get async { await onLoop { $0.negotiatedTimeout } } }
    /// The server of the current connection.
    public var connectedHost: HostAndPort? { get async { await onLoop { $0.currentHost } } }
    /// The highest zxid seen.
    public var lastZxidSeen: Int64 { get async { await onLoop { $0.lastZxidSeen } } }

    // MARK: Operations

    /// Creates a node and returns its final path (with any sequence suffix) and Stat.
    ///
    /// - Parameters:
    ///   - mode: persistent, ephemeral, sequential variants, container or TTL.
    ///   - ttl: milliseconds, required for (and only for) the TTL modes; the server needs
    ///     `zookeeper.extendedTypesEnabled=true`.
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], acl: [ACL] = ACL.openUnsafe,
                       mode: CreateMode = .persistent, ttl: Int64? = nil) async throws -> CreateResult {
        try validate(path, sequential: mode.isSequential)
        let request = try makeCreate(path: path, data: data, acl: acl, mode: mode, ttl: ttl)
        switch try await send(request, path: path) {
        case .create2(let response):
            return CreateResult(path: stripChroot(response.path), stat: response.stat)
        default:
            throw unexpected(path)
        }
    }

    /// Deletes a node; `version` -1 matches any version.
    public func delete(_ path: String, version: Int32 = -1) async throws {
        try validate(path)
        _ = try await send(.delete(DeleteRequest(path: server(path), version: version)), path: path)
    }

    /// The node's Stat, or nil when it does not exist.
    public func exists(_ path: String) async throws -> Stat? {
        try validate(path)
        do {
            guard case .stat(let stat) = try await send(.exists(PathWatchRequest(path: server(path), watch: false)), path: path) else {
                throw unexpected(path)
            }
            return stat
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    /// The node's Stat (nil when missing), and a one-shot watch for its creation, deletion or data change.
    public func existsAndWatch(_ path: String) async throws -> (stat: Stat?, watch: ZooKeeperWatch) {
        try validate(path)
        let (response, watch) = try await sendWatching(
            .exists(PathWatchRequest(path: server(path), watch: true)), path: path, kind: .data, allowNoNode: true)
        guard let response else { return (nil, watch) }
        guard case .stat(let stat) = response else { throw unexpected(path) }
        return (stat, watch)
    }

    /// The node's data and Stat.
    public func getData(_ path: String) async throws -> (data: [UInt8], stat: Stat) {
        try validate(path)
        guard case .getData(let response) = try await send(.getData(PathWatchRequest(path: server(path), watch: false)), path: path) else {
            throw unexpected(path)
        }
        return (response.data ?? [], response.stat)
    }

    /// The node's data and Stat, and a one-shot watch for its next data change or deletion.
    public func getDataAndWatch(_ path: String) async throws -> (data: [UInt8], stat: Stat, watch: ZooKeeperWatch) {
        try validate(path)
        let (response, watch) = try await sendWatching(.getData(PathWatchRequest(path: server(path), watch: true)), path: path, kind: .data)
        guard case .getData(let result)? = response else { throw unexpected(path) }
        return (result.data ?? [], result.stat, watch)
    }

    /// Replaces the node's data; `version` -1 matches any version. Returns the new Stat.
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> Stat {
        try validate(path)
        guard case .stat(let stat) = try await send(.setData(SetDataRequest(path: server(path), data: data, version: version)), path: path) else {
            throw unexpected(path)
        }
        return stat
    }

    /// The node's child names (unsorted, as the server returns them) and its Stat.
    public func getChildren(_ path: String) async throws -> (children: [String], stat: Stat) {
        try validate(path)
        guard case .getChildren2(let response) = try await send(.getChildren2(PathWatchRequest(path: server(path), watch: false)), path: path) else {
            throw unexpected(path)
        }
        return (response.children, response.stat)
    }

    /// The node's children and Stat, and a one-shot watch for a change of its children or its deletion.
    public func getChildrenAndWatch(_ path: String) async throws -> (children: [String], stat: Stat, watch: ZooKeeperWatch) {
        try validate(path)
        let (response, watch) = try await sendWatching(.getChildren2(PathWatchRequest(path: server(path), watch: true)), path: path, kind: .child)
        guard case .getChildren2(let result)? = response else { throw unexpected(path) }
        return (result.children, result.stat, watch)
    }

    /// The node's ACL and Stat.
    public func getACL(_ path: String) async throws -> (acl: [ACL], stat: Stat) {
        try validate(path)
        guard case .getACL(let response) = try await send(.getACL(PathRequest(path: server(path))), path: path) else {
            throw unexpected(path)
        }
        return (response.acl, response.stat)
    }

    /// Replaces the node's ACL; `version` (the aversion) -1 matches any. Returns the new Stat.
    @discardableResult
    public func setACL(_ path: String, acl: [ACL], version: Int32 = -1) async throws -> Stat {
        try validate(path)
        guard case .stat(let stat) = try await send(.setACL(SetACLRequest(path: server(path), acl: acl, version: version)), path: path) else {
            throw unexpected(path)
        }
        return stat
    }

    /// Waits until the connected server has caught up with the leader; returns the path.
    @discardableResult
    public func sync(_ path: String = "/") async throws -> String {
        try validate(path)
        guard case .sync(let synced) = try await send(.sync(PathRequest(path: server(path))), path: path) else {
            throw unexpected(path)
        }
        return stripChroot(synced)
    }

    /// Applies the operations atomically: all succeed or none does.
    ///
    /// Throws ``TransactionError`` naming the failing operation when the server refused it.
    @discardableResult
    public func multi(_ operations: [ZooKeeperOperation]) async throws -> [ZooKeeperOperationResult] {
        guard !operations.isEmpty else { return [] }
        var subRequests: [MultiOperation] = []
        for operation in operations {
            subRequests.append(try makeMultiOperation(operation))
        }
        guard case .multi(let response) = try await send(.multi(MultiRequest(operations: subRequests)), path: nil) else {
            throw unexpected(nil)
        }
        guard response.results.count == operations.count else {
            throw ZooKeeperError(.marshallingError, detail: "transaction reply has \(response.results.count) results for \(operations.count) operations")
        }
        if let failed = response.results.firstIndex(where: { if case .error(let code) = $0 { return code != 0 } else { return false } }) {
            let codes = response.results.map { result -> ZooKeeperError.Code in
                if case .error(let code) = result { return ZooKeeperError.Code(rawValue: code) }
                return .ok
            }
            throw TransactionError(failedIndex: failed, error: ZooKeeperError(codes[failed], path: operations[failed].path), codes: codes)
        }
        return response.results.map { result in
            switch result {
            case .create(let response): return .created(path: stripChroot(response.path), stat: nil)
            case .create2(let response): return .created(path: stripChroot(response.path), stat: response.stat)
            case .delete: return .deleted
            case .setData(let stat): return .dataSet(stat)
            case .check: return .checked
            case .getData, .getChildren, .error: return .checked
            }
        }
    }

    /// Reads several nodes in one round trip; each read succeeds or fails on its own.
    public func multiRead(_ operations: [ZooKeeperReadOperation]) async throws -> [ZooKeeperReadResult] {
        guard !operations.isEmpty else { return [] }
        var subRequests: [MultiOperation] = []
        var paths: [String] = []
        for operation in operations {
            switch operation {
            case .getData(let path):
                try validate(path)
                subRequests.append(.getData(PathWatchRequest(path: server(path), watch: false)))
                paths.append(path)
            case .getChildren(let path):
                try validate(path)
                subRequests.append(.getChildren(PathWatchRequest(path: server(path), watch: false)))
                paths.append(path)
            }
        }
        guard case .multi(let response) = try await send(.multiRead(MultiRequest(operations: subRequests)), path: nil) else {
            throw unexpected(nil)
        }
        return zip(response.results, paths).map { result, path in
            switch result {
            case .getData(let response): return .data(response.data ?? [], response.stat)
            case .getChildren(let children): return .children(children)
            case .error(let code): return .failed(ZooKeeperError(.init(rawValue: code), path: path))
            case .create, .create2, .delete, .setData, .check:
                return .failed(ZooKeeperError(.marshallingError, path: path, detail: "unexpected result"))
            }
        }
    }

    /// This session's ephemeral nodes whose paths start with `prefix` (all of them for `/`).
    public func getEphemerals(prefix: String = "/") async throws -> [String] {
        guard case .getEphemerals(let paths) = try await send(.getEphemerals(PathRequest(path: server(prefix))), path: prefix) else {
            throw unexpected(prefix)
        }
        return paths.map(stripChroot)
    }

    /// The number of all descendants of the node (not counting the node).
    public func getAllChildrenNumber(_ path: String) async throws -> Int {
        try validate(path)
        guard case .getAllChildrenNumber(let count) = try await send(.getAllChildrenNumber(PathRequest(path: server(path))), path: path) else {
            throw unexpected(path)
        }
        return Int(count)
    }

    /// Adds a persistent watch (the node's own changes and its children list) or a persistent
    /// recursive one (the node and every descendant). The node need not exist.
    public func addWatch(_ path: String, mode: AddWatchMode) async throws -> ZooKeeperWatch {
        try validate(path)
        let kind: WatchKind = mode == .persistent ? .persistent : .persistentRecursive
        let (_, watch) = try await sendWatching(.addWatch(AddWatchRequest(path: server(path), mode: mode)), path: path, kind: kind)
        return watch
    }

    /// Removes this client's watches of `type` on the node. With `local` true the server is not
    /// asked (for use while disconnected). Ended watches finish their sequences.
    public func removeWatches(_ path: String, type: WatcherType, local: Bool = false) async throws {
        try validate(path)
        let kinds = Self.watchKinds(for: type)
        let serverPath = server(path)
        if local {
            let removed = await onLoop { $0.removeLocalWatches(path: serverPath, kinds: kinds) }
            if !removed { throw ZooKeeperError(.noWatcher, path: path) }
            return
        }
        _ = try await send(.removeWatches(WatchesRequest(path: serverPath, type: type)), path: path)
        _ = await onLoop { $0.removeLocalWatches(path: serverPath, kinds: kinds) }
    }

    /// Ends one watch: its sequence finishes, and when it was the client's last registration of
    /// its kind on the path, the server is asked to drop its watch too (so no more events are
    /// sent). ZooKeeper 3.8 servers cannot remove only a persistent watch; there the watch is
    /// removed with type `any` when no other registration remains on the path.
    public func stopWatching(_ watch: ZooKeeperWatch) async throws {
        let (_, othersRemain, anyOnPath) = await onLoop { $0.stopWatching(watch) }
        guard !othersRemain, await state.isConnected else { return }
        let type: WatcherType
        switch watch.kind {
        case .data, .exist: type = .data
        case .child: type = .children
        case .persistent: type = .persistent
        case .persistentRecursive: type = .persistentRecursive
        }
        let serverPath = server(watch.path)
        do {
            _ = try await send(.removeWatches(WatchesRequest(path: serverPath, type: type)), path: watch.path)
        } catch let error as ZooKeeperError where error.code == .marshallingError && !anyOnPath {
            _ = try await send(.removeWatches(WatchesRequest(path: serverPath, type: .any)), path: watch.path)
        } catch let error as ZooKeeperError where error.code == .noWatcher {
            return
        }
    }

    /// Whether the server holds a watch of `type` for this client on the node (NOWATCHER if not).
    public func checkWatches(_ path: String, type: WatcherType) async throws {
        try validate(path)
        _ = try await send(.checkWatches(WatchesRequest(path: server(path), type: type)), path: path)
    }

    /// The identities this connection holds.
    public func whoAmI() async throws -> [ClientInfo] {
        guard case .whoAmI(let info) = try await send(.whoAmI, path: nil) else { throw unexpected(nil) }
        return info
    }

    /// Adds credentials (`digest` with `user:password`, or any scheme the server knows). They are
    /// sent again after every reconnect. Throws AUTHFAILED, which ends the session, if rejected.
    public func addAuth(scheme: String, auth: [UInt8]) async throws {
        _ = try await withCheckedThrowingContinuation { continuation in
            driver.eventLoop.execute {
                self.driver.addAuth(AuthPacket(type: 0, scheme: scheme, auth: auth), continuation: continuation)
            }
        }
    }

    /// The ensemble's dynamic configuration (`/zookeeper/config`).
    public func getConfig() async throws -> (data: [UInt8], stat: Stat) {
        guard case .getData(let response) = try await send(.getData(PathWatchRequest(path: "/zookeeper/config", watch: false)), path: "/zookeeper/config") else {
            throw unexpected("/zookeeper/config")
        }
        return (response.data ?? [], response.stat)
    }

    /// Changes the ensemble membership (needs `reconfigEnabled=true`); returns the new config.
    public func reconfig(joining: String?, leaving: String?, newMembers: String?, fromConfig: Int64 = -1) async throws -> (data: [UInt8], stat: Stat) {
        let request = ReconfigRequest(joiningServers: joining, leavingServers: leaving, newMembers: newMembers, curConfigId: fromConfig)
        guard case .getData(let response) = try await send(.reconfig(request), path: nil) else { throw unexpected(nil) }
        return (response.data ?? [], response.stat)
    }

    // MARK: Plumbing

    fileprivate func onLoop<T: Sendable>(_ body: @escaping @Sendable (SessionDriver) -> T) async -> T {
        let driver = self.driver
        return try! await driver.eventLoop.submit { body(driver) }.get()
    }

    private func send(_ request: ZooKeeperRequest, path: String?) async throws -> ZooKeeperResponse {
        do {
            return try await submit(request, watch: nil)
        } catch let error as ZooKeeperError {
            throw error.withPath(path ?? error.path.map(stripChroot))
        }
    }

    /// Submits on the loop; if the calling task is cancelled, the call returns at once with
    /// `CancellationError` (the request itself may still take effect on the server).
    private func submit(_ request: ZooKeeperRequest, watch: SessionStateMachine.WatchIntent?) async throws -> ZooKeeperResponse {
        let driver = self.driver
        let id = requestIDs.withLockedValue { value -> RequestID in
            value += 1
            return RequestID(rawValue: value)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                driver.eventLoop.execute {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    driver.submit(request, id: id, watch: watch, continuation: continuation)
                }
            }
        } onCancel: {
            driver.eventLoop.execute { driver.abandon(id) }
        }
    }

    /// Sends a request that leaves a watch on success. With `allowNoNode`, NONODE returns nil
    /// and still leaves the watch (exists on a missing node).
    private func sendWatching(_ request: ZooKeeperRequest, path: String, kind: WatchKind,
                              allowNoNode: Bool = false) async throws -> (ZooKeeperResponse?, ZooKeeperWatch) {
        let watch = await onLoop { $0.makeWatch(kind: kind, path: path) }
        let intent: SessionStateMachine.WatchIntent
        switch kind {
        case .data, .exist: intent = .data(watch.id)
        case .child: intent = .child(watch.id)
        case .persistent: intent = .persistent(watch.id)
        case .persistentRecursive: intent = .persistentRecursive(watch.id)
        }
        do {
            let response = try await submit(request, watch: intent)
            return (response, watch)
        } catch let error as ZooKeeperError {
            await onLoop { $0.discardWatchIfUnregistered(watch, error: error) }
            if allowNoNode, error.code == .noNode { return (nil, watch) }
            throw error.withPath(path)
        } catch {
            _ = await onLoop { $0.stopWatching(watch) }
            throw error
        }
    }

    private func validate(_ path: String, sequential: Bool = false) throws {
        if let reason = ZooKeeperPath.validationError(path, isSequential: sequential) {
            throw ZooKeeperError(.badArguments, path: path, detail: reason)
        }
    }

    private func server(_ path: String) -> String { ZooKeeperPath.prependChroot(chroot, to: path) }
    private func stripChroot(_ path: String) -> String { ZooKeeperPath.stripChroot(chroot, from: path) }

    private func unexpected(_ path: String?) -> ZooKeeperError {
        ZooKeeperError(.marshallingError, path: path, detail: "unexpected reply")
    }

    private func makeCreate(path: String, data: [UInt8], acl: [ACL], mode: CreateMode, ttl: Int64?) throws -> ZooKeeperRequest {
        let serverPath = server(path)
        if mode.isTTL {
            guard let ttl, ttl > 0 else { throw ZooKeeperError(.badArguments, path: path, detail: "a TTL node needs a TTL above 0 ms") }
            return .createTTL(CreateTTLRequest(path: serverPath, data: data, acl: acl, flags: mode.rawValue, ttl: ttl))
        }
        if ttl != nil { throw ZooKeeperError(.badArguments, path: path, detail: "a TTL needs a TTL mode") }
        let request = CreateRequest(path: serverPath, data: data, acl: acl, flags: mode.rawValue)
        return mode.isContainer ? .createContainer(request) : .create2(request)
    }

    private func makeMultiOperation(_ operation: ZooKeeperOperation) throws -> MultiOperation {
        switch operation {
        case .create(let path, let data, let acl, let mode, let ttl):
            try validate(path, sequential: mode.isSequential)
            switch try makeCreate(path: path, data: data, acl: acl, mode: mode, ttl: ttl) {
            case .createTTL(let request): return .createTTL(request)
            case .createContainer(let request): return .create(request, opCode: .createContainer)
            case .create2(let request): return .create(request, opCode: .create2)
            default: throw unexpected(path)
            }
        case .delete(let path, let version):
            try validate(path)
            return .delete(DeleteRequest(path: server(path), version: version))
        case .setData(let path, let data, let version):
            try validate(path)
            return .setData(SetDataRequest(path: server(path), data: data, version: version))
        case .check(let path, let version):
            try validate(path)
            return .check(CheckVersionRequest(path: server(path), version: version))
        }
    }

    static func watchKinds(for type: WatcherType) -> [WatchKind] {
        switch type {
        case .children: return [.child]
        case .data: return [.data, .exist]
        case .any: return WatchKind.allCases
        case .persistent: return [.persistent]
        case .persistentRecursive: return [.persistentRecursive]
        }
    }
}
