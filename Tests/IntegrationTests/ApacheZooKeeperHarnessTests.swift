import Foundation
import Testing
import ZooKeeperTestSupport

/// Checks the test harness itself against real Apache ZooKeeper servers, so that a failure in
/// another integration test can be trusted to be about zksh and not about the harness.
@Suite("Apache ZooKeeper test harness", .serialized)
struct ApacheZooKeeperHarnessTests {
    /// zkCli.sh from the Debian package, used as an independent client.
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

    /// Runs one zkCli.sh command against `server` and returns its standard output.
    func zkCli(_ server: String, _ command: [String]) async throws -> String {
        let result = try await blocking {
            try runProcess(
                Self.zkCli, ["-server", server] + command,
                environment: ["CLIENT_JVMFLAGS": "-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"],
                timeout: .seconds(60))
        }
        return result.stdout + result.stderr
    }

    @Test("a standalone server serves, keeps its data across kill and restart, and stops")
    func standaloneServer() async throws {
        let server = try await ApacheZooKeeperServer.start()
        defer { server.stop() }

        #expect(server.connectString == "127.0.0.1:\(server.port)")
        #expect(try server.fourLetterWord("ruok") == "imok")
        #expect(try fourLetterWord("srvr", port: server.port).contains("Mode: standalone"))
        #expect(FileManager.default.fileExists(atPath: server.dataDirectory.path))

        // TTL nodes need zookeeper.extendedTypesEnabled=true.
        let created = try await zkCli(server.connectString, ["create", "-t", "60000", "/harness-ttl", "ttl-data"])
        #expect(created.contains("Created /harness-ttl"), "\(created)")
        _ = try await zkCli(server.connectString, ["create", "/harness", "persisted"])

        // The digest superuser (super:admin) reads a node whose ACL allows only someone:pw.
        _ = try await zkCli(server.connectString, [
            "create", "/harness-locked", "locked-data", "digest:someone:SqeAgQpzfvpGOugUT6SUE08Qv8k=:cdrwa",
        ])
        let connectString = server.connectString
        let superSession = try await blocking {
            try runProcess(
                Self.zkCli, ["-server", connectString],
                stdin: "get /harness-locked\naddauth digest \(ApacheZooKeeperServer.superUser):\(ApacheZooKeeperServer.superPassword)\nget /harness-locked\nquit\n",
                environment: ["CLIENT_JVMFLAGS": "-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"],
                timeout: .seconds(60))
        }
        let transcript = superSession.stdout + superSession.stderr
        #expect(transcript.contains("Insufficient permission"), "\(transcript)")
        #expect(transcript.contains("locked-data"), "\(transcript)")

        server.kill()
        #expect(!server.isRunning)
        #expect(throws: TestSupportError.self) { try server.fourLetterWord("ruok", timeout: .seconds(2)) }

        let port = server.port
        try await server.restart()
        #expect(server.port == port)
        #expect(try server.fourLetterWord("ruok") == "imok")
        let read = try await zkCli(server.connectString, ["get", "/harness"])
        #expect(read.contains("persisted"), "\(read)")

        server.stop()
        #expect(!server.isRunning)
        #expect(server.logTail().contains("QuorumPeerMain") || server.logTail().contains("ZooKeeperServer"))
    }

    @Test("a three-member ensemble elects one leader and re-elects after the leader is killed")
    func ensemble() async throws {
        let ensemble = try await ApacheZooKeeperEnsemble.start(size: 3)
        defer { ensemble.stop() }

        #expect(ensemble.members.map(\.id) == [1, 2, 3])
        #expect(ensemble.connectString == ensemble.members.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ","))
        for member in ensemble.members {
            #expect(try fourLetterWord("ruok", port: member.clientPort) == "imok")
        }
        let modes = ensemble.members.compactMap { ensemble.mode(of: $0.id) }
        #expect(modes.filter { $0 == "leader" }.count == 1)
        #expect(modes.filter { $0 == "follower" }.count == 2)

        let leader = try #require(ensemble.leader())
        ensemble.kill(member: leader)
        #expect(!ensemble.isRunning(member: leader))
        let newLeader = try await ensemble.waitForQuorum()
        #expect(newLeader != leader)
        #expect(ensemble.leader() == newLeader)

        let mode = try await ensemble.start(member: leader)
        #expect(mode == "follower")
        #expect(try await ensemble.waitForQuorum() == newLeader)

        // A client can use the whole ensemble through its connect string.
        let created = try await zkCli(ensemble.connectString, ["create", "/harness-ensemble", "x"])
        #expect(created.contains("Created /harness-ensemble"), "\(created)")
    }

