import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ZooKeeperProtocol
import ZooKeeperServerCore
import ZooKeeperStorage

/// Runs the IO-free ``ServerCore`` against the network and the disk.
///
/// Threading: everything mutable here belongs to `loop`, the one event loop that also runs every
/// client channel. The group committer's completions (on the storage queue) and snapshot/purge
/// work (on `background`) hop back to `loop` before touching the core.
///
/// Order of work, as the core requires: each event's actions are executed in order: `.append`
/// goes to the group committer, `.send` is written (flushed at the end of the batch), `.close`
/// closes after the frames already written. When the committer reports a durable zxid, the core
/// releases the replies held for it.
public final class ServerDriver: @unchecked Sendable {
    let settings: ServerSettings
    let loop: EventLoop
    let logger: Logger
    let storage: Storage
    var committer: GroupCommitter!
    var core: ServerCore
    /// The ensemble side; nil for a standalone server.
    var replication: Replication?
    private let background = DispatchQueue(label: "zksh.server.background")

    struct Connection {
        var channel: Channel
        var handler: ServerConnectionHandler
        var establishedAt: Int64
        var remoteAddress: String
    }
    var connections: [ConnectionID: Connection] = [:]
    var nextConnectionID: UInt64 = 1
    private var serverChannel: Channel?
    private var tickTask: RepeatedTask?
    private var replicationTickTask: RepeatedTask?
    private var purgeTask: RepeatedTask?
    private let startedAt = NIODeadline.now()
    var snapshotInProgress = false
    private var snapshotAfterStart = false
    var stopping = false
    private var traceMask: Int64 = 0
    private var packetsReceivedBaseline = 0
    private var packetsSentBaseline = 0
    private let stopped: EventLoopPromise<Int32>

    /// Recovers the state from storage; does not listen yet (see ``start()``).
    ///
    /// - Throws: storage errors (directory locked, corrupt log), ``ServerCoreError``.
    init(settings: ServerSettings, loop: EventLoop, logger: Logger) throws {
        self.settings = settings
        self.loop = loop
        self.logger = logger
        var options = Storage.Options()
        options.forceSync = settings.forceSync
        storage = try Storage(dataDirectory: settings.dataDirectory, dataLogDirectory: settings.dataLogDirectory, options: options)
        var replayed = 0
        do {
            if let quorum = settings.quorum {
                // A member loads only its snapshot: logged transactions may be proposals that
                // were never committed, and replication delivers the others once a leader
                // confirms them. It keeps the log since the snapshot for its followers.
                let recovery = try storage.recover()
                Self.log(recovery.notes, snapshotZxid: recovery.snapshot?.zxid, transactions: recovery.transactions.count,
                         lastZxid: recovery.lastZxid, logger: logger)
                core = try ServerCore(configuration: settings.core, snapshot: recovery.snapshot?.bytes, transactions: [], now: Self.clock())
                replication = try Replication(
                    settings: quorum, tickTime: settings.core.tickTime, dataDirectory: settings.dataDirectory, forceSync: settings.forceSync,
                    recovery: recovery, snapshots: storage.snapshots, loop: loop, logger: logger)
            } else {
                // Standalone: the log is replayed one entry at a time, never held whole.
                let (snapshot, notes) = try storage.recoverSnapshot()
                let snapshotZxid = snapshot?.zxid
                let log = storage.log
                core = try ServerCore(configuration: settings.core, snapshot: snapshot?.bytes, now: Self.clock()) { apply in
                    try log.forEachEntry(after: snapshotZxid ?? 0) { entry in
                        replayed += 1
                        try apply(entry.zxid, entry.bytes)
                    }
                }
                Self.log(notes, snapshotZxid: snapshotZxid, transactions: replayed, lastZxid: core.lastZxid, logger: logger)
            }
        } catch {
            try? storage.close()
            throw error
        }
        // Made only once nothing can throw any more: a dropped promise traps.
        stopped = loop.makePromise()
        committer = GroupCommitter(log: storage.log) { [weak self] result in
            guard let self else { return }
            self.loop.execute { self.commitCompleted(result) }
        }
        // As ZooKeeper does after loading: a fresh snapshot, so the replayed log can be purged.
        // It is written once the server listens (off the loop), not before: a large tree serves
        // seconds sooner, and the log it replaces stays until the snapshot is durable.
        snapshotAfterStart = replayed > 0 && replication == nil
    }

    private static func log(_ notes: [String], snapshotZxid: Int64?, transactions: Int, lastZxid: Int64, logger: Logger) {
        for note in notes { logger.warning("recovery: \(note)") }
        let loaded = snapshotZxid.map { "snapshot 0x\(String($0, radix: 16))" } ?? "no snapshot"
        logger.info("recovered \(loaded) and \(transactions) logged transactions; last zxid 0x\(String(lastZxid, radix: 16))")
    }

