import Foundation
import LineEditor
import NIOPosix
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

@Suite("Style")
struct StyleTests {
    @Test func resolution() {
        #expect(Style.resolve(.auto, isTerminal: true, environment: [:]).isEnabled)
        #expect(!Style.resolve(.auto, isTerminal: false, environment: [:]).isEnabled)
        #expect(!Style.resolve(.auto, isTerminal: true, environment: ["NO_COLOR": ""]).isEnabled)
        #expect(!Style.resolve(.auto, isTerminal: true, environment: ["NO_COLOR": "1"]).isEnabled)
        #expect(Style.resolve(.always, isTerminal: false, environment: ["NO_COLOR": "1"]).isEnabled)
        #expect(!Style.resolve(.never, isTerminal: true, environment: [:]).isEnabled)
    }

    @Test func colorOptions() throws {
        #expect(try ColorOptions.parse([]).mode == .auto)
        #expect(try ColorOptions.parse(["--color", "always"]).mode == .always)
        #expect(try ColorOptions.parse(["--no-color"]).mode == .never)
        #expect(try ColorOptions.parse(["--color", "always", "--no-color"]).mode == .never)
        #expect(throws: (any Error).self) { try ColorOptions.parse(["--color", "sometimes"]) }
    }

    @Test func painting() {
        #expect(Style.plain.paint("x", .error) == "x")
        #expect(Style.colored.paint("zksh:", .error) == "\u{1B}[1;31mzksh:\u{1B}[0m")
        #expect(Style.colored.paint("", .error) == "")
        #expect(Style.role(of: SessionState.connected) == .stateGood)
        #expect(Style.role(of: SessionState.disconnected) == .stateTransient)
        #expect(Style.role(of: SessionState.connecting) == .stateTransient)
        #expect(Style.role(of: SessionState.expired) == .stateEnded)
        #expect(Style.role(of: nil as SessionState?) == .stateEnded)
        #expect(Style.role(of: Stat(ephemeralOwner: 7)) == .ephemeralNode)
        #expect(Style.role(of: Stat(numChildren: 2)) == .nodeWithChildren)
        #expect(Style.role(of: Stat()) == nil)
        #expect(Style.role(of: EventType.nodeDeleted) == .eventDeleted)
    }

    @Test func contextColoursOnlyATerminal() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let terminal = BufferOutputWriter(outputIsTerminal: true)
        let coloured = ShellContext(options: .init(connectString: "127.0.0.1:1"), output: terminal, eventLoopGroup: group, environment: [:])
        coloured.printError("boom")
        #expect(terminal.errorText == "\u{1B}[1;31mzksh:\u{1B}[0m boom\n")
        #expect(coloured.prompt.contains("\u{1B}[31mCLOSED\u{1B}[0m"))

        let noColor = BufferOutputWriter(outputIsTerminal: true)
        let plain = ShellContext(options: .init(connectString: "127.0.0.1:1"), output: noColor, eventLoopGroup: group, environment: ["NO_COLOR": "1"])
        plain.printError("boom")
        #expect(noColor.errorText == "zksh: boom\n")
        #expect(plain.prompt == "[zk: 127.0.0.1:1(CLOSED) /] ")

        var always = ShellContext.Options(connectString: "127.0.0.1:1")
        always.color = .always
        let pipe = BufferOutputWriter(outputIsTerminal: false)
        #expect(ShellContext(options: always, output: pipe, eventLoopGroup: group, environment: [:]).style.isEnabled)
        #expect(!ShellContext(options: .init(connectString: "127.0.0.1:1"), output: pipe, eventLoopGroup: group, environment: [:]).style.isEnabled)
    }

    @Test func rawDataIsUnchangedEvenOnATerminal() {
        let binary: [UInt8] = [0x00, 0xFF, 0x1B, 0x41]
        #expect(DataRenderer.render(binary, format: .raw, toTerminal: true) == binary)
        #expect(DataRenderer.render(Array("text".utf8), format: .raw, toTerminal: true) == Array("text".utf8))
        #expect(DataRenderer.render(binary, format: .automatic, toTerminal: true) != binary)
    }
}

