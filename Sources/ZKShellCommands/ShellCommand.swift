import ArgumentParser

/// A command of the ZooKeeper shell.
///
/// Every command is a `ParsableCommand` struct in its own file under `Commands/`: its flags,
/// arguments, abstract, examples and aliases are declared once with `@Flag`/`@Option`/`@Argument`
/// and `CommandConfiguration`, and usage, help and tab completion are generated from them. Adding
/// a command means adding one file and one entry in ``CommandRegistry/standardCommands``.
///
/// Lines are parsed with `parseAsRoot`, which never exits the process; the shell then calls
/// ``run(in:)`` in a task of its own, which Ctrl-C cancels.
public protocol ShellCommand: ParsableCommand, Sendable {
    /// Runs the command against the shell's session.
    ///
    /// Write results with `context.print`/`context.printJSON` and throw on failure: the runner
    /// prints `zksh: <error>` to standard error and maps the error to an exit status. Long-running
    /// commands must check for cancellation (Ctrl-C) between steps.
    func run(in context: ShellContext) async throws

    /// Whether ``run(in:)``, with these flags, sends exactly one request and nothing else
    /// before it (no reading of standard input, no watch set up first): such commands of a
    /// `--keep-going` script are pipelined (see `ScriptPipeline`). False unless a command says so.
    var sendsOneRequest: Bool { get }
}

extension ShellCommand {
    public var sendsOneRequest: Bool { false }
}

/// How a command, a script or the whole shell ended, as a process exit status.
public enum ExitStatus: Int32, Sendable, Comparable {
    /// Everything succeeded.
    case success = 0
    /// A command failed (a ZooKeeper error, a missing node, a lost connection).
    case failure = 1
    /// A line could not be parsed: unknown command, bad flags, unterminated quote.
    case usage = 2
    /// Interrupted with Ctrl-C (128 + SIGINT).
    case interrupted = 130

    /// The status for an error thrown by parsing or by a command.
    public init(for error: any Error) {
        switch error {
        case is UsageError: self = .usage
        case is CancellationError: self = .interrupted
        default: self = .failure
        }
    }

    public static func < (lhs: ExitStatus, rhs: ExitStatus) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A line the shell could not parse (exit status 2).
public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The short reason (`Unknown option '-x'`), printed as `zksh: <message>`.
    public var message: String
    /// Usage text printed before the message (`Usage: ls [-s] …`), or empty.
    public var usage: String

    public init(message: String, usage: String = "") {
        self.message = message
        self.usage = usage
    }

    public var description: String { message }
}

/// A failure of the shell itself rather than of ZooKeeper (exit status 1).
public struct ShellError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Printed as `zksh: <message>`; empty for a silent failure that only sets the exit status
    /// (like `exists` on a missing node).
    public var message: String

    public init(_ message: String) { self.message = message }

    /// Fails without printing anything (exit status 1).
    public static let silent = ShellError("")

    /// No session: closed by the user, or the first connect failed.
    public static let notConnected = ShellError("not connected (use 'connect [HOSTS]')")

    public var description: String { message }
}

extension ShellCommand {
    /// The command's name as typed.
    static var name: String { configuration.commandName ?? String(describing: self).lowercased() }
}
