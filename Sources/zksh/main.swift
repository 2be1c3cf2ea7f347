import ArgumentParser
import Foundation
import LineEditor
import Logging
import NIOPosix
import ZKShellCommands
import ZooKeeperServer

/// `zksh`: a shell for ZooKeeper. Parses the command line, owns the event loop group, and hands
/// over to `ShellRunner` for the interactive shell, a script, or one command.
struct Zksh: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zksh",
        abstract: "A shell for ZooKeeper.",
        discussion: """
            Without a command, reads commands from standard input when it is not a terminal, and \
            otherwise starts the interactive shell (history in ~/.zksh_history, Tab completion \
            of commands, flags and znode paths).

            In scripts, the first failing command stops the script (unless --keep-going). \
            With --keep-going, commands that send one request (create, delete, set, get, stat, \
            exists, ls, sync, getAcl) are pipelined: each is sent without waiting for the reply \
            to the one before; output stays in script order. \
            Exit status: 0 success, 1 a command failed, 2 usage error, 130 interrupted.

            Examples:
              zksh -s zk1:2181,zk2:2181
              zksh -s 127.0.0.1:2181 ls /
              zksh -c 'create /x hi; get /x'
              zksh -s 127.0.0.1:2281 --tls-ca ca.pem --tls-cert client.pem --tls-key client-key.pem
              zksh --sasl bob:secret -s 127.0.0.1:2181
              zksh --json get /app/config
              zksh --ensemble 3
              echo 'ls /' | zksh
            """)

    @Option(name: [.short, .customLong("server")],
            help: ArgumentHelp("Servers as host:port[,host:port…][/chroot] (default: $ZKSH_SERVER, else 127.0.0.1:2181).", valueName: "hosts"))
    var server: String?

    @Option(name: [.short, .customLong("command")], help: ArgumentHelp("Run these commands (separated by ';' or newlines) and exit.", valueName: "script"))
    var command: String?

    @Flag(help: "Print each result as one JSON document.")
    var json = false

    @Flag(name: [.short, .long], help: "Report connection changes on standard error.")
    var verbose = false

    @Flag(name: .customLong("keep-going"), help: "In scripts, run the remaining commands after a failure (exit status 1 at the end), pipelining single-request commands.")
    var keepGoing = false

    @Option(help: ArgumentHelp("Seconds to wait for a connection.", valueName: "seconds"))
    var timeout: Double = 10

    @OptionGroup var authentication: AuthOptions

    @OptionGroup var colors: ColorOptions

    @OptionGroup var tls: TLSOptions

    @Option(name: .customLong("session-timeout"), help: ArgumentHelp("Session timeout in seconds to ask for.", valueName: "seconds"))
    var sessionTimeout: Double = 30

    @Option(name: .customLong("ensemble"), help: ArgumentHelp("Start a local ensemble of N zksh serve members (odd, 1 to 9) on loopback and connect to it; the members stop when the shell ends.", valueName: "N"))
    var ensembleSize: Int?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("With --ensemble: keep the members' directories in this directory (kept, and reused when it holds an ensemble).", valueName: "dir"), completion: .directory)
    var dataDirectory: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("One command to run instead of the shell (zksh ls -R /app).", valueName: "command"))
    var words: [String] = []

    func validate() throws {
        if command != nil && !words.isEmpty { throw ValidationError("give either -c SCRIPT or a command, not both") }
        if !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if !(sessionTimeout > 0) { throw ValidationError("--session-timeout must be a positive number of seconds") }
        if let ensembleSize {
            if !LocalEnsembleLayout.isValidSize(ensembleSize) {
                throw ValidationError("--ensemble: the number of members must be odd, from 1 to 9 (not \(ensembleSize))")
            }
            if server != nil { throw ValidationError("give either --server or --ensemble, not both") }
        } else if dataDirectory != nil {
            throw ValidationError("--data-dir is for --ensemble")
        }
    }

    /// Runs the shell in the chosen mode and returns the process's exit status.
    func start() async -> ExitStatus {
        let environment = ProcessInfo.processInfo.environment
        var options = ShellContext.Options(connectString: server ?? environment["ZKSH_SERVER"] ?? "127.0.0.1:2181")
        options.json = json
        options.verbose = verbose
        options.connectTimeout = .milliseconds(Int64(timeout * 1000))
        options.sessionTimeout = .milliseconds(Int64(sessionTimeout * 1000))
        options.credentials = authentication.credentials
        options.color = colors.mode
        options.sasl = authentication.saslCredential
        options.tls = tls.clientOptions

        if words == ["--help"] || words == ["-h"] {
            // The passthrough argument swallows a lone --help.
            print(Self.helpMessage())
            return .success
        }
        let commandWords = words.first == "--" ? Array(words.dropFirst()) : words
        let stdinIsTerminal = LineEditor.isTerminal(STDIN_FILENO)
        let scriptFromStandardInput = command == nil && commandWords.isEmpty && !stdinIsTerminal

        var logger = Logger(label: "zksh", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .debug : .error

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let context = ShellContext(
            options: options, output: StandardOutputWriter(),
            standardInput: .process(isScriptSource: scriptFromStandardInput),
            eventLoopGroup: group, logger: logger)
        let runner = ShellRunner(context: context)

        if let ensembleSize {
            // The interactive shell shows the members starting and the election; scripts keep
            // standard output for their results (with -v the progress goes to standard error).
            let interactive = command == nil && commandWords.isEmpty && !scriptFromStandardInput
            let progress: (@Sendable (String) -> Void)?
            if interactive {
                progress = { line in context.print(line) }
            } else if verbose {
                progress = { line in context.output.writeError(Array((line + "\n").utf8)) }
            } else {
                progress = nil
            }
            let started = await runner.startLocalEnsemble(size: ensembleSize, dataDirectory: dataDirectory, progress: progress)
            if started != .success {
                await Self.stop(context)
                try? await group.shutdownGracefully()
                return started
            }
        }

        let status: ExitStatus
        if let command {
            status = await runner.runScript(command, keepGoing: keepGoing)
        } else if !commandWords.isEmpty {
            status = await runner.runCommand(commandWords)
        } else if scriptFromStandardInput {
            status = await runner.runScriptFromStandardInput(keepGoing: keepGoing)
        } else {
            let home = environment["HOME"].map { $0.hasSuffix("/") ? $0 : $0 + "/" }
            let editor = LineEditor(programName: "zksh", historyFile: home.map { $0 + ".zksh_history" })
            status = await runner.runInteractive(editor: editor)
            editor.close()
        }

        await Self.stop(context)
        try? await group.shutdownGracefully()
        return status
    }

    /// Closes the session, then stops the local ensemble the shell started, if any.
    static func stop(_ context: ShellContext) async {
        await closeSession(context)
        if let ensemble = context.localEnsemble {
            context.localEnsemble = nil
            await ensemble.shutdown()
        }
    }

    /// Closes the session (so its ephemeral nodes go at once), waiting at most two seconds.
    static func closeSession(_ context: ShellContext) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await context.disconnect() }
            group.addTask { try? await Task.sleep(for: .seconds(2)) }
            await group.next()
            group.cancelAll()
        }
    }
}

// `zksh serve …` runs the server; everything else is the shell.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "serve" {
    ServeCommand.main(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

// `zksh --generate-manual` prints man/zksh.1, generated from the declarations.
if CommandLine.arguments.dropFirst() == ["--generate-manual"] {
    print(ManualPage.render(root: Zksh.self, programCommands: [ServeCommand.self]), terminator: "")
    exit(0)
}

let zksh: Zksh
do {
    zksh = try Zksh.parse()
} catch {
    // --help exits 0 as ArgumentParser does; every usage error exits 2, like the shell's own.
    if Zksh.exitCode(for: error) == .success { Zksh.exit(withError: error) }
    FileHandle.standardError.write(Data((Zksh.fullMessage(for: error) + "\n").utf8))
    exit(ExitStatus.usage.rawValue)
}
exit(await zksh.start().rawValue)