@Suite("File completion")
struct FileCompletionTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-files-\(UUID().uuidString.prefix(8))")
        let manager = FileManager.default
        try manager.createDirectory(at: directory.appendingPathComponent("backups"), withIntermediateDirectories: true)
        try manager.createDirectory(at: directory.appendingPathComponent(".hidden"), withIntermediateDirectories: true)
        for name in ["app.json", "app.txt", "my tree.json", "backups/old.json"] {
            manager.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data("{}".utf8))
        }
    }

    func completer() -> ShellCompleter {
        ShellCompleter(
            registry: .standard, currentDirectory: { "/" },
            fetchChildren: { path in path == "/" ? ["app", "zookeeper"] : [] },
            fetchChildCounts: { paths in Dictionary(uniqueKeysWithValues: paths.map { ($0, $0 == "/zookeeper" ? 1 : 0) }) },
            homeDirectory: directory.path)
    }

    @Test func kindsComeFromTheDeclarations() {
        let registry = CommandRegistry.standard
        #expect(registry.arguments(of: ExportCommand.self).positionalKinds == [.node, .file])
        #expect(registry.arguments(of: ImportCommand.self).positionalKinds == [.file, .node])
        #expect(registry.arguments(of: CpCommand.self).positionalKinds == [.nodeOrFile(extensions: ["json"]), .nodeOrFile(extensions: ["json"])])
        #expect(registry.arguments(of: EditCommand.self).positionalKinds == [.node])
        #expect(registry.arguments(of: SetCommand.self).positionalKinds == [.node, .other])
    }

    @Test func filesForExportAndImport() async {
        let base = directory.path
        let completer = completer()
        #expect(await completer.complete(line: "export /app \(base)/a", cursor: ("export /app \(base)/a").count).candidates
            == ["\(base)/app.json", "\(base)/app.txt"])
        #expect(await completer.complete(line: "export /app \(base)/b", cursor: ("export /app \(base)/b").count).candidates == ["\(base)/backups/"])
        #expect(await completer.complete(line: "import \(base)/my", cursor: ("import \(base)/my").count).candidates == ["\(base)/my\\ tree.json"])
        // Hidden entries only once a dot is typed.
        #expect(await completer.complete(line: "import \(base)/", cursor: ("import \(base)/").count).candidates
            == ["\(base)/app.json", "\(base)/app.txt", "\(base)/backups/", "\(base)/my\\ tree.json"])
        #expect(await completer.complete(line: "import \(base)/.h", cursor: ("import \(base)/.h").count).candidates == ["\(base)/.hidden/"])
        // The node argument still completes znodes.
        #expect(await completer.complete(line: "import x.json /zo", cursor: 17).candidates == ["/zookeeper/"])
    }

    @Test func tildeIsExpanded() async {
        let base = directory.path
        let completer = completer()
        #expect(await completer.complete(line: "export /app ~/ba", cursor: 16).candidates == ["\(base)/backups/"])
        // Mid-line: text after the cursor stays out of the word.
        let completion = await completer.complete(line: "import ~/backups/o /x", cursor: 18)
        #expect(completion == LineEditor.Completion(replaceFrom: 7, candidates: ["\(base)/backups/old.json"]))
    }

    @Test func copyArgumentsAreNodesOrJSONFiles() async {
        let base = directory.path
        let completer = completer()
        #expect(await completer.complete(line: "cp /ap", cursor: 6).candidates == ["/app"])
        #expect(await completer.complete(line: "cp /app zk://h:1/", cursor: 17).candidates.isEmpty)
        // Only JSON files (and directories) for a file-looking word.
        #expect(await completer.complete(line: "cp /app ~/a", cursor: 11).candidates == ["\(base)/app.json"])
    }
}
