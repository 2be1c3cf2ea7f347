import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// The `zksh` binary end to end against a real Apache ZooKeeper: scripted through arguments and
/// stdin, and interactive through a terminal (tmux), typed as a person would.
@Suite(.timeLimit(.minutes(3))) struct ShellScriptTests {
    let zksh = builtProductPath("zksh")

    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        return try await blocking { try runProcess(zksh, arguments, stdin: stdin, environment: environment, timeout: .seconds(60)) }
    }

    @Test func commandsFromTheCommandLine() async throws {
        let server = try await SharedServer.get()
        let root = uniquePath("sh")
        let result = try await run(["-s", server.connectString, "-c", "create \(root) hi; create \(root)/b; create \(root)/a 'two words'; get \(root); ls \(root)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Created \(root)\nCreated \(root)/b\nCreated \(root)/a\nhi\na\nb\n")
        #expect(result.stderr.isEmpty)
        // A single command as trailing arguments.
        let single = try await run(["-s", server.connectString, "get", "\(root)/a"])
        #expect(single.stdout == "two words\n")
    }

    @Test func scriptFromStdinStopsAtTheFirstFailure() async throws {
        let server = try await SharedServer.get()
        let root = uniquePath("sh")
        let script = "create \(root)\nget \(root)/missing\ncreate \(root)/never\n"
        let result = try await run(["-s", server.connectString], stdin: script)
        #expect(result.status == 1)
        #expect(result.stderr.contains("zksh: \(root)/missing: node does not exist (NONODE)"))
        let client = try await connectedClient(server.connectString)
        #expect(try await client.exists(root + "/never") == nil)
        // --keep-going runs the rest and still reports failure.
        let keepGoing = try await run(["-s", server.connectString, "--keep-going"], stdin: script.replacingOccurrences(of: "create \(root)\n", with: ""))
        #expect(keepGoing.status == 1)
        #expect(try await client.exists(root + "/never") != nil)
        try await client.close()
    }

    @Test func keepGoingScriptsArePipelinedAndPrintInScriptOrder() async throws {
        let server = try await SharedServer.get()
        let root = uniquePath("pipe")
        let count = 1_500  // more than the pipeline's window of 1,000 replies awaited at once
        var script = "create \(root)\ncd \(root)\n"
        var expected = "Created \(root)\n"
        for i in 0..<count {
            script += "create n\(i) v\(i)\n"
            expected += "Created \(root)/n\(i)\n"
        }
        // A failure in the middle, reads that must see the writes before them, another barrier.
        script += "get n7\ndelete missing\nset n1 changed\nget n1\nexists n2\nls\n"
        expected += "v7\nchanged\ntrue\n"
        expected += (0..<count).map { "n\($0)" }.sorted().joined(separator: "\n") + "\n"
        for i in 0..<count { script += "delete n\(i)\n" }
        script += "ls\ncd /\ndelete \(root)\nexists \(root)\n"
        let result = try await run(["-s", server.connectString, "--keep-going"], stdin: script)
        #expect(result.status == 1)
        #expect(result.stderr == "zksh: \(root)/missing: node does not exist (NONODE)\n")
        #expect(result.stdout == expected + "false\n")
    }

    @Test func jsonOutputUsesZooKeeperFieldNames() async throws {
        let server = try await SharedServer.get()
        let root = uniquePath("sh")
        _ = try await run(["-s", server.connectString, "-c", "create \(root) data"])
        let result = try await run(["-s", server.connectString, "--json", "get", "-s", root])
        #expect(result.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stat = try #require(document["stat"] as? [String: Any])
        #expect(Set(stat.keys) == ["czxid", "mzxid", "pzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren"])
        #expect(stat["dataLength"] as? Int == 4)
    }

    @Test func usageErrorsExitWith2() async throws {
        let result = try await run(["-s", "127.0.0.1:1", "-c", "ls --no-such-flag /"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("zksh:"))
    }

    @Test func deadServerIsAClearErrorNotAHang() async throws {
        let port = try freeLoopbackPort()
        let started = ContinuousClock.now
        let result = try await run(["-s", "127.0.0.1:\(port)", "--timeout", "3", "ls", "/"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("could not connect to 127.0.0.1:\(port)"))
        #expect(result.stdout.isEmpty)
        // A liveness bound (no hang), not a speed check: generous for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(90))
    }

    @Test func credentialsFromTheCommandLine() async throws {
        let server = try await SharedServer.get()
        let result = try await run(["-s", server.connectString, "--auth", "digest:carol:pw", "-c", "whoami"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("digest: carol"))
        let bad = try await run(["-s", server.connectString, "--auth", "nocolon", "-c", "whoami"])
        #expect(bad.status == 2)
    }

    @Test func serverFromTheEnvironment() async throws {
        let server = try await SharedServer.get()
        let result = try await run(["-c", "ls /"], environment: ["ZKSH_SERVER": server.connectString])
        #expect(result.status == 0)
        #expect(result.stdout.contains("zookeeper"))
    }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct ShellInteractiveTests {
    let zksh = builtProductPath("zksh")

    func startShell(_ connectString: String, home: URL) throws -> TmuxSession {
        try TmuxSession.start(command: [zksh, "-s", connectString], environment: ["HOME": home.path, "NO_COLOR": "1"], width: 120, height: 40)
    }

    func temporaryHome() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-home-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A long recursive command draws a progress line on the terminal's standard error, and
    /// Ctrl-C stops it with a report of what was done; the shell keeps running.
    @Test func progressLineAndCtrlCOutOfALongCopy() async throws {
        let server = try await ZkshServer.start()
        defer { server.stop() }
        let root = uniquePath("progress")
        let client = try await connectedClient(server.connectString)
        try await client.create(root)
        // 20 groups of 1,000: enough that the copy runs for a while in a debug build.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask { _ = try await client.create(String(format: "\(root)/g%02d", index)) }
            }
            try await group.waitForAll()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for index in 0..<20_000 {
                if inFlight >= 200 {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { _ = try await client.create(String(format: "\(root)/g%02d/n%05d", index % 20, index)) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let tmux = try startShell(server.connectString, home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")

        tmux.sendLine("cp \(root) \(root)-copy")
        let screen = try await tmux.waitUntil(timeout: .seconds(60)) { $0.contains("nodes copied") }
        #expect(screen.contains("cp: "), "\(screen)")
        tmux.sendControlC()
        let after = try await tmux.waitFor("interrupted after copying", timeout: .seconds(30))
        #expect(after.contains("cp: interrupted after copying"), "\(after)")
        // The report follows the last progress line (the terminal echoed ^C after it), and the
        // shell is still there.
        let lines = after.split(separator: "\n").map(String.init)
        if let report = lines.firstIndex(where: { $0.contains("interrupted after copying") }) {
            #expect(report > 0 && lines[report - 1].contains("nodes copied"), "\(after)")
        }
        tmux.sendLine("create \(root)-after")
        _ = try await tmux.waitFor("Created \(root)-after", timeout: .seconds(15))
        let copied = try await client.getAllChildrenNumber(root + "-copy")
        #expect(copied < 20_020, "the copy stopped part-way (\(copied) nodes)")
        tmux.sendLine("quit")
        try await client.close()
    }

    @Test func typingCommandsCompletionWatchAndCtrlC() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let root = uniquePath("tty")
        let tmux = try startShell(server.connectString, home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")

        tmux.sendLine("create \(root) hello")
        _ = try await tmux.waitFor("Created \(root)")
        tmux.sendLine("cd \(root)")
        _ = try await tmux.waitFor("(CONNECTED) \(root)]")
        tmux.sendLine("get .")
        _ = try await tmux.waitFor("hello")

        // Tab completes a path, fetched live from the server.
        tmux.sendLiteral("ls /zooke")
        #expect(await tmux.pressTab(untilScreenShows: "ls /zookeeper/"))
        tmux.send(keys: "Enter")
        _ = try await tmux.waitFor("quota")

        // watch streams events until Ctrl-C.
        tmux.sendLine("watch -d \(root)")
        _ = try await tmux.waitFor("Ctrl-C stops")
        let writer = try await connectedClient(server.connectString)
        try await writer.setData(root, data: bytes("changed-value"))
        _ = try await tmux.waitFor("NodeDataChanged")
        _ = try await tmux.waitFor("changed-value")
        tmux.sendControlC()
        _ = try await tmux.waitUntil(timeout: .seconds(10)) { screen in
            screen.components(separatedBy: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?
                .hasSuffix("(CONNECTED) \(root)]") ?? false
        }
        // The shell still works after Ctrl-C, and the watch is gone from the server.
        tmux.sendLine("stat .")
        _ = try await tmux.waitFor("dataLength = 13")
        tmux.sendLine("history")
        _ = try await tmux.waitFor("watch -d \(root)")

        // Ctrl-D quits; history was saved.
        tmux.send(keys: "C-d")
        // Quitting closes the session first (a logged transaction), which can take seconds on a busy disk.
        #expect(try await tmux.waitForExit(timeout: .seconds(60)) == 0)
        let history = try String(contentsOf: home.appendingPathComponent(".zksh_history"), encoding: .utf8)
        // libedit's history file format escapes spaces; the unique path is enough to recognise the line.
        #expect(history.contains(root))
        try await writer.close()
    }

    @Test func connectionLossAndRecoveryAreShownWhileTyping() async throws {
        let server = try await SharedServer.get()
        let proxy = try await TCPProxy.start(targetPort: server.port, group: testEventLoopGroup)
        defer { Task { await proxy.stop() } }
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let tmux = try startShell("127.0.0.1:\(proxy.port)", home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")
        tmux.sendLiteral("ls /zoo")
        proxy.cutConnections()
        _ = try await tmux.waitFor("reconnected", timeout: .seconds(20))
        // The half-typed line survived the notices.
        tmux.sendLiteral("keeper")
        tmux.send(keys: "Enter")
        _ = try await tmux.waitFor("quota")
    }
}
