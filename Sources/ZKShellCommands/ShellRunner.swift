import Dispatch
import Foundation
import LineEditor
import ZooKeeperClient

/// Runs commands: one at a time, from words, a script, standard input, or the line editor.
///
/// Each command runs in a task of its own. Ctrl-C (SIGINT, caught with a dispatch source while
/// the shell runs) cancels that task: the interactive shell returns to the prompt, a script
/// stops with status 130. Errors are printed as `zksh: <description>` on standard error.
public final class ShellRunner: Sendable {
    public let context: ShellContext
    private let interrupts = InterruptRelay()
    /// Reads blocking input (the terminal, standard input) off the cooperative thread pool.
    private let inputQueue = DispatchQueue(label: "zksh.input")

    private let handlesInterrupts: Bool

    /// - Parameter handlesInterrupts: whether to take over SIGINT (ignore it and watch for it
    ///   with a dispatch source); false leaves the process's signal handling alone (tests).
    public init(context: ShellContext, handlesInterrupts: Bool = true) {
        self.context = context
        self.handlesInterrupts = handlesInterrupts
    }

    // MARK: Running commands

    /// Parses and runs one command given as words (`["ls", "-s", "/"]`), printing any error.
    public func execute(_ words: [String]) async -> ExitStatus {
        await execute(parsed: parse(words))
    }

    /// Parses words as ``execute(_:)`` does.
    func parse(_ words: [String]) -> Result<CommandRegistry.Parsed, UsageError> {
        Self.parse(words, registry: context.registry)
    }

    static func parse(_ words: [String], registry: CommandRegistry) -> Result<CommandRegistry.Parsed, UsageError> {
        do {
            return .success(try registry.parse(words))
        } catch {
            return .failure(error)
        }
    }

