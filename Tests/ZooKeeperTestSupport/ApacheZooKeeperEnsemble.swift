import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A real Apache ZooKeeper ensemble (quorum) on loopback, for integration tests.
///
/// ```swift
/// let ensemble = try await ApacheZooKeeperEnsemble.start(size: 3)
/// defer { ensemble.stop() }
/// let leader = try #require(ensemble.leader())
/// ensemble.kill(member: leader)
/// try await ensemble.waitForQuorum()
/// try await ensemble.start(member: leader)
/// ```
///
/// Each member is its own `QuorumPeerMain` JVM with its own directory (`member-N/` under one
/// temporary directory), `myid`, and free loopback client, quorum and election ports. Every
/// member's `zoo.cfg` lists all members as `server.N=127.0.0.1:quorumPort:electionPort`. The
/// other settings are those of ``ApacheZooKeeperConfiguration`` (short ticks, TTL nodes, every
/// four-letter word allowed, digest superuser `super:admin`).
///
/// ``startZksh(size:configuration:)`` starts the same layout with `zksh serve zoo.cfg` as every
/// member instead of a JVM: the same zoo.cfg files, so a test can run against either.
///
/// Members are numbered from 1, as ZooKeeper server ids. All methods are thread-safe; `stop`
/// and `kill` block until the JVMs are gone. The temporary directory is removed when the object
/// is released, unless `ZKSH_KEEP_ZOOKEEPER_DIRS=1`.
public final class ApacheZooKeeperEnsemble: Sendable {
    /// One member of the ensemble.
    public struct Member: Sendable, Hashable, Identifiable {
        /// The server id (`myid`), from 1.
        public var id: Int
        /// The client port on 127.0.0.1.
        public var clientPort: Int
        /// The port followers connect to when this member leads.
        public var quorumPort: Int
        /// The leader-election port.
        public var electionPort: Int
        /// The member's directory (`conf/`, `data/`, `server.log`).
        public var directory: URL
        /// The member's `dataDir`.
        public var dataDirectory: URL
        /// The member's output.
        public var logFile: URL
        /// `"127.0.0.1:clientPort"`, for connecting to this member alone.
        public var connectString: String { "127.0.0.1:\(clientPort)" }
    }

    /// The members, in id order (`members[0].id == 1`).
    public let members: [Member]
    /// The temporary directory holding every member's directory.
    public let directory: URL
    /// All members' client addresses: `"127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"`.
    public var connectString: String { members.map(\.connectString).joined(separator: ",") }

    private let nodes: [ZooKeeperServerProcess]
    private let configuration: ApacheZooKeeperConfiguration

    private init(directory: URL, nodes: [ZooKeeperServerProcess], members: [Member], configuration: ApacheZooKeeperConfiguration) {
        self.directory = directory
        self.nodes = nodes
        self.members = members
        self.configuration = configuration
    }

    deinit {
        for node in nodes { node.kill() }
        if !keepTemporaryDirectories { try? FileManager.default.removeItem(at: directory) }
    }

    /// Starts `size` members and waits until every one serves and exactly one is the leader.
    ///
    /// If a port that was picked is taken before a JVM binds it, the whole start is retried with
    /// new ports (up to three attempts).
    ///
    /// - Parameters:
    ///   - size: the number of members, at least 1 (3 or 5 make sense).
    ///   - configuration: settings for every member. The startup timeout bounds the whole start.
    /// - Throws: ``TestSupportError`` if Java or ZooKeeper is missing, or the ensemble does not
    ///   form in time (the error includes the end of every member's log).
    public static func start(
        size: Int = 3,
        configuration: ApacheZooKeeperConfiguration = .init()
    ) async throws -> ApacheZooKeeperEnsemble {
        precondition(size >= 1, "an ensemble needs at least one member")
        return try await start(size: size, configuration: configuration, program: .apacheZooKeeper(try ZooKeeperInstallation.locate()))
    }

    /// Starts `size` `zksh serve` members from zoo.cfg files like a JVM ensemble's, and waits
    /// until every one serves and exactly one is the leader.
    public static func startZksh(
        size: Int = 3,
        configuration: ApacheZooKeeperConfiguration = .init()
    ) async throws -> ApacheZooKeeperEnsemble {
        try await start(size: size, configuration: configuration, program: .zksh(executable: builtProductPath("zksh")))
    }

