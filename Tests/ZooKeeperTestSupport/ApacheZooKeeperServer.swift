import Foundation

/// A real, standalone Apache ZooKeeper server for integration tests.
///
/// ```swift
/// let server = try await ApacheZooKeeperServer.start()
/// defer { server.stop() }
/// let client = try await connect(to: server.connectString)
/// ```
///
/// ``start(_:)`` picks a free loopback port, writes `zoo.cfg` into a new temporary directory,
/// launches `java ... org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg` and returns once
/// the server answers `ruok` with `imok` and `srvr` reports `Mode: standalone`. The server's
/// output goes to ``logFile``; when something fails, the thrown ``TestSupportError`` includes the
/// end of that log.
///
/// The server keeps its port and data directory across ``stop()``/``kill()`` and ``restart()``,
/// so tests can check what survives a crash. The temporary directory is removed when the object
/// is released (after killing the JVM if it still runs), unless `ZKSH_KEEP_ZOOKEEPER_DIRS=1`.
///
/// Configuration, see ``ApacheZooKeeperConfiguration``: `tickTime=500`, sessions of 1–30 s,
/// `4lw.commands.whitelist=*`, AdminServer off, TTL nodes on
/// (`-Dzookeeper.extendedTypesEnabled=true`), and the digest superuser `super:admin`.
///
/// All methods are thread-safe. `stop()` and `kill()` block until the JVM is gone, so they can be
/// used in `defer`.
public final class ApacheZooKeeperServer: Sendable {
    /// The user name of the digest superuser: `addauth digest super:admin` bypasses all ACLs.
    public static let superUser = "super"
    /// The password of the digest superuser.
    public static let superPassword = "admin"

    /// The client port, on 127.0.0.1.
    public let port: Int
    /// `"127.0.0.1:PORT"`.
    public var connectString: String { "127.0.0.1:\(port)" }
    /// The temporary directory holding `conf/`, `data/` and `server.log`.
    public var directory: URL { node.directory }
    /// ZooKeeper's `dataDir` (snapshots and transaction logs).
    public var dataDirectory: URL { node.dataDirectory }
    /// The server's output (all runs, appended).
    public var logFile: URL { node.logFile }
    /// The generated `zoo.cfg`.
    public var configurationFile: URL { node.configurationFile }

    private let node: ZooKeeperServerProcess

    private init(node: ZooKeeperServerProcess) {
        self.node = node
        self.port = node.clientPort
    }

    deinit {
        node.kill()
        if !keepTemporaryDirectories { node.removeDirectory() }
    }

    /// Starts a standalone server and waits until it serves.
    ///
    /// If the port that was picked is taken before the JVM binds it, the start is retried with a
    /// new port (up to three attempts).
    ///
    /// - Throws: ``TestSupportError`` if Java or ZooKeeper is missing, or if the server does not
    ///   serve within `configuration.startupTimeout` (the error includes the end of the log).
    public static func start(_ configuration: ApacheZooKeeperConfiguration = .init()) async throws -> ApacheZooKeeperServer {
        let node = try await ZooKeeperServerProcess.startStandalone(
            name: "ZooKeeper standalone server", directoryPrefix: "zksh-zookeeper", configuration: configuration,
            program: .apacheZooKeeper(try ZooKeeperInstallation.locate()))
        return ApacheZooKeeperServer(node: node)
    }

    /// Whether the JVM is running.
    public var isRunning: Bool { node.isRunning }

    /// Stops the server with SIGTERM and waits for the JVM to exit (SIGKILL after
    /// ``ApacheZooKeeperConfiguration/stopGracePeriod``). Does nothing if it is not running.
    /// The data directory is kept, so ``restart()`` brings the same data back.
    public func stop() {
        node.terminate()
    }

    /// Kills the server with SIGKILL, like a crash, and waits until it is gone.
    public func kill() {
        node.kill()
    }

    /// Starts the server again on the same port with the same data directory, stopping it first
    /// (SIGTERM) if it is running, and waits until it serves.
    ///
    /// - Throws: ``TestSupportError`` if it does not serve within the startup timeout (for example
    ///   because something else took the port meanwhile).
    public func restart() async throws {
        node.terminate()
        try node.launch()
        try await node.waitUntilServing(timeout: node.configuration.startupTimeout)
    }

    /// Sends a four-letter word to this server. See ``fourLetterWord(_:host:port:timeout:)``.
    public func fourLetterWord(_ word: String, timeout: Duration = .seconds(5)) throws -> String {
        try ZooKeeperTestSupport.fourLetterWord(word, port: port, timeout: timeout)
    }

    /// The last `lines` lines of the server log, headed by its path.
    public func logTail(lines: Int = 40) -> String {
        node.logTail(lines)
    }
}
