import ArgumentParser
import ZooKeeperClient

/// `txn`: applies a block of creates, sets, deletes and checks as one atomic multi.
struct TxnCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "txn",
        abstract: "Apply creates, sets, deletes and checks atomically (one multi).",
        discussion: """
            Type 'txn' alone, then one operation per line (the interactive prompt becomes \
            'txn> '), then 'commit' to apply them all at once or 'abort' to drop them. In \
            scripts the lines after 'txn' up to 'commit' or 'abort' form the block. The \
            operations can also be given as arguments, one quoted operation each. Operations:

              create [-s] [-e] [-c] [-t TTL] PATH [DATA]
              set [-v VERSION] PATH DATA
              delete [-v VERSION] PATH
              check [-v VERSION] PATH

            Either every operation is applied or none is: on failure the failing operation and \
            the reason are printed, nothing is applied, and the exit status is 1.

            Examples:
              txn
              create /app/config v1
              set -v 3 /app/version 4
              delete /app/old
              commit

              zksh -c 'txn; check -v 2 /app/lock; set /app/leader me; commit'
              txn 'create /a x' 'delete /b'
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("Operations, one per argument (a txn block fills these in).", valueName: "operation"))
    var operations: [String] = []

    func validate() throws {
        guard !operations.isEmpty else { return }  // `txn` alone: a block, or a usage error when run
        do {
            _ = try Self.parse(operations)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// One parsed operation line.
    struct Operation {
        var line: String
        var kind: Kind

        enum Kind {
            case create(TxnCreate)
            case set(TxnSet)
            case delete(TxnDelete)
            case check(TxnCheck)
        }

        func zooKeeperOperation(in context: ShellContext) throws -> ZooKeeperOperation {
            switch kind {
            case .create(let create):
                guard let mode = create.mode else { throw UsageError(message: "impossible combination of -s, -e, -c and -t") }
                var path = context.resolve(create.path)
                if create.sequential && create.path.hasSuffix("/") && path != "/" { path += "/" }
                return .create(path: path, data: Array((create.data ?? "").utf8), mode: mode, ttl: create.ttl)
            case .set(let set):
                return .setData(path: context.resolve(set.path), data: Array(set.data.utf8), version: set.version)
            case .delete(let delete):
                return .delete(path: context.resolve(delete.path), version: delete.version)
            case .check(let check):
                return .check(path: context.resolve(check.path), version: check.version)
            }
        }
    }

    /// Parses the operation lines.
    ///
    /// - Throws: ``UsageError`` naming the line: no operations, an unknown operation, bad flags.
    static func parse(_ lines: [String]) throws(UsageError) -> [Operation] {
        guard !lines.isEmpty else {
            throw UsageError(message: "no operations (type 'txn', the operations one per line, then 'commit')")
        }
        var operations: [Operation] = []
        for (number, line) in lines.enumerated() {
            let commands: [[String]]
            do {
                commands = try ShellTokenizer.commands(in: line)
            } catch {
                throw UsageError(message: "txn operation \(number + 1): \(error.description)")
            }
            guard commands.count == 1, let words = commands.first, let name = words.first else {
                throw UsageError(message: "txn operation \(number + 1): expected one operation, got '\(line)'")
            }
            let arguments = Array(words.dropFirst())
            func parsed<T: ParsableCommand>(_ type: T.Type) throws(UsageError) -> T {
                do {
                    return try type.parseAsRoot(arguments) as! T
                } catch {
                    throw UsageError(message: "txn operation \(number + 1) (\(line)): \(type.message(for: error))")
                }
            }
            switch name {
            case "create": operations.append(Operation(line: line, kind: .create(try parsed(TxnCreate.self))))
            case "set": operations.append(Operation(line: line, kind: .set(try parsed(TxnSet.self))))
            case "delete", "rm": operations.append(Operation(line: line, kind: .delete(try parsed(TxnDelete.self))))
            case "check": operations.append(Operation(line: line, kind: .check(try parsed(TxnCheck.self))))
            default:
                throw UsageError(message: "txn operation \(number + 1): '\(name)' is not create, set, delete or check")
            }
        }
        return operations
    }

    func run(in context: ShellContext) async throws {
        let parsed = try Self.parse(operations)
        let requests = try parsed.map { try $0.zooKeeperOperation(in: context) }
        let client = try await context.client()
        let results: [ZooKeeperOperationResult]
        do {
            results = try await client.multi(requests)
        } catch let error as TransactionError {
            let index = error.failedIndex
            let line = index < parsed.count ? parsed[index].line : "?"
            if output.wantsJSON(context) {
                context.printJSON(["applied": false, "failedOperation": .integer(Int64(index + 1)), "operation": .string(line),
                                   "error": .string(error.error.code.name), "message": .string(error.error.description)])
            }
            throw ShellError("txn: operation \(index + 1) (\(line)) failed: \(error.error); nothing was applied")
        }
        var documents: [JSONValue] = []
        for (request, result) in zip(requests, results) {
            switch result {
            case .created(let path, _):
                documents.append(["op": "create", "path": .string(path)])
                if !output.wantsJSON(context) { context.print("Created \(path)") }
            case .dataSet(let stat):
                documents.append(["op": "set", "path": .string(request.path), "version": .integer(Int64(stat.version))])
                if !output.wantsJSON(context) { context.print("Set \(request.path) (version \(stat.version))") }
            case .deleted:
                documents.append(["op": "delete", "path": .string(request.path)])
                if !output.wantsJSON(context) { context.print("Deleted \(request.path)") }
            case .checked:
                documents.append(["op": "check", "path": .string(request.path)])
                if !output.wantsJSON(context) { context.print("Checked \(request.path)") }
            }
        }
        if output.wantsJSON(context) { context.printJSON(["applied": true, "results": .array(documents)]) }
    }
}

/// Collects the lines of a `txn` block for the shell runner: the line `txn` (with nothing but
/// flags) opens it, each later line is one operation, `commit` or `abort` closes it.
public struct TransactionBlock: Sendable {
    /// The words of the `txn` line followed by one argument per operation line.
    public private(set) var words: [String]

    /// What a line did to the block.
    public enum Step: Equatable, Sendable {
        /// The line was added; keep reading.
        case collecting
        /// `commit`: run these words (`txn` and its operations).
        case commit([String])
        /// `abort`: drop the block.
        case abort
    }

    /// A block opened by `words`, or nil when they do not open one (`txn` with operations,
    /// `txn --help`, another command).
    public init?(opening words: [String]) {
        guard words.first == "txn", words.count == 1 || words.dropFirst().allSatisfy({ $0.hasPrefix("-") }),
              !words.contains("--help"), !words.contains("-h")
        else { return nil }
        self.words = words
    }

    /// Adds one line's words (a line with several `;`-separated commands adds each).
    public mutating func add(_ line: [String]) -> Step {
        switch line {
        case []: return .collecting
        case ["commit"]: return .commit(words)
        case ["abort"]: return .abort
        default:
            words.append(ShellTokenizer.line(line))
            return .collecting
        }
    }

    /// The message for a block that ended without `commit` or `abort`.
    public static let unterminated = UsageError(message: "txn: block not ended with 'commit' or 'abort'; nothing was applied")
    /// The message for `abort`.
    public static let abortedMessage = "Transaction aborted; nothing was applied"
}

/// `create` inside a txn block.
struct TxnCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create")
    @Flag(name: .customShort("s")) var sequential = false
    @Flag(name: .customShort("e")) var ephemeral = false
    @Flag(name: .customShort("c")) var container = false
    @Option(name: .customShort("t")) var ttl: Int64?
    @Argument var path: String
    @Argument var data: String?

    var mode: CreateMode? { CreateMode(ephemeral: ephemeral, sequential: sequential, container: container, ttl: ttl != nil) }

    func validate() throws {
        if let ttl, ttl <= 0 { throw ValidationError("-t needs a TTL above 0 milliseconds") }
        if mode == nil { throw ValidationError("-e, -c and -t cannot be combined (and -c not with -s)") }
    }
}

/// `set` inside a txn block.
struct TxnSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set")
    @Option(name: .customShort("v"), parsing: .unconditional) var version: Int32 = -1
    @Argument var path: String
    @Argument var data: String
}

/// `delete` inside a txn block.
struct TxnDelete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete")
    @Option(name: .customShort("v"), parsing: .unconditional) var version: Int32 = -1
    @Argument var path: String
}

/// `check` inside a txn block.
struct TxnCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check")
    @Option(name: .customShort("v"), parsing: .unconditional) var version: Int32 = -1
    @Argument var path: String
}