    /// Starts `size` members of `kind` plus `spares` members that are configured but not
    /// started: the running members' zoo.cfg lists only the running ones, a spare's lists every
    /// member including itself, as for a server that is to join through reconfig.
    public static func start(
        kind: TestServerKind, size: Int, spares: Int = 0, observers: Set<Int> = [],
        configuration: ApacheZooKeeperConfiguration = .init()
    ) async throws -> ApacheZooKeeperEnsemble {
        let program: ZooKeeperServerProcess.Program
        switch kind {
        case .apache: program = .apacheZooKeeper(try ZooKeeperInstallation.locate())
        case .zksh: program = .zksh(executable: builtProductPath("zksh"))
        }
        return try await start(size: size, configuration: configuration, program: program, spares: spares, observers: observers)
    }

    static func start(
        size: Int, configuration: ApacheZooKeeperConfiguration, program: ZooKeeperServerProcess.Program, spares: Int = 0,
        observers: Set<Int> = []
    ) async throws -> ApacheZooKeeperEnsemble {
        precondition(size >= 1, "an ensemble needs at least one member")
        var attempt = 1
        while true {
            let ensemble = try create(
                size: size, spares: spares, observers: observers, configuration: configuration, program: program)
            do {
                for node in ensemble.nodes.prefix(size) { try node.launch() }
                _ = try await ensemble.waitForQuorum(timeout: configuration.startupTimeout, failIfAnyExits: true)
                return ensemble
            } catch {
                let retry = attempt < 3 && ensemble.nodes.contains { $0.logShowsBindFailure }
                for node in ensemble.nodes { node.kill() }
                if !retry { throw error }  // Releasing `ensemble` removes its directory.
                attempt += 1
            }
        }
    }