    /// Runs what ``parse(_:)`` made of a line: the command, its help, or the usage error.
    func execute(parsed result: Result<CommandRegistry.Parsed, UsageError>) async -> ExitStatus {
        let parsed: CommandRegistry.Parsed
        switch result {
        case .success(let value):
            parsed = value
        case .failure(let error):
            report(error)
            return .usage
        }
        switch parsed {
        case .help(let text):
            context.write(Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
            return .success
        case .command(let command):
            return await run(command)
        }
    }

    /// Runs a parsed command in its own task, which Ctrl-C cancels.
    public func run(_ command: any ShellCommand) async -> ExitStatus {
        await run { context in try await command.run(in: context) }
    }

    /// Starts a local ensemble of `size` members and connects to it, before the shell reads
    /// any command (`zksh --ensemble N`); like a command, Ctrl-C stops it and errors are
    /// printed. The ensemble is then ``ShellContext/localEnsemble``, which the caller stops
    /// when the shell ends.
    ///
    /// - Parameters:
    ///   - dataDirectory: where to keep the members' directories (nil: a temporary directory).
    ///   - timeout: how long the members may take to elect a leader.
    ///   - progress: where the lines reporting each member's start and the election go; nil
    ///     for none.
    public func startLocalEnsemble(size: Int, dataDirectory: String?, timeout: Duration = .seconds(60),
                                   progress: (@Sendable (String) -> Void)?) async -> ExitStatus {
        if handlesInterrupts { interrupts.install {} }
        return await run { context in
            let events = EventOutput(context: context, json: false, action: "start", lines: progress)
            try await EnsembleCommand.startLocalEnsemble(size: size, dataDirectory: dataDirectory, timeout: timeout,
                                                         context: context, events: events)
        }
    }

    /// Runs an operation as a command: in its own task, which Ctrl-C cancels; errors printed.
    private func run(_ operation: @escaping @Sendable (ShellContext) async throws -> Void) async -> ExitStatus {
        let context = self.context
        let interrupted = Flag()
        let (signals, signalContinuation) = AsyncStream<Void>.makeStream()
        let task = Task { try await operation(context) }
        let isInteractive = context.lineEditor != nil
        interrupts.setHandler {
            // The terminal echoed ^C: end that line before anything else is printed.
            if isInteractive && !interrupted.isSet { context.output.writeError("\n") }
            interrupted.set()
            task.cancel()
            signalContinuation.yield()
        }
        defer {
            interrupts.setHandler(nil)
            signalContinuation.finish()
        }
        let result: Result<Void, any Error>? = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask { await task.result }
            group.addTask {
                // After Ctrl-C give the command a moment to stop, then return to the prompt
                // even if a request is still pending (it completes or fails in the background).
                for await _ in signals {
                    try? await Task.sleep(for: .seconds(1))
                    return nil
                }
                return .success(())
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if interrupted.isSet {
            switch result {
            case .failure(let error)? where !(error is CancellationError):
                report(error)
            case .failure?, nil:
                context.printError("interrupted")
            case .success?:
                break  // The command stopped cleanly (watch).
            }
            return .interrupted
        }
        switch result {
        case .success?, nil:
            return .success
        case .failure(let error)?:
            report(error)
            return ExitStatus(for: error)
        }
    }

    /// Prints an error the way the shell reports failures.
    public func report(_ error: any Error) {
        report(error, in: context)
    }

    /// Prints an error to `context`'s output the way the shell reports failures.
    func report(_ error: any Error, in context: ShellContext) {
        switch error {
        case let error as UsageError:
            if !error.usage.isEmpty {
                context.output.writeError(error.usage.hasSuffix("\n") ? error.usage : error.usage + "\n")
            }
            context.printError(error.message)
        case let error as ShellError:
            if !error.message.isEmpty { context.printError(error.message) }
        case let error as ZooKeeperError:
            context.printError(error.description)
        case let error as TransactionError:
            context.printError(error.description)
        case is CancellationError:
            context.printError("interrupted")
        default:
            context.printError("\(error)")
        }
    }

    // MARK: Scripts

    /// Runs one command given on the command line (`zksh ls /`); Ctrl-C stops it with status 130.
    public func runCommand(_ words: [String]) async -> ExitStatus {
        installScriptInterruptHandling()
        return await execute(words)
    }

    /// Runs a script (`-c 'ls /; get /a'`): stops at the first failure unless `keepGoing`.
    ///
    /// - Returns: success, or the status of the failure that stopped the script; with
    ///   `keepGoing`, the worst status of all commands. A syntax error runs nothing (status 2).
    public func runScript(_ script: String, keepGoing: Bool) async -> ExitStatus {
        let commands: [[String]]
        do {
            commands = try ShellTokenizer.commands(in: script)
        } catch {
            report(UsageError(message: error.description))
            return .usage
        }
        installScriptInterruptHandling()
        var worst = ExitStatus.success
        var block: TransactionBlock?  // an open `txn` block collects the commands up to `commit`
        let pipeline = keepGoing ? ScriptPipeline(runner: self) : nil
        for words in commands {
            context.appendHistory(ShellTokenizer.line(words))  // for `history` and `redo`
            guard let status = await feedTransactionBlock(&block, words, pipeline: pipeline) else { continue }
            worst = max(worst, status)
            if status == .interrupted || (status != .success && !keepGoing) || context.exitRequested { break }
        }
        if let pipeline { worst = max(worst, await pipeline.drain()) }
        if block != nil {
            report(TransactionBlock.unterminated)
            worst = max(worst, .usage)
        }
        return worst
    }

    /// Runs a `txn` block's commands: nil while a block collects `words` (or `words` opens
    /// one), else the status of `words` run as usual, or of the committed or aborted block.
    private func feedTransactionBlock(_ block: inout TransactionBlock?, _ words: [String],
                                      parsed: Result<CommandRegistry.Parsed, UsageError>? = nil,
                                      pipeline: ScriptPipeline? = nil) async -> ExitStatus? {
        if var open = block {
            switch open.add(words) {
            case .collecting:
                block = open
                return nil
            case .commit(let transaction):
                block = nil
                if let pipeline { return await pipeline.runAlone(transaction) }
                return await execute(transaction)
            case .abort:
                block = nil
                let drained = await pipeline?.drain() ?? .success
                context.print(TransactionBlock.abortedMessage)
                return drained
            }
        }
        if let opened = TransactionBlock(opening: words) {
            block = opened
            return nil
        }
        let parsed = parsed ?? parse(words)
        if let pipeline { return await pipeline.run(parsed: parsed) }
        return await execute(parsed: parsed)
    }

    /// Runs a script read from standard input line by line, each complete command as soon as
    /// its line arrives (a quoted word or a trailing backslash continues on the next line).
    public func runScriptFromStandardInput(keepGoing: Bool) async -> ExitStatus {
        installScriptInterruptHandling()
        var worst = ExitStatus.success
        var pending = ""
        var block: TransactionBlock?
        let pipeline = keepGoing ? ScriptPipeline(runner: self) : nil
        let input = InputLines(descriptor: STDIN_FILENO)
        while true {
            let lines = await onInputQueue { input.next() }
            guard !lines.isEmpty else { break }
            var commands: [[String]] = []
            for line in lines {
                pending += line
                let scan = ShellTokenizer.scan(pending)
                if !scan.isComplete || Self.endsWithContinuation(pending) { continue }
                pending = ""
                for command in scan.commands { commands.append(command.map(\.text)) }
            }
            // Parsing a line costs about as much as its round trip: the lines already read are
            // parsed on another thread while the ones before them run.
            var ahead = ParseAhead(commands, registry: context.registry)
            defer { ahead.cancel() }
            for words in commands {
                let parsed = await ahead.next()
                context.appendHistory(ShellTokenizer.line(words))  // for `history` and `redo`
                guard let status = await feedTransactionBlock(&block, words, parsed: parsed, pipeline: pipeline) else { continue }
                worst = max(worst, status)
                if status == .interrupted || (status != .success && !keepGoing) || context.exitRequested {
                    return max(worst, await pipeline?.drain() ?? .success)
                }
            }
        }
        if let pipeline { worst = max(worst, await pipeline.drain()) }
        if block != nil && pending.isEmpty {
            report(TransactionBlock.unterminated)
            return max(worst, .usage)
        }
        if !pending.isEmpty {
            let scan = ShellTokenizer.scan(pending)
            if let quote = scan.openQuote {
                report(UsageError(message: ShellTokenizer.SyntaxError.unterminatedQuote(quote).description))
                return max(worst, .usage)
            }
            if scan.danglingBackslash {
                report(UsageError(message: ShellTokenizer.SyntaxError.danglingBackslash.description))
                return max(worst, .usage)
            }
            for command in scan.commands {
                guard let status = await feedTransactionBlock(&block, command.map(\.text)) else { continue }
                worst = max(worst, status)
                if status == .interrupted || (status != .success && !keepGoing) || context.exitRequested { break }
            }
            if block != nil {
                report(TransactionBlock.unterminated)
                return max(worst, .usage)
            }
        }
        return worst
    }

    /// Whether text ends in a backslash-newline (an odd number of backslashes before the end).
    static func endsWithContinuation(_ text: String) -> Bool {
        var body = Substring(text)
        guard body.last?.isNewline == true else { return false }
        body.removeLast()
        var backslashes = 0
        while body.last == "\\" {
            backslashes += 1
            body.removeLast()
        }
        return backslashes % 2 == 1
    }

    /// Ctrl-C in a script: a running command is cancelled and the script stops (status 130);
    /// between commands the process exits with 130 at once.
    private func installScriptInterruptHandling() {
        guard handlesInterrupts else { return }
        interrupts.install { exit(ExitStatus.interrupted.rawValue) }
    }

    // MARK: Interactive shell

    /// The interactive shell: prompt, history, completion, notices above the prompt.
    ///
    /// Connects first (a failure is reported, and `connect` can be used later), reads lines
    /// until Ctrl-D or `quit`, and saves the history. Always returns success.
    public func runInteractive(editor: LineEditor) async -> ExitStatus {
        context.lineEditor = editor
        context.setHistory(editor.history)
        let completer = ShellCompleter(context: context)
        editor.completionProvider = { line, cursor in completer.completeWaiting(line: line, cursor: cursor) }
        if handlesInterrupts { interrupts.install {} }
        _ = await execute(["connect"])  // like any command: Ctrl-C stops it, errors are reported
        loop: while !context.exitRequested {
            let prompt = context.prompt
            let result = await onInputQueue { editor.readLine(prompt: prompt) }
            switch result {
            case .endOfFile:
                break loop
            case .interrupted:
                continue
            case .line(let line):
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                editor.addHistory(line)
                context.appendHistory(line)
                if let words = try? ShellTokenizer.commands(in: line), words.count == 1, let block = TransactionBlock(opening: words[0]) {
                    await readTransactionBlock(block, editor: editor)
                } else {
                    await executeLine(line)
                }
                completer.invalidateCache()
            }
        }
        editor.completionProvider = nil
        _ = editor.saveHistory()
        context.lineEditor = nil
        return .success
    }

    /// Reads a `txn` block's lines with the prompt `txn> ` until `commit` (runs it), `abort`, or
    /// Ctrl-D or Ctrl-C (both abort).
    private func readTransactionBlock(_ opened: TransactionBlock, editor: LineEditor) async {
        var block: TransactionBlock? = opened
        while block != nil {
            let result = await onInputQueue { editor.readLine(prompt: "txn> ") }
            guard case .line(let line) = result else {
                context.print(TransactionBlock.abortedMessage)
                return
            }
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            editor.addHistory(line)
            guard let words = try? ShellTokenizer.commands(in: line) else {
                report(UsageError(message: "unterminated quote in '\(line)'"))
                continue
            }
            for command in words {
                _ = await feedTransactionBlock(&block, command)
                if block == nil { break }
            }
        }
    }

    /// Runs every command of an interactive line; a failing command stops the rest of the line.
    private func executeLine(_ line: String) async {
        let commands: [[String]]
        do {
            commands = try ShellTokenizer.commands(in: line)
        } catch {
            report(UsageError(message: error.description))
            return
        }
        for words in commands {
            let status = await execute(words)
            if status != .success || context.exitRequested { return }
        }
    }

    private func onInputQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            inputQueue.async { continuation.resume(returning: body()) }
        }
    }
}