    static func clock() -> ServerClock {
        ServerClock(monotonic: .now(), wallClockMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Binds the client port and starts the tick and autopurge timers.
    /// Must be called once, off the event loop. Returns the bound address.
    func start() throws -> SocketAddress {
        // Like ZooKeeper, a frame longer than jute.maxbuffer closes the connection.
        let maximumFrameLength = settings.core.maxBuffer
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(settings.listenBacklog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 4 * 1024 * 1024))
            .childChannelInitializer { [self, logger] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ServerConnectionHandler(driver: self, maximumFrameLength: maximumFrameLength, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel = try bootstrap.bind(host: settings.host, port: settings.port).wait()
        if let replication {
            try replication.listen(driver: self)
        }
        try loop.submit { [self] in
            serverChannel = channel
            if replication != nil { startReplication() }
            if snapshotAfterStart { takeSnapshot() }
            let interval = max(10, min(100, settings.core.tickTime / 10))
            tickTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(interval)), delay: .milliseconds(Int64(interval))) { [self] _ in
                run(core.tick(now: Self.clock()))
            }
            if replication != nil {
                // Election and Zab deadlines (finalizeWait, resends) are met within 10 ms.
                replicationTickTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { [self] _ in
                    replicationTick()
                }
            }
            if settings.purgeIntervalHours > 0 {
                let hours = Int64(settings.purgeIntervalHours)
                purgeTask = loop.scheduleRepeatedTask(initialDelay: .seconds(0), delay: .hours(hours)) { [self] _ in purge() }
            }
        }.wait()
        return channel.localAddress!
    }

    /// A future that completes with the exit status once the server has stopped.
    var stoppedFuture: EventLoopFuture<Int32> { stopped.futureResult }

    // MARK: - Connection events (on the loop)

    func connectionOpened(handler: ServerConnectionHandler, channel: Channel, remoteAddress: SocketAddress?) -> ConnectionID? {
        loop.preconditionInEventLoop()
        guard !stopping else {
            channel.close(promise: nil)
            return nil
        }
        let id = ConnectionID(rawValue: nextConnectionID)
        nextConnectionID += 1
        let remote = remoteAddress.map(ServerConnectionHandler.describe) ?? "unknown"
        connections[id] = Connection(channel: channel, handler: handler, establishedAt: Self.clock().wallClockMilliseconds, remoteAddress: remote)
        run(core.connectionOpened(id, remoteAddress: remote, now: Self.clock()))
        return connections[id] == nil ? nil : id
    }

    func connectRequestReceived(_ id: ConnectionID, _ request: ConnectRequest) {
        loop.preconditionInEventLoop()
        run(core.connectRequestReceived(id, request, now: Self.clock()))
    }

    func requestReceived(_ id: ConnectionID, header: RequestHeader, body: ByteBuffer) {
        loop.preconditionInEventLoop()
        run(core.requestReceived(id, header: header, body: body, now: Self.clock()))
    }

    func connectionClosed(_ id: ConnectionID) {
        loop.preconditionInEventLoop()
        connections[id] = nil
        run(core.connectionClosed(id, now: Self.clock()))
        clientConnectionClosed(id)
    }

    func fourLetterWord(_ word: FourLetterWord, argument: Int64?) -> String {
        loop.preconditionInEventLoop()
        guard settings.fourLetterWords.allows(word) else {
            return FourLetterWordResponder.notWhitelisted(word)
        }
        let statistics = core.statistics
        switch word {
        case .srst:
            packetsReceivedBaseline = statistics.packetsReceived
            packetsSentBaseline = statistics.packetsSent
        case .stmk:
            traceMask = argument ?? traceMask
        default:
            break
        }
        let clock = Self.clock()
        var context = FourLetterWordContext(
            settings: settings, statistics: statistics, now: clock.monotonic, wallClockMilliseconds: clock.wallClockMilliseconds,
            startedAt: startedAt, establishedAt: connections.mapValues(\.establishedAt),
            remoteAddresses: connections.mapValues(\.remoteAddress), traceMask: traceMask,
            packetsReceivedBaseline: packetsReceivedBaseline, packetsSentBaseline: packetsSentBaseline)
        if let replication { replication.describe(into: &context, core: core) }
        return FourLetterWordResponder.respond(to: word, context: context)
    }

    // MARK: - Actions

    /// Executes the core's actions in order, flushing each written connection once at the end.
    func run(_ actions: [ServerAction]) {
        guard !actions.isEmpty else { return }
        var written: Set<ConnectionID> = []
        for action in actions {
            switch action {
            case .append(let zxid, let bytes):
                if replication != nil {
                    propose(zxid: zxid, bytes: bytes)
                    continue
                }
                do {
                    try committer.append(zxid: zxid, bytes: bytes)
                } catch {
                    fail("cannot append transaction 0x\(String(zxid, radix: 16)) to the log: \(error)")
                    return
                }
            case .send(let id, let frame):
                guard let connection = connections[id] else {
                    forwardedConnectionSend(id, frame)
                    continue
                }
                connection.channel.write(frame, promise: nil)
                written.insert(id)
            case .forward(let id, let request):
                forwardToLeader(id, request)
            case .close(let id):
                guard let connection = connections.removeValue(forKey: id) else {
                    forwardedConnectionClose(id)
                    continue
                }
                written.remove(id)
                connection.handler.closedByCore()
                let channel = connection.channel
                channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in
                    channel.close(promise: nil)
                }
            case .takeSnapshot:
                takeSnapshot()
            }
        }
        for id in written { connections[id]?.channel.flush() }
    }

