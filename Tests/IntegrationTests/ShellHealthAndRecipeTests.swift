import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ensemble health commands (`ruok`, `srvr`, `srvstat`, `mntr`, `cons`, `envi`, `leader`) and
/// the recipes (`lock`, `elect`, `register`, `discover`), run by the `zksh` binary in scripted mode
/// against a 3-member Apache ZooKeeper ensemble, a standalone Apache ZooKeeper and `zksh serve`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ShellHealthAndRecipeTests {
    /// One ensemble for the whole suite, started when a test first needs it.
    static let ensemble = Task { try await ApacheZooKeeperEnsemble.start(size: 3) }

    let zksh = builtProductPath("zksh")

    func run(_ servers: String, _ script: String, json: Bool = false) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", servers] + (json ? ["--json"] : []) + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, timeout: .seconds(60)) }
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    // MARK: Health

    @Test func healthCommandsAgainstTheEnsembleWithOneMemberDown() async throws {
        let ensemble = try await Self.ensemble.value
        let leaderID = try await ensemble.waitForQuorum()
        let leader = ensemble.members[leaderID - 1].connectString
        let dead = "127.0.0.1:\(try freeLoopbackPort())"
        let servers = ensemble.connectString + "," + dead

        let srvr = try await run(servers, "srvr")
        #expect(srvr.status == 0, "\(srvr.stderr)")
        let rows = lines(srvr.stdout)
        #expect(rows.count == 5, "\(srvr.stdout)")
        #expect(rows.first?.hasPrefix("MEMBER") == true && rows.first?.contains("MODE") == true)
        for member in ensemble.members {
            let row = try #require(rows.first { $0.hasPrefix(member.connectString + " ") })
            #expect(row.contains(" up ") && row.contains(member.id == leaderID ? " leader " : " follower "), "\(row)")
        }
        #expect(rows.last?.hasPrefix(dead + "  down") == true, "\(srvr.stdout)")

        let leaderOutput = try await run(servers, "leader")
        #expect(leaderOutput.status == 0, "\(leaderOutput.stderr)")
        let summary = try #require(lines(leaderOutput.stdout).last)
        #expect(summary.hasPrefix("leader: \(leader) zxid 0x"), "\(leaderOutput.stdout)")
        let quiet = try await run(servers, "leader -q")
        #expect(quiet.stdout == leader + "\n")
        let document = try json(try await run(servers, "leader", json: true).stdout)
        #expect(document["leader"] as? String == leader)
        let zxid = try #require((document["zxid"] as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) })
        #expect(document["epoch"] as? Int == Int(zxid >> 32) && zxid >> 32 >= 1)
        #expect((document["members"] as? [[String: Any]])?.compactMap { $0["mode"] as? String }.sorted() == ["follower", "follower", "leader"])

        let mntr = try json(try await run(servers, "mntr", json: true).stdout)
        let members = try #require(mntr["members"] as? [[String: Any]])
        #expect(members.map { $0["status"] as? String } == ["up", "up", "up", "down"])
        let states = members.compactMap { ($0["metrics"] as? [String: Any])?["zk_server_state"] as? String }
        #expect(states.sorted() == ["follower", "follower", "leader"])
        let leaderMetrics = try #require(members.first { $0["server"] as? String == leader }?["metrics"] as? [String: Any])
        #expect(leaderMetrics["zk_synced_followers"] as? Int == 2)

        let rest = try await run(servers, "ruok; mntr -k znode_count,followers; srvstat; cons; envi")
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.components(separatedBy: "  up      imok").count == 4, "\(rest.stdout)")
        #expect(rest.stdout.contains("MEMBER           STATUS  ZNODE_COUNT  FOLLOWERS") || rest.stdout.contains("ZNODE_COUNT  FOLLOWERS"))
        #expect(rest.stdout.contains("== \(leader) (up) ==\nZookeeper version: "))
        #expect(rest.stdout.contains("CLIENT"))
        #expect(rest.stdout.contains("zookeeper.version=3.8"))
        #expect(rest.stdout.contains("== \(dead) (down: connection refused) =="))
    }

    @Test(arguments: TestServerKind.allCases)
    func healthCommandsAgainstAStandaloneServer(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let servers = server.connectString
        let result = try await run(servers, "ruok; srvr; leader; srvstat; envi")
        #expect(result.status == 0, "\(result.stderr)")
        let output = lines(result.stdout)
        #expect(output[0...1] == ["MEMBER           STATUS  REPLY", "\(servers)  up      imok"])
        #expect(output[3].hasPrefix("\(servers)  up ") && output[3].contains(" standalone "), "\(result.stdout)")
        #expect(result.stdout.contains("leader: \(servers) zxid 0x"))
        #expect(result.stdout.contains("== \(servers) (up) ==\nZookeeper version: "))
        #expect(result.stdout.contains("Mode: standalone\n"))
        #expect(result.stdout.contains("zookeeper.version="))

        // cons shows the shell's own session once it has one.
        let cons = try await run(servers, "ls /; cons", json: true)
        #expect(cons.status == 0, "\(cons.stderr)")
        let consDocument = try json(try #require(lines(cons.stdout).last))
        let connections = try #require((consDocument["members"] as? [[String: Any]])?.first?["connections"] as? [[String: Any]])
        #expect(connections.contains { ($0["sid"] as? String)?.hasPrefix("0x") == true }, "\(cons.stdout)")

        let mntr = try json(try await run(servers, "mntr", json: true).stdout)
        let metrics = try #require((mntr["members"] as? [[String: Any]])?.first?["metrics"] as? [String: Any])
        #expect(metrics["zk_server_state"] as? String == "standalone")
        #expect((metrics["zk_znode_count"] as? Int ?? 0) >= 1)
    }

    @Test func noMemberAnsweringFails() async throws {
        let dead = "127.0.0.1:\(try freeLoopbackPort())"
        for command in ["srvr", "leader", "mntr", "ruok"] {
            let result = try await run(dead, command)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr == "zksh: no member answered\n", "\(command): \(result.stderr)")
            #expect(result.stdout.contains(dead) && result.stdout.contains("down"))
        }
    }

    // MARK: Recipes

    @Test(arguments: TestServerKind.allCases)
    func twoLockContendersAndKazooSeesTheQueue(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let path = uniquePath("lock")
        let holder = try BackgroundZksh(zksh, ["-s", server.connectString, "-c", "lock --id A \(path)"])
        defer { holder.kill() }
        try await holder.waitForOutput("acquired \(path)\n")
        try await holder.waitForOutput("waiters: 0\n")

        let waiter = try BackgroundZksh(zksh, ["-s", server.connectString, "-c", "lock --once --id B --timeout 30 \(path)"])
        defer { waiter.kill() }
        try await waiter.waitForOutput("waiting behind 1: A\n")
        try await holder.waitForOutput("waiters: 1 (B)\n")

        // A third contender gives up after its timeout and leaves the queue.
        let impatient = try await run(server.connectString, "lock --once --id C --timeout 0.5 \(path)")
        #expect(impatient.status == 1)
        #expect(impatient.stdout == "waiting behind 2: B\n", "\(impatient.stdout)")
        #expect(impatient.stderr == "zksh: timed out waiting for the lock \(path)\n")

        // kazoo's Lock reads the same queue (its contenders() gives the ids in order).
        let kazoo = try await blocking {
            try runProcess("/usr/bin/python3", ["-c", """
                import sys
                from kazoo.client import KazooClient
                zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=20)
                print(",".join(zk.Lock(sys.argv[2]).contenders())); zk.stop()
                """, server.connectString, path], timeout: .seconds(60))
        }
        #expect(kazoo.stdout == "A,B\n", "\(kazoo.stderr)")

        // Ctrl-C releases A's lock; B acquires, reports, releases and succeeds.
        holder.interrupt()
        #expect(try await holder.waitForExit() == 130)
        #expect(holder.output.hasSuffix("released \(path)\n"), "\(holder.output)")
        #expect(try await waiter.waitForExit() == 0, "\(waiter.errors)")
        #expect(waiter.output == "waiting behind 1: A\nacquired \(path)\nwaiters: 0\nreleased \(path)\n")
        let remaining = try await run(server.connectString, "ls \(path)")
        #expect(remaining.status == 0 && remaining.stdout == "", "\(remaining)")
    }

    @Test(arguments: TestServerKind.allCases)
    func killingTheLeadersProcessMovesLeadership(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let path = uniquePath("elect")
        let one = try BackgroundZksh(zksh, ["-s", server.connectString, "--session-timeout", "2", "-c", "elect \(path) one"])
        defer { one.kill() }
        try await one.waitForOutput("leader: one\n")
        let two = try BackgroundZksh(zksh, ["-s", server.connectString, "--session-timeout", "2", "-c", "elect \(path) two"])
        defer { two.kill() }
        try await two.waitForOutput("leader: one\n")

        one.kill()  // SIGKILL: the session, and with it the candidacy, ends when it expires
        try await two.waitForOutput("leader: one\nleader: two\n", timeout: .seconds(30))
        #expect(one.output == "leader: one\n")

        let three = try BackgroundZksh(zksh, ["-s", server.connectString, "-c", "elect --json \(path) three"])
        defer { three.kill() }
        try await three.waitForOutput("\"leader\":\"two\"")
        two.interrupt()  // Ctrl-C withdraws at once
        #expect(try await two.waitForExit() == 130)
        try await three.waitForOutput("{\"leader\":\"three\",")
        #expect(three.output.contains("\"self\":true"))
        three.interrupt()
        #expect(try await three.waitForExit() == 130)
        let remaining = try await run(server.connectString, "ls \(path)")
        #expect(remaining.stdout == "", "\(remaining)")
    }

    @Test(arguments: TestServerKind.allCases)
    func registeredMembersAppearAndVanishInDiscover(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let path = uniquePath("svc") + "/api"
        let watcher = try BackgroundZksh(zksh, ["-s", server.connectString, "-c", "discover -w --pick round-robin \(path)"])
        defer { watcher.kill() }
        try await Task.sleep(for: .milliseconds(500))  // let it watch the missing path first

        let member = try BackgroundZksh(zksh, ["-s", server.connectString, "-c", "register \(path) 127.0.0.1:9001 'zone a'"])
        defer { member.kill() }
        try await member.waitForOutput("registered \(path)/127.0.0.1:9001\n")
        try await watcher.waitForOutput("+ 127.0.0.1:9001\tzone a\npick: 127.0.0.1:9001\n")

        let listed = try await run(server.connectString, "register -b \(path) 127.0.0.1:9002; discover \(path); discover --pick round-robin \(path); discover --pick round-robin \(path); discover --pick random \(path)")
        #expect(listed.status == 0, "\(listed.stderr)")
        let output = lines(listed.stdout)
        #expect(output[0...2] == ["registered \(path)/127.0.0.1:9002", "127.0.0.1:9001\tzone a", "127.0.0.1:9002"])
        #expect(output[3...4] == ["127.0.0.1:9001", "127.0.0.1:9002"])
        #expect(["127.0.0.1:9001", "127.0.0.1:9002"].contains(output[5]))
        // The -b member lived as long as that shell's session.
        try await watcher.waitForOutput("+ 127.0.0.1:9002\n")
        try await watcher.waitForOutput("- 127.0.0.1:9002\n")

        // A second registration of the same address by another session is refused.
        let duplicate = try await run(server.connectString, "register -b \(path) 127.0.0.1:9001")
        #expect(duplicate.status == 1 && duplicate.stderr.contains("already registered by another session"))

        member.interrupt()
        #expect(try await member.waitForExit() == 130)
        #expect(member.output == "registered \(path)/127.0.0.1:9001\nunregistered \(path)/127.0.0.1:9001\n")
        try await watcher.waitForOutput("- 127.0.0.1:9001\npick: none\n")
        watcher.interrupt()
        #expect(try await watcher.waitForExit() == 130)

        let empty = try await run(server.connectString, "discover \(path)")
        #expect(empty.status == 1 && empty.stderr == "zksh: no members under \(path)\n")
    }

    @Test func recipesAgainstTheEnsemble() async throws {
        let ensemble = try await Self.ensemble.value
        try await ensemble.waitForQuorum()
        let path = uniquePath("ens")
        let result = try await run(ensemble.connectString, """
            lock --once --id solo \(path)/lock; register -b \(path)/svc 127.0.0.1:7000 x; discover \(path)/svc; \
            discover --pick random \(path)/svc; ls \(path)/lock
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout) == [
            "acquired \(path)/lock", "waiters: 0", "released \(path)/lock",
            "registered \(path)/svc/127.0.0.1:7000", "127.0.0.1:7000\tx", "127.0.0.1:7000",
        ])
        let elect = try BackgroundZksh(zksh, ["-s", ensemble.connectString, "-c", "elect \(path)/election solo"])
        defer { elect.kill() }
        try await elect.waitForOutput("leader: solo\n")
        elect.interrupt()
        #expect(try await elect.waitForExit() == 130)
    }
}

/// A `zksh` child process that runs in the background: its output is collected as it comes, and
/// it can be interrupted (SIGINT, like Ctrl-C) or killed.
final class BackgroundZksh: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var stdout = ""
    private var stderr = ""

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        collect(out.fileHandleForReading) { [weak self] text in self?.lock.withLock { self?.stdout += text } }
        collect(err.fileHandleForReading) { [weak self] text in self?.lock.withLock { self?.stderr += text } }
    }

    private func collect(_ handle: FileHandle, _ append: @escaping @Sendable (String) -> Void) {
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                append(String(decoding: data, as: UTF8.self))
            }
        }.start()
    }

    var output: String { lock.withLock { stdout } }
    var errors: String { lock.withLock { stderr } }

    /// Waits until standard output contains `text`.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            if ContinuousClock.now >= deadline || !process.isRunning && !output.contains(text) {
                try await Task.sleep(for: .milliseconds(100))  // the last output may still be in the pipe
                if output.contains(text) { return }
                throw TestSupportError("zksh \(process.arguments?.joined(separator: " ") ?? "") did not print \(text.debugDescription)",
                                       details: "stdout:\n\(output)\nstderr:\n\(errors)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Ctrl-C.
    func interrupt() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGINT) }
    }

    /// SIGKILL, and wait until it is gone.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for the exit and returns the status (130 after an interrupt).
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                throw TestSupportError("zksh did not exit within \(timeout)", details: "stdout:\n\(output)\nstderr:\n\(errors)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(100))  // let the readers drain the pipes
        return process.terminationStatus
    }
}
