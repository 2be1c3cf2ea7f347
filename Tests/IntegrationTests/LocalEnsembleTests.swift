import Foundation
import Testing
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `zksh --ensemble N`: the built binary starts `zksh serve` members, the shell breaks them on
/// purpose (`ensemble kill`, `partition`, `restart`…) and reports the elections, and the members
/// never outlive the shell.
@Suite(.serialized, .timeLimit(.minutes(5))) struct LocalEnsembleTests {
    let zksh = builtProductPath("zksh")

    func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `zksh --ensemble SIZE … -c SCRIPT`.
    func run(size: Int = 3, _ extra: [String] = [], _ script: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["--ensemble", String(size)] + extra + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, timeout: .seconds(180)) }
    }

    /// The rows of an `ensemble status` table on a screen or in output: id → role.
    static func roles(in text: String) -> [Int: String] {
        var roles: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard cells.count >= 3, let id = Int(cells[0]), cells[2].hasPrefix("127.0.0.1:") else { continue }
            roles[id] = cells[1]
        }
        return roles
    }

    /// The JSON documents of a script's output, one per line.
    static func documents(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Whether process `pid` is gone (or a zombie nobody reaped yet).
    static func isGone(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }

    @Test func interactiveShellKillsTheLeaderAndAnotherIsElected() async throws {
        let home = try temporaryDirectory("home")
        defer { try? FileManager.default.removeItem(at: home) }
        let tmux = try TmuxSession.start(command: [zksh, "--ensemble", "3"], environment: ["HOME": home.path, "NO_COLOR": "1"],
                                         width: 160, height: 50)
        defer { tmux.kill() }
        let started = try await tmux.waitFor("(CONNECTED) /]", timeout: .seconds(90))
        #expect(started.contains("member 1 started (pid "), "\(started)")
        #expect(started.contains("elected leader after "), "\(started)")
        #expect(started.contains("ensemble of 3 ready on 127.0.0.1:"), "\(started)")

        tmux.sendLine("ensemble status")
        let table = try await tmux.waitUntil(timeout: .seconds(30)) { Self.roles(in: $0).count == 3 }
        let roles = Self.roles(in: table)
        #expect(roles.values.sorted() == ["follower", "follower", "leader"], "\(table)")
        let leader = try #require(roles.first { $0.value == "leader" }?.key)
        let followers = roles.keys.filter { $0 != leader }.sorted()
        let statusLine = try #require(table.split(separator: "\n").first { $0.hasPrefix("\(leader) ") && $0.contains("leader") })
        let pid = try #require(statusLine.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.flatMap { Int32($0) },
                               "the pid of a member the shell started: \(statusLine)")

        // Ctrl-C at the prompt reaches the shell, not the members (they have their own process group).
        tmux.sendControlC()
        #expect(!Self.isGone(pid))

        // Tab completes the action and the member ids.
        tmux.send(keys: "C-u")
        tmux.sendLiteral("ensemble ki")
        #expect(await tmux.pressTab(untilScreenShows: "ensemble kill"))
        tmux.send(keys: "C-u")

        tmux.sendLine("ensemble kill \(leader)")
        let afterKill = try await tmux.waitUntil(timeout: .seconds(60)) { screen in
            screen.components(separatedBy: "member \(leader) killed").dropFirst().first?.contains("settled after") ?? false
        }
        let killed = try #require(afterKill.components(separatedBy: "ensemble kill \(leader)").last)
        #expect(killed.contains("member \(leader) killed (pid \(pid))"), "\(killed)")
        let elected = try #require(killed.split(separator: "\n").first { $0.contains("elected leader after") && !$0.contains("member \(leader) ") },
                                   "a new election: \(killed)")
        let newLeader = try #require(followers.first { elected.hasPrefix("member \($0) elected leader after ") }, "\(elected)")
        #expect(elected.contains(" at zxid 0x"), "\(elected)")
        let other = try #require(followers.first { $0 != newLeader })
        #expect(killed.contains("member \(other) following \(newLeader)"), "\(killed)")
        #expect(Self.isGone(pid))

        // Writes still work with two of three members.
        tmux.sendLine("create /after-failover survived; get /after-failover")
        _ = try await tmux.waitFor("Created /after-failover", timeout: .seconds(30))
        _ = try await tmux.waitUntil(timeout: .seconds(30)) { $0.components(separatedBy: "\n").contains("survived") }

        // The killed member comes back as a follower.
        tmux.sendLine("ensemble restart \(leader)")
        let restarted = try await tmux.waitFor("member \(leader) following \(newLeader)", timeout: .seconds(60))
            .components(separatedBy: "ensemble restart \(leader)").last ?? ""
        #expect(restarted.contains("member \(leader) started (pid "), "\(restarted)")

        tmux.sendLine("ensemble status --json")
        let screen = try await tmux.waitFor("\"local\"", timeout: .seconds(30))
        let dataDirectory = try #require(screen.range(of: #"/[^"]*zksh-ensemble-[A-Za-z0-9]+"#, options: .regularExpression).map { String(screen[$0]) },
                                         "\(screen)")
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/member1/zoo.cfg"))

        tmux.sendLine("quit")
        #expect(try await tmux.waitForExit(timeout: .seconds(30)) == 0)
        #expect(!FileManager.default.fileExists(atPath: dataDirectory), "the temporary data is removed on exit")
    }

    @Test func scriptedPartitionHealRestartAndStop() async throws {
        let result = try await run(["--json"], """
            ensemble; ensemble partition 1; ensemble; ensemble heal; ensemble; create /scripted v; \
            ensemble restart 2; get /scripted; ensemble stop
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "no progress on standard error without -v: \(result.stderr)")
        let documents = Self.documents(result.stdout)
        #expect(documents.count == 9, "\(result.stdout)")
        guard documents.count == 9 else { return }

        func roles(_ document: [String: Any]) -> [Int: String] {
            var roles: [Int: String] = [:]
            for member in document["members"] as? [[String: Any]] ?? [] {
                if let id = member["id"] as? Int, let role = member["role"] as? String { roles[id] = role }
            }
            return roles
        }
        let initial = roles(documents[0])
        #expect(initial.values.sorted() == ["follower", "follower", "leader"], "\(documents[0])")
        let members = try #require(documents[0]["members"] as? [[String: Any]])
        #expect(members.allSatisfy { ($0["pid"] as? Int ?? 0) > 0 && ($0["server"] as? String)?.hasPrefix("127.0.0.1:") == true })
        let dataDirectory = try #require((documents[0]["local"] as? [String: Any])?["dataDirectory"] as? String)

        // Member 1 alone has no quorum: it looks for a leader; 2 and 3 elect one.
        #expect(documents[1]["action"] as? String == "partition")
        #expect(documents[1]["partition"] as? [[Int]] == [[1], [2, 3]])
        let partitioned = roles(documents[2])
        #expect(partitioned[1] == "looking", "\(documents[2])")
        #expect([partitioned[2], partitioned[3]].compactMap { $0 }.sorted() == ["follower", "leader"], "\(documents[2])")
        #expect(documents[2]["partition"] as? [[Int]] == [[1], [2, 3]])
        #expect(FileManager.default.fileExists(atPath: dataDirectory) == false, "removed after 'ensemble stop'")

        // Healed: member 1 follows again.
        let healEvents = try #require(documents[3]["events"] as? [[String: Any]])
        #expect(healEvents.contains { $0["event"] as? String == "following" && $0["member"] as? Int == 1 }, "\(healEvents)")
        #expect(healEvents.contains { $0["event"] as? String == "settled" })
        // Clients that moved are reported after the settled state (the shell's own session
        // left member 1 while it was cut off, or not: either way any "clients" event is last).
        if let clients = healEvents.last, clients["event"] as? String == "clients" {
            #expect((clients["members"] as? [[String: Any]])?.isEmpty == false, "\(clients)")
        }
        #expect(roles(documents[4]).values.sorted() == ["follower", "follower", "leader"])
        #expect(documents[4]["partition"] == nil)

        // Restart reports stopping, starting and following.
        #expect(documents[5]["path"] as? String == "/scripted")
        let restartEvents = try #require(documents[6]["events"] as? [[String: Any]])
        #expect(restartEvents.map { $0["event"] as? String }.prefix(2) == ["stopped", "started"], "\(restartEvents)")
        #expect(restartEvents.contains { $0["event"] as? String == "following" && $0["member"] as? Int == 2 }, "\(restartEvents)")
        #expect(restartEvents.contains { $0["event"] as? String == "settled" }, "\(restartEvents)")
        #expect((documents[7]["data"] as? String) == "v")
        #expect(documents[8]["action"] as? String == "stop")
        #expect((documents[8]["events"] as? [[String: Any]])?.count == 3)
        #expect(documents[8]["kept"] as? Bool == false)
    }

    /// `ensemble add` starts a fourth member and makes it a voter through reconfig (as the
    /// ensemble's superuser); `ensemble remove` takes one out; the data stays readable.
    @Test func addAndRemoveMembersThroughReconfig() async throws {
        let result = try await run([], """
            create /grown v; ensemble add; ensemble status; ensemble remove 1; ensemble status; get /grown; \
            get /zookeeper/config
            """)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("member 4 added: server.4=127.0.0.1:"), "\(result.stdout)")
        #expect(result.stdout.contains("member 1 removed from the configuration"), "\(result.stdout)")
        let tables = result.stdout.components(separatedBy: "ID  ROLE")
        #expect(tables.count == 3, "two status tables: \(result.stdout)")
        if tables.count == 3 {
            #expect(tables[1].contains("\n4   follower") || tables[1].contains("\n4   leader"), "\(tables[1])")
            #expect(!tables[2].contains("\n1   "), "\(tables[2])")
        }
        let config = result.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("server.") }
        #expect(config.map { String($0.prefix(9)) } == ["server.2=", "server.3=", "server.4="], "\(result.stdout)")
        #expect(result.stdout.contains("\nv\n"), "\(result.stdout)")
    }

    @Test func aKeptDataDirectoryStartsTheSameEnsembleAgain() async throws {
        let scratch = try temporaryDirectory("kept-ensemble")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = scratch.appendingPathComponent("data").path
        let first = try await run(size: 3, ["--data-dir", directory], "create /kept persisted")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "Created /kept\n")
        #expect(FileManager.default.fileExists(atPath: directory + "/member1/data/myid"))

        let second = try await run(size: 3, ["--data-dir", directory, "-v"], "get /kept")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "persisted\n")
        #expect(second.stderr.contains("member 1 started (pid "), "with -v the progress goes to standard error: \(second.stderr)")
        #expect(second.stderr.contains("data kept in \(directory)"), "\(second.stderr)")

        let mismatch = try await run(size: 5, ["--data-dir", directory], "ls /")
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr == "zksh: ensemble: \(directory) holds an ensemble of 3 members, not 5\n")
    }

    @Test func membersDoNotOutliveTheShell() async throws {
        // Ctrl-C ends the script; the shell stops the members and removes the data.
        let interrupted = try BackgroundZksh(zksh, ["--ensemble", "3", "--json", "-c", "ensemble; watch /"])
        defer { interrupted.kill() }
        try await interrupted.waitForOutput("\"local\"", timeout: .seconds(90))
        let status = try #require(Self.documents(interrupted.output).first)
        let pids = (status["members"] as? [[String: Any]] ?? []).compactMap { ($0["pid"] as? Int).map(Int32.init) }
        let dataDirectory = try #require((status["local"] as? [String: Any])?["dataDirectory"] as? String)
        #expect(pids.count == 3 && pids.allSatisfy { !Self.isGone($0) })
        interrupted.interrupt()
        #expect(try await interrupted.waitForExit(timeout: .seconds(30)) == 130)
        #expect(pids.allSatisfy(Self.isGone))
        #expect(!FileManager.default.fileExists(atPath: dataDirectory))

        // SIGKILL gives the shell no chance to clean up: the members notice their parent is gone.
        let killed = try BackgroundZksh(zksh, ["--ensemble", "3", "--json", "-c", "ensemble; watch /"])
        defer { killed.kill() }
        try await killed.waitForOutput("\"local\"", timeout: .seconds(90))
        let killedStatus = try #require(Self.documents(killed.output).first)
        let orphans = (killedStatus["members"] as? [[String: Any]] ?? []).compactMap { ($0["pid"] as? Int).map(Int32.init) }
        let abandoned = try #require((killedStatus["local"] as? [String: Any])?["dataDirectory"] as? String)
        #expect(orphans.count == 3)
        killed.kill()
        try await eventually("the members exit with their parent", within: .seconds(30)) { orphans.allSatisfy(Self.isGone) }
        // The next ensemble removes the data the killed shell left behind.
        #expect(FileManager.default.fileExists(atPath: abandoned))
        let next = try await run(size: 3, [], "ensemble --json")
        #expect(!FileManager.default.fileExists(atPath: abandoned), "\(next.stderr)")
    }
}