    @Test("fourLetterWord fails quickly on a closed port")
    func fourLetterWordOnClosedPort() throws {
        let port = try freeLoopbackPort()
        #expect(throws: TestSupportError.self) { try fourLetterWord("ruok", port: port, timeout: .seconds(2)) }
        #expect(throws: TestSupportError.self) { try fourLetterWord("toolong", port: port) }
    }

    @Test("runProcess captures output, input and status, and enforces its timeout")
    func runProcessBasics() throws {
        let result = try runProcess(
            "/bin/sh", ["-c", "read line; echo \"got $line $ZKT_VALUE\"; echo oops >&2; exit 7"],
            stdin: "hello\n", environment: ["ZKT_VALUE": "env-ok"], timeout: .seconds(10))
        #expect(result.status == 7)
        #expect(result.stdout == "got hello env-ok\n")
        #expect(result.stderr == "oops\n")

        let start = ContinuousClock.now
        #expect(throws: TestSupportError.self) { try runProcess("sleep", ["30"], timeout: .milliseconds(300)) }
        #expect(ContinuousClock.now - start < .seconds(60))  // liveness: the timeout fired, not a speed check
    }

    @Test("TmuxSession drives an interactive program and reports its exit status")
    func tmuxSession() throws {
        let tmux = try TmuxSession.start(
            command: ["/bin/bash", "--norc", "--noprofile"], environment: ["ZKT_VALUE": "from-env", "PS1": "zkt> "],
            width: 100, height: 30)
        defer { tmux.kill() }
        /// Whether the last non-empty line of the screen is an empty prompt.
        func atPrompt(_ screen: String) -> Bool {
            screen.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) == "zkt>" } ?? false
        }
        try tmux.waitUntil(description: "the first prompt", atPrompt)
        tmux.sendLine("echo \"value=$ZKT_VALUE cols=$(tput cols 2>/dev/null || echo 100)\"")
        let screen = try tmux.waitFor("value=from-env")
        #expect(screen.contains("cols=100"))

        tmux.sendLiteral("sleep 30")
        tmux.send(keys: "Enter")
        try tmux.waitUntil(description: "sleep running") { !atPrompt($0) && $0.contains("sleep 30") }
        // Control-C also flushes pending terminal input, so wait for the prompt before typing more.
        tmux.sendControlC()
        try tmux.waitUntil(description: "the prompt after Control-C", atPrompt)
        tmux.sendLine("exit 3")
        #expect(try tmux.waitForExit() == 3)
    }

    @Test("TmuxSession reports 128 + signal for a program ended by Control-C")
    func tmuxInterruptedProgram() throws {
        let tmux = try TmuxSession.start(command: ["/bin/sh", "-c", "echo ready; exec sleep 30"])
        defer { tmux.kill() }
        try tmux.waitFor("ready")
        #expect(tmux.exitStatus() == nil)
        tmux.sendControlC()
        #expect(try tmux.waitForExit() == 130)
    }

    @Test("builtProductPath finds files next to the test executable")
    func productLocation() throws {
        let executable = try #require(CommandLine.arguments.first)
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let found = try #require(findBuiltProduct(name))
        #expect(URL(fileURLWithPath: found).lastPathComponent == name)
        #expect(builtProductPath("no-such-product-here").hasSuffix("/no-such-product-here"))
        // `swift test` builds every product, so the shell is next to the test bundle.
        let zksh = try #require(findBuiltProduct("zksh"))
        #expect(FileManager.default.isExecutableFile(atPath: zksh))
        let root = try #require(findRepositoryRoot())
        #expect(FileManager.default.fileExists(atPath: root + "/Package.swift"))
    }
}
