import Foundation
import NIOPosix
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

/// A shell over buffers, with no server: commands that need a session fail with "not connected".
final class OfflineShell: Sendable {
    let output: BufferOutputWriter
    let context: ShellContext
    let runner: ShellRunner
    let group: MultiThreadedEventLoopGroup

    init(json: Bool = false, terminal: Bool = false, standardInput: ShellContext.StandardInput = .none) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        output = BufferOutputWriter(outputIsTerminal: terminal)
        var options = ShellContext.Options(connectString: "127.0.0.1:2181")
        options.json = json
        options.timeZone = TimeZone(identifier: "UTC")!
        context = ShellContext(options: options, output: output, standardInput: standardInput, eventLoopGroup: group)
        runner = ShellRunner(context: context, handlesInterrupts: false)
        try await context.disconnect()  // no lazy connect in tests
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}

@Suite("Shell runner and context")
struct ShellRunnerTests {
    @Test func pathResolution() async throws {
        let shell = try await OfflineShell()
        let context = shell.context
        #expect(context.currentDirectory == "/")
        #expect(context.resolve(nil) == "/")
        #expect(context.resolve("a") == "/a")
        context.setCurrentDirectory("/a/b")
        #expect(context.resolve(nil) == "/a/b")
        #expect(context.resolve(".") == "/a/b")
        #expect(context.resolve("..") == "/a")
        #expect(context.resolve("../c") == "/a/c")
        #expect(context.resolve("./d/") == "/a/b/d")
        #expect(context.resolve("../../../..") == "/")
        #expect(context.resolve("/x/y") == "/x/y")
        #expect(context.resolve("/x/../y") == "/y")
        #expect(context.prompt == "[zk: 127.0.0.1:2181(CLOSED) /a/b] ")
        try await shell.shutdown()
    }

    @Test func pwdAndJSON() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["pwd"]) == .success)
        #expect(await shell.runner.execute(["pwd", "--json"]) == .success)
        #expect(shell.output.outputText == "/\n{\"path\":\"/\"}\n")
        #expect(shell.output.errorText == "")
        try await shell.shutdown()

        let json = try await OfflineShell(json: true)
        #expect(await json.runner.execute(["pwd"]) == .success)
        #expect(json.output.outputText == "{\"path\":\"/\"}\n")
        try await json.shutdown()
    }

    @Test func usageErrorsPrintUsageThenMessage() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["ls", "-q"]) == .usage)
        #expect(shell.output.outputText == "")
        let lines = shell.output.errorText.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Usage: ls") == true)
        #expect(lines.last == "zksh: Unknown option '-q'")

        shell.output.reset()
        #expect(await shell.runner.execute(["nope"]) == .usage)
        #expect(shell.output.errorText == "zksh: unknown command 'nope' (type 'help' for a list)\n")
        try await shell.shutdown()
    }

    @Test func failuresPrintTheErrorDescription() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["ls", "/"]) == .failure)
        #expect(shell.output.errorText == "zksh: not connected (use 'connect [HOSTS]')\n")

        shell.output.reset()
        shell.runner.report(ZooKeeperError(.noNode, path: "/a/b"))
        #expect(shell.output.errorText == "zksh: /a/b: node does not exist (NONODE)\n")

        shell.output.reset()
        shell.runner.report(ShellError.silent)
        #expect(shell.output.errorText == "")
        try await shell.shutdown()
    }

    @Test func helpCommand() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["help"]) == .success)
        #expect(shell.output.outputText.hasPrefix("Commands (type 'help COMMAND'"))
        shell.output.reset()
        #expect(await shell.runner.execute(["help", "deleteall"]) == .success)
        #expect(shell.output.outputText.contains("USAGE: deleteall"))
        shell.output.reset()
        #expect(await shell.runner.execute(["help", "bogus"]) == .usage)
        #expect(shell.output.errorText == "zksh: unknown command 'bogus' (type 'help' for a list)\n")
        shell.output.reset()
        #expect(await shell.runner.execute(["create", "--help"]) == .success)
        #expect(shell.output.outputText.contains("USAGE: create"))
        try await shell.shutdown()
    }

    @Test func scriptsStopAtTheFirstFailure() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.runScript("pwd; ls /; pwd", keepGoing: false) == .failure)
        #expect(shell.output.outputText == "/\n")

        shell.output.reset()
        #expect(await shell.runner.runScript("pwd; ls /; pwd", keepGoing: true) == .failure)
        #expect(shell.output.outputText == "/\n/\n")

        shell.output.reset()
        #expect(await shell.runner.runScript("pwd; bogus; ls /; pwd", keepGoing: true) == .usage)
        #expect(shell.output.outputText == "/\n/\n")

        shell.output.reset()
        #expect(await shell.runner.runScript("pwd; get 'x", keepGoing: true) == .usage)
        #expect(shell.output.outputText == "")
        #expect(shell.output.errorText == "zksh: unterminated ' quote\n")

        shell.output.reset()
        #expect(await shell.runner.runScript("# only a comment\n", keepGoing: false) == .success)
        try await shell.shutdown()
    }

    @Test func quitEndsTheScript() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.runScript("pwd; quit; pwd", keepGoing: false) == .success)
        #expect(shell.output.outputText == "/\n")
        #expect(shell.context.exitRequested)
        try await shell.shutdown()
    }

    @Test func cdToRootNeedsNoServer() async throws {
        let shell = try await OfflineShell()
        shell.context.setCurrentDirectory("/a")
        #expect(await shell.runner.execute(["cd"]) == .success)
        #expect(shell.context.currentDirectory == "/")
        #expect(await shell.runner.execute(["cd", "/a"]) == .failure)
        #expect(shell.context.currentDirectory == "/")
        try await shell.shutdown()
    }

    @Test func historyIsNumbered() async throws {
        let shell = try await OfflineShell()
        for line in ["ls /", "get /a", "pwd"] { shell.context.appendHistory(line) }
        #expect(await shell.runner.execute(["history"]) == .success)
        #expect(shell.output.outputText == "  1  ls /\n  2  get /a\n  3  pwd\n")
        shell.output.reset()
        #expect(await shell.runner.execute(["history", "1"]) == .success)
        #expect(shell.output.outputText == "  3  pwd\n")
        shell.output.reset()
        #expect(await shell.runner.execute(["history", "--json"]) == .success)
        #expect(shell.output.outputText == #"{"history":["ls /","get /a","pwd"]}"# + "\n")
        try await shell.shutdown()
    }

    @Test func setReadsDataFromStandardInputOnlyWhenPiped() async throws {
        let piped = try await OfflineShell(standardInput: .init(isTerminal: false, isScriptSource: false) { [1, 2, 3] })
        #expect(try await piped.context.readDataFromStandardInput() == [1, 2, 3])
        try await piped.shutdown()

        let script = try await OfflineShell(standardInput: .init(isTerminal: false, isScriptSource: true) { [] })
        #expect(await script.runner.execute(["set", "/a"]) == .usage)
        #expect(script.output.errorText == "zksh: DATA is required when the script is read from standard input\n")
        try await script.shutdown()

        let terminal = try await OfflineShell(standardInput: .none)
        #expect(await terminal.runner.execute(["set", "/a"]) == .usage)
        #expect(terminal.output.errorText.hasPrefix("zksh: missing DATA"))
        try await terminal.shutdown()
    }

    @Test func deleteallRefusesTheRoot() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["deleteall", "/"]) == .failure)
        #expect(shell.output.errorText == "zksh: refusing to delete the root node /\n")
        try await shell.shutdown()
    }
}
