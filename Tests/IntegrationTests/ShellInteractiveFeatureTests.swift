import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// The interactive shell's finishing touches, typed through tmux as a person would: Tab
/// completion in several positions, Ctrl-R, `txn` blocks, Ctrl-C out of a long `find`, and
/// colour on a terminal.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ShellInteractiveFeatureTests {
    let zksh = builtProductPath("zksh")

    func startShell(_ connectString: String, home: URL, color: Bool = false, workingDirectory: String? = nil) throws -> TmuxSession {
        var environment = ["HOME": home.path]
        // With colour, drop any NO_COLOR this process inherited (a CI runner may set it).
        let command = color ? ["/usr/bin/env", "-u", "NO_COLOR", zksh, "-s", connectString] : [zksh, "-s", connectString]
        if !color { environment["NO_COLOR"] = "1" }
        return try TmuxSession.start(command: command, environment: environment, width: 160, height: 45,
                                     workingDirectory: workingDirectory)
    }

    func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Whether the last non-blank line of the screen is the prompt ending in `suffix`.
    static func promptIsLast(_ screen: String, endingIn suffix: String) -> Bool {
        screen.components(separatedBy: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?
            .hasSuffix(suffix) ?? false
    }

    @Test func tabCompletionInSeveralPositions() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryDirectory("home")
        let work = try temporaryDirectory("work")
        defer {
            try? FileManager.default.removeItem(at: home)
            try? FileManager.default.removeItem(at: work)
        }
        try FileManager.default.createDirectory(at: work.appendingPathComponent("dumps-here"), withIntermediateDirectories: true)
        let root = uniquePath("tab")
        let client = try await connectedClient(server.connectString)
        defer { Task { try? await client.close() } }
        _ = try await client.create(root)
        _ = try await client.create(root + "/alpha-node", data: bytes("alpha-data"))
        _ = try await client.create(root + "/beta-node", data: bytes("beta-data!"))

        let tmux = try startShell(server.connectString, home: home, workingDirectory: work.path)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")

        // A command name.
        tmux.sendLiteral("getAllChildrenN")
        #expect(await tmux.pressTab(untilScreenShows: "getAllChildrenNumber"))
        tmux.sendLine(root)
        _ = try await tmux.waitFor("\n2\n")  // two descendants

        // A flag of the current command.
        tmux.sendLiteral("ls --js")
        #expect(await tmux.pressTab(untilScreenShows: "ls --json"))
        tmux.sendLine(root)
        _ = try await tmux.waitFor("\"children\":[\"alpha-node\",\"beta-node\"]")

        // A relative path after cd.
        tmux.sendLine("cd \(root)")
        _ = try await tmux.waitFor("(CONNECTED) \(root)]")
        tmux.sendLiteral("get alp")
        #expect(await tmux.pressTab(untilScreenShows: "get alpha-node"))
        tmux.send(keys: "Enter")
        _ = try await tmux.waitFor("alpha-data")

        // Mid-line: the cursor after "bet", text after it.
        tmux.sendLiteral("get bet -s")
        tmux.send(keys: "Left", "Left", "Left")
        #expect(await tmux.pressTab(untilScreenShows: "get beta-node -s"))
        tmux.send(keys: "Enter")
        _ = try await tmux.waitFor("beta-data!")
        _ = try await tmux.waitFor("dataLength = 10")

        // A local file path for export's FILE (relative to the shell's working directory).
        tmux.sendLiteral("export . dumps-h")
        #expect(await tmux.pressTab(untilScreenShows: "export . dumps-here/"))
        tmux.sendLine("out.json")
        let exported = work.appendingPathComponent("dumps-here/out.json")
        try await eventually("the export is written") {
            ((try? String(contentsOf: exported, encoding: .utf8)) ?? "").contains("beta-node")
        }
    }

    @Test func ctrlRRecallsAnEarlierCommand() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryDirectory("home")
        defer { try? FileManager.default.removeItem(at: home) }
        let root = uniquePath("hist")
        let tmux = try startShell(server.connectString, home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")
        tmux.sendLine("create \(root) first-value")
        _ = try await tmux.waitFor("Created \(root)")
        tmux.sendLine("get \(root)")
        _ = try await tmux.waitFor("first-value")
        tmux.sendLine("set \(root) second-value")
        tmux.sendLine("pwd")
        _ = try await tmux.waitUntil(timeout: .seconds(15)) { Self.promptIsLast($0, endingIn: "(CONNECTED) /]") && $0.contains("\n/\n") }

        // Ctrl-R, type part of the earlier `get`, Enter runs the recalled line.
        tmux.send(keys: "C-r")
        tmux.sendLiteral("get \(root)")
        _ = try await tmux.waitFor("get \(root)")
        tmux.send(keys: "Enter")
        // The recalled `get` prints the value on a line of its own (the `set` line holds it too).
        _ = try await tmux.waitUntil(timeout: .seconds(15)) { $0.components(separatedBy: "\n").contains("second-value") }
    }

    @Test func transactionBlockCommittedAndAborted() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryDirectory("home")
        defer { try? FileManager.default.removeItem(at: home) }
        let root = uniquePath("txn")
        let client = try await connectedClient(server.connectString)
        defer { Task { try? await client.close() } }
        _ = try await client.create(root, data: bytes("v0"))
        _ = try await client.create(root + "/old")

        let tmux = try startShell(server.connectString, home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")
        tmux.sendLine("txn")
        _ = try await tmux.waitFor("txn>")
        tmux.sendLine("create \(root)/new fresh")
        tmux.sendLine("set \(root) v1")
        tmux.sendLine("delete \(root)/old")
        tmux.sendLine("check \(root)/new")
        tmux.sendLine("commit")
        _ = try await tmux.waitFor("Created \(root)/new")
        _ = try await tmux.waitFor("Set \(root) (version 1)")
        _ = try await tmux.waitFor("Deleted \(root)/old")
        _ = try await tmux.waitFor("Checked \(root)/new")
        #expect(try await client.getData(root).data == bytes("v1"))
        #expect(try await client.exists(root + "/old") == nil)

        tmux.sendLine("txn")
        tmux.sendLine("delete \(root)/new")
        tmux.sendLine("abort")
        _ = try await tmux.waitFor("Transaction aborted; nothing was applied")
        #expect(try await client.exists(root + "/new") != nil)
        _ = try await tmux.waitUntil(timeout: .seconds(10)) { Self.promptIsLast($0, endingIn: "(CONNECTED) /]") }
    }

    @Test func ctrlCStopsALongFind() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryDirectory("home")
        defer { try? FileManager.default.removeItem(at: home) }
        let root = uniquePath("find")
        let client = try await connectedClient(server.connectString)
        defer { Task { try? await client.close() } }
        // A chain 300 deep with 10 leaves on each level (3,300 nodes): the walk needs hundreds
        // of sequential round trips, so it is still running when Ctrl-C arrives. Created with
        // a few multis, so setting up stays quick.
        var operations: [ZooKeeperOperation] = [.create(path: root)]
        var level = root
        for _ in 0..<300 {
            for leaf in 0..<10 { operations.append(.create(path: "\(level)/leaf\(leaf)")) }
            level += "/z"  // after the leaves in sorted order: matches print from the start
            operations.append(.create(path: level))
        }
        for start in stride(from: 0, to: operations.count, by: 500) {
            _ = try await client.multi(Array(operations[start..<min(start + 500, operations.count)]))
        }

        let tmux = try startShell(server.connectString, home: home)
        defer { tmux.kill() }
        _ = try await tmux.waitFor("(CONNECTED) /]")
        // Every leaf matches: printing thousands of long paths to the terminal keeps the walk
        // busy; Ctrl-C once the first match shows, so the command is surely running.
        tmux.sendLine("find \(root) 'leaf*'")
        _ = try await tmux.waitFor("/leaf0", timeout: .seconds(20))
        tmux.sendControlC()
        _ = try await tmux.waitUntil(timeout: .seconds(20)) { screen in
            screen.contains("find: interrupted after visiting") && Self.promptIsLast(screen, endingIn: "(CONNECTED) /]")
        }
        // The shell still works.
        tmux.sendLine("stat \(root)")
        _ = try await tmux.waitFor("numChildren = 11")
    }

    @Test func colourOnATerminalAndNotWithNoColor() async throws {
        let server = try await SharedServer.get()
        let home = try temporaryDirectory("home")
        defer { try? FileManager.default.removeItem(at: home) }
        let root = uniquePath("color")
        let client = try await connectedClient(server.connectString)
        defer { Task { try? await client.close() } }
        _ = try await client.create(root)
        _ = try await client.create(root + "/branch")
        _ = try await client.create(root + "/branch/leaf")

        let coloured = try startShell(server.connectString, home: home, color: true)
        defer { coloured.kill() }
        _ = try await coloured.waitFor("(CONNECTED) /]")
        coloured.sendLine("get \(root)/missing")
        _ = try await coloured.waitFor("node does not exist")
        coloured.sendLine("tree \(root)")
        _ = try await coloured.waitFor("└── leaf")
        let escaped = coloured.capture(escapeSequences: true)
        // tmux re-encodes the colours: green state, red "zksh:", blue branch, plain leaf.
        #expect(escaped.contains("\u{1B}[32mCONNECTED"), "\(escaped)")
        #expect(escaped.contains("31mzksh:"), "\(escaped)")
        let lines = escaped.components(separatedBy: "\n")
        #expect(lines.first { $0.hasSuffix("branch") }?.contains("34m") == true, "\(escaped)")  // has children
        #expect(lines.first { $0.hasSuffix("leaf") }?.contains("34m") == false, "\(escaped)")  // a leaf

        let plain = try startShell(server.connectString, home: home, color: false)
        defer { plain.kill() }
        _ = try await plain.waitFor("(CONNECTED) /]")
        plain.sendLine("get \(root)/missing")
        _ = try await plain.waitFor("node does not exist")
        plain.sendLine("tree \(root)")
        _ = try await plain.waitFor("└── leaf")
        let unescaped = plain.capture(escapeSequences: true)
        #expect(!unescaped.contains("\u{1B}["), "\(unescaped)")
    }
}
