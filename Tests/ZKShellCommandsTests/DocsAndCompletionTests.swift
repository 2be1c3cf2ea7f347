import ArgumentParser
import Foundation
import NIOPosix
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

// MARK: Four-letter words and tables

@Suite("Ensemble health: four-letter-word parsing and tables")
struct FourLetterWordParsingTests {
    /// Apache ZooKeeper 3.8's `srvr` of a follower.
    static let srvr = """
        Zookeeper version: 3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC
        Latency min/avg/max: 0/0.4286/3
        Received: 8
        Sent: 7
        Connections: 1
        Outstanding: 0
        Zxid: 0x200000003
        Mode: follower
        Node count: 5

        """

    @Test func srvrSummary() {
        let values = FourLetterWordReply.summary(Self.srvr)
        #expect(values.keys == ["Zookeeper version", "Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode", "Node count"])
        #expect(values["Mode"] == "follower")
        #expect(values["Latency min/avg/max"] == "0/0.4286/3")
        let zxid = try? #require(values["Zxid"].flatMap(FourLetterWordReply.zxid))
        #expect(zxid == 0x2_0000_0003)
        #expect(FourLetterWordReply.epoch(ofZxid: 0x2_0000_0003) == 2)
        #expect(FourLetterWordReply.zxid("0xffffffffffffffff") == -1)
        #expect(FourLetterWordReply.zxid("nope") == nil)
        #expect(FourLetterWordReply.shortVersion(values["Zookeeper version"]!) == "3.8.0")
        #expect(FourLetterWordReply.shortVersion("3.9.4-zksh, built on 01/01/2025 00:00 GMT") == "3.9.4")
        #expect(values.json == ["Zookeeper version": "3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC",
                                "Latency min/avg/max": "0/0.4286/3", "Received": 8, "Sent": 7, "Connections": 1,
                                "Outstanding": 0, "Zxid": "0x200000003", "Mode": "follower", "Node count": 5])
    }

    @Test func mntrEnviAndCons() {
        let mntr = FourLetterWordReply.monitor("zk_version\t3.8.0-5a02, built on x\nzk_server_state\tleader\nzk_znode_count\t7\nzk_avg_latency\t0.5\n")
        #expect(mntr.keys == ["zk_version", "zk_server_state", "zk_znode_count", "zk_avg_latency"])
        #expect(mntr["zk_server_state"] == "leader" && mntr["zk_version"] == "3.8.0-5a02, built on x")
        #expect(mntr.json == ["zk_version": "3.8.0-5a02, built on x", "zk_server_state": "leader", "zk_znode_count": 7, "zk_avg_latency": "0.5"])

        let envi = FourLetterWordReply.environment("Environment:\nzookeeper.version=3.8.0\nuser.dir=/tmp/a=b\n")
        #expect(envi.pairs.map(\.key) == ["zookeeper.version", "user.dir"])
        #expect(envi["user.dir"] == "/tmp/a=b")

        let cons = FourLetterWordReply.connections("""
             /127.0.0.1:50312[1](queued=0,recved=3,sent=3,sid=0x100003f9e6d0000,lop=PING,est=1700000000000,to=10000,lcxid=0x2,lzxid=0x5,lresp=1700000000100,llat=0,minlat=0,avglat=0.3333,maxlat=1)
             /127.0.0.1:50320[0](queued=0,recved=1,sent=0)

            """)
        #expect(cons.count == 2)
        #expect(cons[0].client == "127.0.0.1:50312" && cons[0].values["sid"] == "0x100003f9e6d0000" && cons[0].values["lop"] == "PING")
        #expect(cons[0].values["maxlat"] == "1")
        #expect(cons[1].client == "127.0.0.1:50320" && cons[1].values.keys == ["queued", "recved", "sent"])
        #expect(cons[1].json == ["client": "127.0.0.1:50320", "queued": 0, "recved": 1, "sent": 0])
        // stat carries the same client lines after "Clients:".
        let stat = "Zookeeper version: 3.8.0\nClients:\n /127.0.0.1:1[1](queued=0,recved=1,sent=1)\n\nLatency min/avg/max: 0/0.0/0\nMode: standalone\n"
        #expect(FourLetterWordReply.connections(stat).map(\.client) == ["127.0.0.1:1"])
        #expect(FourLetterWordReply.summary(stat)["Mode"] == "standalone")
        #expect(FourLetterWordReply.summary(stat)["Clients"] == nil)
    }

    @Test func memberStatuses() {
        let up = MemberReply(member: "h:1", outcome: .answered("imok"))
        let down = MemberReply(member: "h:2", outcome: .down("connection refused"))
        let refused = MemberReply(member: "h:3", outcome: .answered("mntr is not executed because it is not in the whitelist.\n"))
        let noQuorum = MemberReply(member: "h:4", outcome: .answered("This ZooKeeper instance is not currently serving requests\n"))
        #expect([up, down, refused, noQuorum].map(\.status) == ["up", "down", "not allowed", "not serving"])
        #expect([up, down, refused, noQuorum].map(\.isUp) == [true, false, false, true])
        #expect(down.problem == "connection refused" && refused.problem == "mntr is not executed because it is not in the whitelist.")
        #expect(EnsemblePoll.heading(down) == "== h:2 (down: connection refused) ==")
        #expect(EnsemblePoll.anyUp([down, refused]) == false)
        #expect(throws: ShellError("no member answered")) { try EnsemblePoll.requireAnyAnswer([down, refused]) }
        #expect(EnsemblePoll.reason(ZooKeeperError(.connectionLoss, detail: "127.0.0.1:1: connection reset (error set): Connection refused (errno: 111)")) == "connection refused")
        #expect(EnsemblePoll.reason(ZooKeeperError(.operationTimeout, detail: "h:1 did not answer 'srvr'")) == "timed out")
    }

    @Test func textTable() {
        let table = TextTable(headers: ["MEMBER", "MODE", "ZXID"], rows: [
            ["127.0.0.1:2181", "follower", "0x100000002"],
            ["127.0.0.1:12", "leader", ""],
            ["h:3", "down"],
        ])
        #expect(table.rendered() == """
            MEMBER          MODE      ZXID
            127.0.0.1:2181  follower  0x100000002
            127.0.0.1:12    leader    -
            h:3             down      -

            """)
        #expect(TextTable(headers: ["A"]).rendered() == "A\n")
    }

    @Test func srvrMntrAndLeaderTables() {
        let follower = MemberReply(member: "127.0.0.1:1", outcome: .answered(Self.srvr))
        let leaderText = Self.srvr.replacingOccurrences(of: "Mode: follower", with: "Mode: leader")
        let leader = MemberReply(member: "127.0.0.1:2", outcome: .answered(leaderText))
        let down = MemberReply(member: "127.0.0.1:3", outcome: .down("connection refused"))
        let replies = [follower, leader, down]
        let srvr = SrvrCommand.table(replies, replies.map { $0.reply.map(FourLetterWordReply.summary) ?? OrderedValues() })
        let lines = srvr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let cells = lines.map { $0.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        #expect(cells[0] == ["MEMBER", "STATUS", "LATENCY MIN/AVG/MAX", "RECEIVED", "SENT", "CONNECTIONS", "OUTSTANDING", "ZXID", "MODE", "NODE COUNT", "VERSION"])
        #expect(cells[2] == ["127.0.0.1:2", "up", "0/0.4286/3", "8", "7", "1", "0", "0x200000003", "leader", "5", "3.8.0"])
        #expect(cells[3] == ["127.0.0.1:3", "down"] + Array(repeating: "-", count: 9))
        // Columns line up: every row's cells start where the header's do.
        let modeColumn = try? #require(lines[0].range(of: "MODE")).lowerBound.utf16Offset(in: lines[0])
        #expect(lines[1].dropFirst(modeColumn ?? 0).hasPrefix("follower") && lines[2].dropFirst(modeColumn ?? 0).hasPrefix("leader"))

        let rows = replies.map(LeaderCommand.row)
        #expect(rows[1] == LeaderCommand.Row(member: "127.0.0.1:2", status: "up", mode: "leader", zxid: 0x2_0000_0003))
        #expect(LeaderCommand.leader(of: rows)?.member == "127.0.0.1:2")
        #expect(LeaderCommand.summary(LeaderCommand.leader(of: rows)) == "leader: 127.0.0.1:2 zxid 0x200000003 epoch 2")
        #expect(LeaderCommand.table(rows) == """
            MEMBER       MODE      ZXID         EPOCH
            127.0.0.1:1  follower  0x200000003  2
            127.0.0.1:2  leader    0x200000003  2
            127.0.0.1:3  down      -            -

            """)
        #expect(LeaderCommand.leader(of: [rows[0], rows[2]]) == nil)
        #expect(LeaderCommand.summary(nil) == "leader: none")
        let standalone = LeaderCommand.Row(member: "h:1", status: "up", mode: "standalone", zxid: 5)
        #expect(LeaderCommand.leader(of: [standalone]) == standalone)

        let metrics = [FourLetterWordReply.monitor("zk_server_state\tleader\nzk_znode_count\t7\nzk_version\t3.8.0-abc, built\n"), OrderedValues()]
        let mntrReplies = [leader, down]
        #expect(MntrCommand.table(mntrReplies, metrics, keys: ["zk_server_state", "zk_version", "zk_znode_count", "zk_followers"]) == """
            MEMBER       STATUS  SERVER_STATE  VERSION  ZNODE_COUNT
            127.0.0.1:2  up      leader        3.8.0    7
            127.0.0.1:3  down    -             -        -

            """)
        #expect(MntrCommand.table(mntrReplies, metrics, keys: ["zk_followers"], explicit: true).hasPrefix("MEMBER       STATUS  FOLLOWERS\n"))
    }
}

// MARK: Recipes

@Suite("Recipes: node names and parsing")
struct RecipeParsingTests {
    @Test func lockNodeNamesSortAsKazoo() {
        let prefix = LockNodeName.newPrefix()
        #expect(prefix.count == 32 + 8 && prefix.hasSuffix("__lock__"))
        #expect(prefix.dropLast(8).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(LockNodeName.sequence(of: "abc__lock__0000000007") == "0000000007")
        #expect(LockNodeName.sequence(of: "abc__rlock__0000000003") == "0000000003")
        #expect(LockNodeName.sequence(of: "lock-0000000001") == nil)
        #expect(LockNodeName.queue(["ff__lock__0000000010", "lease", "00__lock__0000000002", "aa__rlock__0000000005"])
            == ["00__lock__0000000002", "aa__rlock__0000000005", "ff__lock__0000000010"])
    }

    @Test func recipeCommandsParse() throws {
        let lock = try parse(["lock", "--once", "--timeout", "2.5", "--id", "me", "/l"], as: LockCommand.self)
        #expect(lock.once && lock.timeout == 2.5 && lock.id == "me" && lock.path == "/l")
        #expect(usageError(["lock"])?.message == "Missing expected argument '<path>'")
        #expect(usageError(["lock", "--timeout", "-1", "/l"]) != nil)

        let elect = try parse(["elect", "/e", "web-1"], as: ElectCommand.self)
        #expect(elect.path == "/e" && elect.name == "web-1")
        #expect(try parse(["elect", "/e"], as: ElectCommand.self).name == nil)

        let register = try parse(["register", "-b", "/svc", "10.0.0.5:8080", "zone=a"], as: RegisterCommand.self)
        #expect(register.background && register.address == "10.0.0.5:8080" && register.data == "zone=a")
        #expect(usageError(["register", "/svc", "10.0.0.5"])?.message.contains("is not HOST:PORT") == true)
        #expect(usageError(["register", "/svc", "h:99999"])?.message.contains("is not HOST:PORT") == true)
        #expect(usageError(["register", "/svc", "a/b:1"]) != nil)

        let discover = try parse(["discover", "--pick", "round-robin", "-w", "/svc"], as: DiscoverCommand.self)
        #expect(discover.pick == .roundRobin && discover.watch)
        #expect(usageError(["discover", "--pick", "first", "/svc"]) != nil)

        let mntr = try parse(["mntr", "-k", "znode_count,zk_watch_count", "-k", "last_zxid", "--wait", "1"], as: MntrCommand.self)
        #expect(mntr.selectedKeys == ["zk_znode_count", "zk_watch_count", "zk_last_zxid"])
        #expect(mntr.ensemble.wait == 1)
        #expect(try parse(["mntr"], as: MntrCommand.self).selectedKeys == MntrCommand.defaultKeys)
        #expect(usageError(["srvr", "--wait", "0"]) != nil)
        #expect(try parse(["leader", "-q", "--json"], as: LeaderCommand.self).quiet)
    }

    @Test func roundRobinRotates() {
        let path = "/rr-\(UUID().uuidString)"
        let picks = (0..<4).compactMap { _ in DiscoverCommand.choose(["a", "b", "c"], .roundRobin, path: path) }
        #expect(picks == ["a", "b", "c", "a"])
        #expect(DiscoverCommand.choose([], .random, path: path) == nil)
        #expect(["a", "b"].contains(DiscoverCommand.choose(["a", "b"], .random, path: path) ?? ""))
    }

    @Test func healthCommandsShowDownMembersAndFail() async throws {
        // Nothing listens on ports 1 and 2: every member is down, the table still shows them, status 1.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let output = BufferOutputWriter()
        let context = ShellContext(options: .init(connectString: "127.0.0.1:1,127.0.0.1:2"), output: output, eventLoopGroup: group)
        let runner = ShellRunner(context: context, handlesInterrupts: false)
        #expect(await runner.execute(["ruok"]) == .failure)
        #expect(output.outputText == """
            MEMBER       STATUS  REPLY
            127.0.0.1:1  down    connection refused
            127.0.0.1:2  down    connection refused

            """)
        #expect(output.errorText == "zksh: no member answered\n")
        output.reset()
        #expect(await runner.execute(["leader", "--json"]) == .failure)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.outputText.utf8)) as? [String: Any])
        #expect(document["leader"] is NSNull)
        #expect((document["members"] as? [[String: Any]])?.map { $0["status"] as? String } == ["down", "down"])
        output.reset()
        #expect(await runner.execute(["envi"]) == .failure)
        #expect(output.outputText == "== 127.0.0.1:1 (down: connection refused) ==\n== 127.0.0.1:2 (down: connection refused) ==\n")
        try await group.shutdownGracefully()
    }
}

// MARK: Manual page and completion scripts

@Suite("Docs: the manual page and completion scripts match the declarations")
struct DocsAndCompletionTests {
    static let root = repositoryRoot()

    @Test func everyCommandHasItsHelpTextInThePage() throws {
        let page = ManualPage.render(root: ManualStandIn.self)
        for type in CommandRegistry.standard.commands {
            let text = ManualPage.helpText(ofCommand: type.name, inPage: page)
            #expect(text == ManualPage.helpText(type), "section of \(type.name)")
        }
        #expect(page.contains(".SH ENVIRONMENT") && page.contains(".B ZKSH_SERVER") && page.contains(".B NO_COLOR"))
        #expect(page.contains(".B EDITOR") && page.contains(".B HOME") && page.contains(".I ~/.zksh_history"))
        #expect(page.contains(".SH EXIT STATUS"))
        // Roff escapes round-trip.
        #expect(ManualPage.unescape(ManualPage.escape(".x -y \\z")) == ".x -y \\z")
        #expect(ManualPage.escape("'quoted") == "\\&'quoted")
    }

    @Test func committedManualPageIsCurrent() async throws {
        let generated = try await runZksh(["--generate-manual"])
        let committed = try String(contentsOfFile: Self.root + "/man/zksh.1", encoding: .utf8)
        #expect(generated == committed, "man/zksh.1 is out of date: regenerate it with 'swift run zksh --generate-manual > man/zksh.1'")
        // The root command's flags are all documented.
        for flag in ["\\-\\-server", "\\-\\-command", "\\-\\-json", "\\-\\-verbose", "\\-\\-keep\\-going", "\\-\\-timeout",
                     "\\-\\-auth", "\\-\\-session\\-timeout", "\\-\\-generate\\-completion\\-script"] {
            #expect(committed.contains("\\fB\(flag)\\fR"), "\(flag)")
        }
        #expect(committed.contains(".SH ZKSH SERVE"))
        // The page's sections of the shell's commands are the in-memory rendering.
        for type in CommandRegistry.standard.commands {
            #expect(committed.contains(ManualPage.commandSection(type, registry: .standard)), "section of \(type.name)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func committedCompletionScriptIsCurrent(shell: String) async throws {
        let generated = try await runZksh(["--generate-completion-script", shell])
        #expect(generated.contains("session-timeout"))
        let committed = try String(contentsOfFile: Self.root + "/completions/zksh.\(shell)", encoding: .utf8)
        #expect(generated == committed,
                "completions/zksh.\(shell) is out of date: regenerate it with 'swift run zksh --generate-completion-script \(shell) > completions/zksh.\(shell)'")
    }

    @Test func helpInTheShellShowsTheManualText() async throws {
        let page = try String(contentsOfFile: Self.root + "/man/zksh.1", encoding: .utf8)
        for name in ["lock", "leader", "discover", "mntr", "ls"] {
            let help = try await runZksh(["-s", "127.0.0.1:1", "-c", "help \(name)"], environment: ["COLUMNS": "\(ManualPage.helpColumns)"])
            let manual = try #require(ManualPage.helpText(ofCommand: name, inPage: page))
            // `help` ends the text with an empty line; the page's block ends with the last line.
            #expect(help.hasSuffix("\n\n") && help.dropLast() == manual, "help \(name)")
        }
    }

    // MARK: Helpers

    /// Runs the built `zksh` (next to this test executable) and returns its standard output.
    func runZksh(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let executable = try #require(Self.builtZksh(), "the zksh executable was not found next to the tests; build it first (swift build)")
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    var variables = ProcessInfo.processInfo.environment
                    variables["COLUMNS"] = nil
                    variables.merge(environment) { _, new in new }
                    process.environment = variables
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = FileHandle.nullDevice
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else {
                        throw ShellError("zksh \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
                    }
                    return String(decoding: data, as: UTF8.self)
                })
            }.start()
        }
    }

    static func builtZksh() -> String? {
        var directories: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["ZKSH_BUILT_PRODUCTS_DIR"] { directories.append(explicit) }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append((exe as NSString).deletingLastPathComponent)
        }
        if let argument = CommandLine.arguments.first, argument.contains("/") {
            directories.append((URL(fileURLWithPath: argument).standardizedFileURL.path as NSString).deletingLastPathComponent)
        }
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent().path) }
        var candidates: [String] = []
        for directory in directories {
            var current = directory
            for _ in 0...4 {
                candidates.append(current + "/zksh")
                current = (current as NSString).deletingLastPathComponent
            }
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func repositoryRoot(file: String = #filePath) -> String {
        var directory = (file as NSString).deletingLastPathComponent
        while directory != "/" {
            if FileManager.default.fileExists(atPath: directory + "/Package.swift") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return FileManager.default.currentDirectoryPath
    }
}

/// A root command for rendering the page in memory (the real one lives in the executable).
private struct ManualStandIn: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "zksh", abstract: "A shell for ZooKeeper.")
}