    private func commitCompleted(_ result: Result<Int64, StorageError>) {
        switch result {
        case .success(let zxid):
            if replication != nil {
                logSynced(through: zxid)
                return
            }
            run(core.transactionsDurable(upTo: zxid))
        case .failure(let error):
            fail("the transaction log failed: \(error)")
        }
    }

    /// Encodes and writes the core's state as a snapshot off the loop; one at a time. A member writes only
    /// committed state: a leader with proposals in flight waits until they are committed.
    func takeSnapshot() {
        guard !snapshotInProgress else {
            logger.warning("a snapshot is still being written; skipping this one")
            return
        }
        if let replication, !replication.canSnapshot(core) {
            replication.snapshotWanted = true
            return
        }
        snapshotInProgress = true
        // A value copy: it shares the tree's storage (the loop's next change copies what it
        // changes), so encoding a large tree happens off the loop instead of stalling clients.
        let frozen = core
        storage.log.rollSegment()
        let store = storage.snapshots
        background.async { [self, logger] in
            let start = NIODeadline.now()
            let zxid = frozen.lastZxid
            do {
                // Encoded and written a piece at a time: never the whole tree encoded in memory.
                let length = try store.write(zxid: zxid) { emit in
                    try frozen.encodeSnapshot { piece in try piece.withUnsafeReadableBytes { try emit($0) } }
                }
                logger.info("snapshot 0x\(String(zxid, radix: 16)) written (\(length) bytes, \((NIODeadline.now() - start).nanoseconds / 1_000_000) ms)")
                loop.execute { self.replication?.snapshotWritten(zxid: zxid) }
            } catch {
                logger.error("could not write snapshot 0x\(String(zxid, radix: 16)): \(error)")
            }
            loop.execute { self.snapshotInProgress = false }
        }
        // By now the frozen copy is gone: the pages of the storage the loop copied away from
        // since are free, but the allocator keeps them. Give them back to the system.
        background.async { Self.returnFreeMemory() }
    }

    /// Has glibc give freed memory back: fixed thresholds instead of its adaptive ones, which
    /// grow with the largest block freed (up to 32 MiB kept off mappings and 64 MiB kept free at
    /// the top of each thread's heap, which `malloc_trim` leaves alone), so the large transient
    /// buffers of a big tree's snapshot would stay resident. Blocks of 4 MiB and more get a
    /// mapping of their own; over 1 MiB free at the top of a heap goes back. (A lower mapping
    /// threshold keeps no less resident, but maps and zeroes fresh pages for every reply of a
    /// 1 MB node: reads of such nodes ran at a third of the rate.)
    static func configureAllocator() {
        #if canImport(Glibc)
        // mallopt is glibc's (malloc.h, which Swift's Glibc module does not export).
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 4 * 1024 * 1024)
        _ = mallopt(trimThreshold, 1024 * 1024)
        #endif
    }

    /// Returns free heap pages to the system (glibc keeps them otherwise; with a large tree the
    /// copies a snapshot causes would stay in the resident size).
    static func returnFreeMemory() {
        #if canImport(Glibc)
        // malloc_trim is glibc's (malloc.h, which Swift's Glibc module does not export).
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }

    private func purge() {
        let storage = self.storage
        let retain = settings.snapRetainCount
        background.async { [logger] in
            do {
                let report = try storage.purge(retain: retain)
                logger.info("autopurge: removed \(report.removedSnapshots.count) snapshots and \(report.removedLogSegments.count) log segments")
            } catch {
                logger.warning("autopurge failed: \(error)")
            }
        }
    }

    // MARK: - Stopping

    /// A storage failure: ZooKeeper exits, because the durable state is unknown.
    func fail(_ message: String) {
        logger.critical("\(message); stopping the server")
        stop(status: 1)
    }

    /// Stops accepting, closes connections (sessions stay in the log for the restart), makes
    /// pending log writes durable and releases the data directory. Safe to call from any thread.
    public func stop(status: Int32 = 0) {
        loop.execute { [self] in
            guard !stopping else { return }
            stopping = true
            logger.info("shutting down")
            tickTask?.cancel()
            replicationTickTask?.cancel()
            purgeTask?.cancel()
            let server = serverChannel
            let channels = connections.values.map(\.channel)
            connections.removeAll()
            let closed = (server.map { [$0.close()] } ?? []) + channels.map { $0.close() } + (replication?.close() ?? [])
            EventLoopFuture.whenAllComplete(closed, on: loop).whenComplete { [self] _ in
                let committer = self.committer!
                let storage = self.storage
                background.async { [logger] in
                    committer.close()
                    do {
                        try storage.close()
                    } catch {
                        logger.error("closing the transaction log failed: \(error)")
                    }
                    self.loop.execute { self.stopped.succeed(status) }
                }
            }
        }
    }
}
