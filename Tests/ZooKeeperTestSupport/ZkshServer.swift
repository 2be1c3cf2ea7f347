import Foundation

/// What a test needs from a standalone server, whichever program runs it: ``ApacheZooKeeperServer``
/// (the reference) or ``ZkshServer`` (`zksh serve`). Tests written against this protocol run
/// unchanged against both; see ``TestServerKind``.
public protocol TestServer: AnyObject, Sendable {
    /// The client port, on 127.0.0.1.
    var port: Int { get }
    /// Whether the server process is running.
    var isRunning: Bool { get }
    /// SIGTERM, then wait until the process is gone (SIGKILL after the grace period). Keeps the data.
    func stop()
    /// SIGKILL, like a crash, and wait until the process is gone. Keeps the data.
    func kill()
    /// Starts the server again on the same port and data directory, stopping it first if it runs.
    func restart() async throws
    /// The last `lines` lines of the server's log, headed by its path.
    func logTail(lines: Int) -> String
}

extension TestServer {
    /// `"127.0.0.1:PORT"`.
    public var connectString: String { "127.0.0.1:\(port)" }

    /// Sends a four-letter word to this server. See ``fourLetterWord(_:host:port:timeout:)``.
    public func fourLetterWord(_ word: String, timeout: Duration = .seconds(5)) throws -> String {
        try ZooKeeperTestSupport.fourLetterWord(word, port: port, timeout: timeout)
    }
}

extension ApacheZooKeeperServer: TestServer {}

/// Which program serves a test: Apache ZooKeeper (the installed 3.8) or `zksh serve`.
public enum TestServerKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case apache
    case zksh

    public var description: String { rawValue }

    /// Starts a new standalone server of this kind with the harness's standard configuration.
    public func start(_ configuration: ApacheZooKeeperConfiguration = .init()) async throws -> any TestServer {
        switch self {
        case .apache: return try await ApacheZooKeeperServer.start(configuration)
        case .zksh: return try await ZkshServer.start(configuration)
        }
    }

    /// Starts an ensemble of `size` members of this kind from the same kind of zoo.cfg files.
    public func startEnsemble(size: Int, configuration: ApacheZooKeeperConfiguration = .init()) async throws -> ApacheZooKeeperEnsemble {
        switch self {
        case .apache: return try await ApacheZooKeeperEnsemble.start(size: size, configuration: configuration)
        case .zksh: return try await ApacheZooKeeperEnsemble.startZksh(size: size, configuration: configuration)
        }
    }
}

/// `zksh serve` as a child process, configured like ``ApacheZooKeeperServer``.
///
/// ```swift
/// let server = try await ZkshServer.start()
/// defer { server.stop() }
/// let client = try await connect(to: server.connectString)
/// ```
///
/// ``start(_:)`` picks a free loopback port, writes the same `zoo.cfg` the Apache harness writes
/// (`tickTime=500`, sessions of 1–30 s, `4lw.commands.whitelist=*`), plus the settings the JVM
/// gets as system properties (`extendedTypesEnabled=true` and the superuser `super:admin` as
/// `DigestAuthenticationProvider.superDigest`), runs `zksh serve conf/zoo.cfg` (the binary from
/// `builtProductPath("zksh")`) and returns once it answers `ruok` and `srvr` reports
/// `Mode: standalone`. Its output goes to ``logFile``.
///
/// Port and data directory survive ``stop()``/``kill()`` and ``restart()``. The temporary
/// directory is removed when the object is released, unless `ZKSH_KEEP_ZOOKEEPER_DIRS=1`.
/// Thread-safe; `stop()` and `kill()` block until the process is gone.
public final class ZkshServer: TestServer {
    /// The user name of the digest superuser (the same as ``ApacheZooKeeperServer/superUser``).
    public static let superUser = ApacheZooKeeperServer.superUser
    /// The password of the digest superuser.
    public static let superPassword = ApacheZooKeeperServer.superPassword

    /// The client port, on 127.0.0.1.
    public let port: Int
    /// The temporary directory holding `conf/`, `data/` and `server.log`.
    public var directory: URL { node.directory }
    /// The server's `dataDir`.
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

    /// Starts `zksh serve` and waits until it serves. A port taken before the server binds it is
    /// retried with a new port (up to three attempts). `extraJVMOptions` is ignored.
    ///
    /// - Throws: ``TestSupportError`` if the server does not serve within
    ///   `configuration.startupTimeout` (the error includes the end of its log).
    public static func start(_ configuration: ApacheZooKeeperConfiguration = .init()) async throws -> ZkshServer {
        let node = try await ZooKeeperServerProcess.startStandalone(
            name: "zksh serve", directoryPrefix: "zksh-serve-test", configuration: configuration,
            program: .zksh(executable: builtProductPath("zksh")))
        return ZkshServer(node: node)
    }

    public var isRunning: Bool { node.isRunning }

    /// SIGTERM, and waits for the exit (SIGKILL after the grace period). The data is kept.
    public func stop() {
        node.terminate()
    }

    /// The exit status of the last run, or nil while running (or before the first start).
    public var exitStatus: Int32? { node.exitStatus }

    /// SIGKILL, like a crash, and waits until the process is gone.
    public func kill() {
        node.kill()
    }

    /// Starts the server again on the same port with the same data directory, stopping it first
    /// (SIGTERM) if it is running, and waits until it serves.
    public func restart() async throws {
        node.terminate()
        try node.launch()
        try await node.waitUntilServing(timeout: node.configuration.startupTimeout)
    }

    /// The last `lines` lines of the server log, headed by its path.
    public func logTail(lines: Int = 40) -> String {
        node.logTail(lines)
    }
}
