import ArgumentParser
import ZooKeeperClient

/// `cp [--force] [--ephemeral] SRC DST`: copies a subtree with data, ACLs and modes.
struct CpCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy a subtree with its data, ACLs and modes.",
        discussion: """
            SRC and DST are each a path of the current session, a path of another cluster \
            (zk://host:port[,host:port]/path, which opens a second session with the shell's \
            credentials), or a JSON file in the export format (a name ending in .json, or - for \
            standard input/output; see 'help export'). DST becomes the copy of SRC: it must not \
            exist unless --force (then existing nodes get the copied data and ACL). Ephemeral \
            nodes are copied as persistent unless --ephemeral. The server's /zookeeper subtree \
            is never copied. Creates are pipelined; a progress line shows on a terminal and \
            Ctrl-C reports how far the copy got.

            Examples:
              cp /app /app-backup
              cp /app zk://10.0.0.2:2181/app
              cp zk://old:2181/app /app --force
              cp /app app.json
            """)

    @Flag(help: "Overwrite existing nodes (their data and ACL) instead of refusing.")
    var force = false

    @Flag(help: "Create ephemeral source nodes as ephemeral nodes of this session (default: persistent).")
    var ephemeral = false

    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The source: PATH, zk://hosts/path or FILE.json.", valueName: "src"), completion: .file(extensions: ["json"]))
    var source: String

    @Argument(help: ArgumentHelp("The destination: PATH, zk://hosts/path or FILE.json.", valueName: "dst"), completion: .file(extensions: ["json"]))
    var destination: String

    func validate() throws {
        do {
            _ = try TreeLocation(source)
            _ = try TreeLocation(destination)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run(in context: ShellContext) async throws {
        let from = try TreeLocation(source)
        let to = try TreeLocation(destination)
        if case .current(let a) = from, case .current(let b) = to {
            let (src, dst) = (context.resolve(a), context.resolve(b))
            if dst == src || dst.hasPrefix(src == "/" ? "/" : src + "/") {
                throw ShellError("cannot copy \(src) into itself (\(dst))")
            }
        }
        let result = try await TreeCopy.copy(from: from, to: to, force: force, keepsEphemerals: ephemeral,
                                             in: context, command: "cp", verb: "copied", gerund: "copying")
        if output.wantsJSON(context) {
            context.printJSON(["from": .string(result.from), "to": .string(result.to), "nodes": .integer(Int64(result.count))])
        } else if to != .file("-") {
            context.print("Copied \(result.count) node\(result.count == 1 ? "" : "s") from \(result.from) to \(result.to)")
        }
    }
}

/// The copy behind `cp`, `export` and `import`: reads a tree from a location and writes it to
/// another, streaming (memory bounded by depth for ZooKeeper sources, by the pipelining window
/// for ZooKeeper destinations, and by one node for files).
enum TreeCopy {
    struct Result {
        var count: Int
        var from: String
        var to: String
    }

    static func copy(from: TreeLocation, to: TreeLocation, force: Bool, keepsEphemerals: Bool,
                     in context: ShellContext, command: String, verb: String, gerund: String) async throws -> Result {
        var opened: [OpenTree] = []
        do {
            let result = try await copy(from: from, to: to, force: force, keepsEphemerals: keepsEphemerals, in: context,
                                        command: command, verb: verb, gerund: gerund, opened: &opened)
            for tree in opened { await tree.close() }
            return result
        } catch {
            for tree in opened { await tree.close() }
            throw error
        }
    }

    private static func copy(from: TreeLocation, to: TreeLocation, force: Bool, keepsEphemerals: Bool, in context: ShellContext,
                             command: String, verb: String, gerund: String, opened: inout [OpenTree]) async throws -> Result {
        // The destination first: a bad target fails before anything is read.
        let counter = AtomicCounter()
        let enter: (TreeNode) async throws -> Void
        let leave: (TreeNode) async throws -> Void
        let finish: () async throws -> Void
        let abandon: () async -> Void
        let toLabel: String
        switch to {
        case .file(let name):
            let file = try FileOutput(name, in: context)
            let writer = TreeJSON.Writer(sink: file.write)
            enter = { node in
                try writer.enter(node)
                counter.add()
            }
            leave = { try writer.leave($0) }
            finish = {
                try writer.flush()
                file.close()
            }
            abandon = {
                try? writer.flush()
                file.close()
            }
            toLabel = name == "-" ? "standard output" : name
        case .current, .cluster:
            let tree = try await OpenTree.open(to, in: context)
            opened.append(tree)
            let writer = ZooKeeperTreeWriter(client: tree.client, root: tree.root, force: force, keepsEphemerals: keepsEphemerals)
            try await writer.checkTarget()
            enter = { node in
                try await writer.enter(node)
            }
            leave = { try await writer.leave($0) }
            finish = { try await writer.drain() }
            abandon = { await writer.abandon() }
            toLabel = tree.label
            // Count what the server confirmed, not what was sent.
            return try await copySource(from, in: context, opened: &opened, command: command, verb: verb, gerund: gerund,
                                        completed: { writer.written.value },
                                        enter: enter, leave: leave, finish: finish, abandon: abandon, toLabel: toLabel)
        }
        return try await copySource(from, in: context, opened: &opened, command: command, verb: verb, gerund: gerund,
                                    completed: { counter.value },
                                    enter: enter, leave: leave, finish: finish, abandon: abandon, toLabel: toLabel)
    }

    private static func copySource(_ from: TreeLocation, in context: ShellContext, opened: inout [OpenTree],
                                   command: String, verb: String, gerund: String, completed: @escaping @Sendable () -> Int,
                                   enter: (TreeNode) async throws -> Void, leave: (TreeNode) async throws -> Void,
                                   finish: () async throws -> Void, abandon: () async -> Void, toLabel: String) async throws -> Result {
        let fromLabel: String
        let total: Int?
        var reader: TreeJSON.Reader?
        var zooKeeperReader: ZooKeeperTreeReader?
        switch from {
        case .file(let name):
            let file = try ChunkedFileReader(name, in: context)
            reader = TreeJSON.Reader(read: file.read(into:))
            fromLabel = name == "-" ? "standard input" : name
            total = nil
        case .current, .cluster:
            let tree = try await OpenTree.open(from, in: context)
            opened.append(tree)
            zooKeeperReader = ZooKeeperTreeReader(client: tree.client, root: tree.root)
            fromLabel = tree.label
            total = await tree.estimatedCount()
        }
        do {
            try await Progress.run(context, command: command, verb: verb, gerund: gerund, total: total, completed: completed) {
                do {
                    if var reader {
                        try await reader.read(enter: enter, leave: leave)
                    } else if let zooKeeperReader {
                        try await zooKeeperReader.read(enter: enter, leave: leave)
                    }
                    try await finish()
                } catch {
                    await abandon()
                    throw error
                }
            }
        }
        if let redacted = zooKeeperReader?.redactedDigests.value, redacted > 0 {
            context.printError("warning: \(redacted) node\(redacted == 1 ? " has" : "s have") digest ACLs whose hashes the server hid"
                + " (copied as user:x); authenticate as a user with ADMIN permission (addauth) to copy them")
        }
        return Result(count: completed(), from: fromLabel, to: toLabel)
    }
}