    private static func create(
        size: Int,
        spares: Int,
        observers: Set<Int>,
        configuration: ApacheZooKeeperConfiguration,
        program: ZooKeeperServerProcess.Program
    ) throws -> ApacheZooKeeperEnsemble {
        let root = try makeTemporaryDirectory(prefix: "zksh-zookeeper-ensemble")
        var nodes: [ZooKeeperServerProcess] = []
        var members: [Member] = []
        do {
            for id in 1...(size + spares) {
                let node = try ZooKeeperServerProcess(
                    name: "ZooKeeper ensemble member \(id)",
                    directory: root.appendingPathComponent("member-\(id)", isDirectory: true),
                    clientPort: try freeLoopbackPort(),
                    configuration: configuration,
                    program: program)
                nodes.append(node)
                members.append(Member(
                    id: id, clientPort: node.clientPort,
                    quorumPort: try freeLoopbackPort(), electionPort: try freeLoopbackPort(),
                    directory: node.directory, dataDirectory: node.dataDirectory, logFile: node.logFile))
            }
            let serverLines = members.map {
                let role = observers.contains($0.id) ? "observer" : "participant"
                return "server.\($0.id)=127.0.0.1:\($0.quorumPort):\($0.electionPort):\(role);127.0.0.1:\($0.clientPort)"
            }
            for (node, member) in zip(nodes, members) {
                let listed = member.id <= size ? Array(serverLines.prefix(size)) : serverLines
                let peerType = observers.contains(member.id) ? ["peerType=observer"] : []
                try node.writeConfiguration(node.standardConfigurationLines() + peerType + listed)
                try "\(member.id)\n".write(
                    to: node.dataDirectory.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
            }
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw error
        }
        return ApacheZooKeeperEnsemble(directory: root, nodes: nodes, members: members, configuration: configuration)
    }

    private func node(_ member: Int) -> ZooKeeperServerProcess {
        precondition(member >= 1 && member <= nodes.count, "no member \(member) in an ensemble of \(nodes.count)")
        return nodes[member - 1]
    }

    /// Whether the member's JVM is running.
    public func isRunning(member: Int) -> Bool {
        node(member).isRunning
    }

    /// Kills the member with SIGKILL, like a crash, and waits until it is gone.
    public func kill(member: Int) {
        node(member).kill()
    }

    /// Stops the member with SIGTERM (SIGKILL after the grace period) and waits until it is gone.
    public func stop(member: Int) {
        node(member).terminate()
    }

    /// Starts a stopped or killed member again (same ports, same data) and waits until it serves,
    /// that is, until it has joined a quorum as leader or follower.
    ///
    /// - Returns: the member's mode (`leader` or `follower`).
    /// - Throws: ``TestSupportError`` if it is already running or does not serve in time.
    @discardableResult
    public func start(member: Int) async throws -> String {
        let node = node(member)
        try node.launch()
        return try await node.waitUntilServing(timeout: configuration.startupTimeout)
    }

    /// Starts a stopped (or spare) member without waiting for it to serve.
    public func launch(member: Int) throws {
        try node(member).launch()
    }

    /// What `srvr` reports as the member's mode now (`leader`, `follower`, ...), or nil if it is
    /// down or not serving (for example while it has no quorum).
    public func mode(of member: Int) -> String? {
        let node = node(member)
        return node.isRunning ? node.currentMode() : nil
    }

    /// The id of the member whose `srvr` reports `Mode: leader`, or nil if none does now.
    public func leader() -> Int? {
        members.first { mode(of: $0.id) == "leader" }?.id
    }

    /// Waits until every running member serves and exactly one of them is the leader.
    ///
    /// Use it after killing members (as long as a majority still runs) or restarting them.
    ///
    /// - Returns: the leader's id.
    /// - Throws: ``TestSupportError`` with every member's log tail if that does not happen in
    ///   `timeout` (by default the startup timeout), or if no member is running.
    @discardableResult
    public func waitForQuorum(timeout: Duration? = nil) async throws -> Int {
        try await waitForQuorum(timeout: timeout ?? configuration.startupTimeout, failIfAnyExits: false)
    }

    private func waitForQuorum(timeout: Duration, failIfAnyExits: Bool) async throws -> Int {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            var modes: [Int: String] = [:]
            for member in members {
                let node = node(member.id)
                if node.isRunning {
                    modes[member.id] = node.currentMode() ?? "not serving"
                } else if failIfAnyExits && node.exitStatus != nil {
                    throw TestSupportError(
                        "ensemble member \(member.id) exited with status \(node.exitStatus.map(String.init) ?? "?") during startup",
                        details: logTails())
                }
            }
            if modes.isEmpty {
                throw TestSupportError("no member of the ensemble is running", details: logTails())
            }
            let leaders = modes.filter { $0.value == "leader" }.map(\.key)
            let allServing = modes.values.allSatisfy { $0 == "leader" || $0 == "follower" || $0 == "observer" }
            if leaders.count == 1 && allServing {
                return leaders[0]
            }
            if ContinuousClock.now >= deadline {
                let summary = modes.sorted { $0.key < $1.key }.map { "member \($0.key): \($0.value)" }
                throw TestSupportError(
                    "the ensemble did not form within \(timeout) (\(summary.joined(separator: ", ")))",
                    details: logTails())
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// zksh members only: cuts the members in `group` off from all others (quorum and election
    /// traffic both ways), through each member's `zksh-partition` file.
    public func partition(_ group: Set<Int>) throws {
        let others = Set(members.map(\.id)).subtracting(group)
        for member in members {
            let blocked = group.contains(member.id) ? others : group
            try blocked.sorted().map(String.init).joined(separator: " ")
                .write(to: member.dataDirectory.appendingPathComponent("zksh-partition"), atomically: true, encoding: .utf8)
        }
    }

    /// zksh members only: undoes ``partition(_:)``.
    public func heal() {
        for member in members {
            try? FileManager.default.removeItem(at: member.dataDirectory.appendingPathComponent("zksh-partition"))
        }
    }

    /// Stops every member (SIGTERM, then SIGKILL after the grace period) and waits until all are gone.
    /// The data is kept; members can be started again with ``start(member:)``.
    public func stop() {
        // Signal all first so the members shut down in parallel, then wait for each.
        for node in nodes { node.signal(SIGTERM) }
        for node in nodes { node.terminate() }
    }

    /// The last `lines` lines of one member's log.
    public func logTail(member: Int, lines: Int = 40) -> String {
        node(member).logTail(lines)
    }

    private func logTails(lines: Int = 25) -> String {
        nodes.map { "\($0.name):\n\($0.logTail(lines))" }.joined(separator: "\n\n")
    }
}