/// A flag set once, read from any thread.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Turns SIGINT into a call of the current command's handler.
///
/// SIGINT is ignored for the process and observed with a dispatch source instead, so it never
/// kills the shell; while `LineEditor.readLine` runs, the editor handles it and then restores
/// this arrangement.
private final class InterruptRelay: @unchecked Sendable {
    private let lock = NSLock()
    private var handler: (@Sendable () -> Void)?
    private var idleHandler: (@Sendable () -> Void)?
    private var source: (any DispatchSourceSignal)?
    private let queue = DispatchQueue(label: "zksh.sigint")

    /// Starts catching SIGINT; `idle` runs for a Ctrl-C while no command runs.
    func install(whenIdle idle: @escaping @Sendable () -> Void) {
        lock.withLock {
            idleHandler = idle
            guard source == nil else { return }
            signal(SIGINT, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: queue)
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
            self.source = source
        }
    }

    /// Sets (or clears) the running command's handler.
    func setHandler(_ handler: (@Sendable () -> Void)?) {
        lock.withLock { self.handler = handler }
    }

    private func fire() {
        let (handler, idle) = lock.withLock { (self.handler, self.idleHandler) }
        if let handler { handler() } else { idle?() }
    }

    deinit {
        source?.cancel()
    }
}

/// Parses a script's commands, in order, on other threads while the ones before them run.
///
/// Parsing has no effects, so parsing ahead never changes what a script does; a line inside a
/// transaction block is parsed for nothing. Two parsers take alternate commands (parsing a line
/// costs more than sending its request). A single command is parsed where it runs.
private struct ParseAhead {
    private var streams: [AsyncStream<Result<CommandRegistry.Parsed, UsageError>>.Iterator] = []
    private var parsers: [Task<Void, Never>] = []
    private var taken = 0
    private var single: Result<CommandRegistry.Parsed, UsageError>?

    init(_ commands: [[String]], registry: CommandRegistry) {
        guard commands.count > 1 else {
            single = commands.first.map { ShellRunner.parse($0, registry: registry) }
            return
        }
        let parserCount = 2
        for first in 0..<parserCount {
            let (stream, continuation) = AsyncStream<Result<CommandRegistry.Parsed, UsageError>>.makeStream()
            streams.append(stream.makeAsyncIterator())
            parsers.append(Task.detached {
                for index in stride(from: first, to: commands.count, by: parserCount) {
                    if Task.isCancelled { break }
                    continuation.yield(ShellRunner.parse(commands[index], registry: registry))
                }
                continuation.finish()
            })
        }
    }

    /// The next command's parse, in the order the commands were given.
    mutating func next() async -> Result<CommandRegistry.Parsed, UsageError> {
        if let single {
            self.single = nil
            return single
        }
        let stream = taken % streams.count
        taken += 1
        guard let result = await streams[stream].next() else {
            preconditionFailure("more commands taken than were parsed")
        }
        return result
    }

    /// Stops parsing (the script ended early).
    func cancel() {
        for parser in parsers { parser.cancel() }
    }
}
