import ArgumentParser
import ZooKeeperClient

/// `du [-d DEPTH] [--bytes] PATH`: bytes of data per subtree.
struct DuCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "du",
        abstract: "Show how many bytes of data each subtree holds.",
        discussion: """
            Like du(1): one line per subtree down to DEPTH levels below the node (default 1: \
            the node's children), each after its descendants, the node's own total last. Sizes \
            are in human units (KiB, MiB) on a terminal, exact bytes otherwise, with --bytes or \
            with --json. Ctrl-C stops it.

            Examples:
              du /app
              du -d 0 /
              du -d 2 --bytes /app
              du --json /app
            """)

    @Option(name: .customShort("d"), help: ArgumentHelp("Print subtrees down to this many levels below the node.", valueName: "depth"))
    var depth: Int = 1

    @Flag(name: .customLong("bytes"), help: "Print exact byte counts.")
    var exactBytes = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node (default: the current directory).")
    var path: String?

    func validate() throws {
        if depth < 0 { throw ValidationError("-d must not be negative") }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let root = context.resolve(self.path)
        let json = output.wantsJSON(context)
        let human = context.output.outputIsTerminal && !exactBytes
        // Running (bytes, nodes) of every open node on the path from the root.
        var totals: [(bytes: Int64, nodes: Int64)] = []
        var subtrees: [JSONValue] = []
        try await SubtreeWalker(client: client).walk(root, enter: { node in
            totals.append((Int64(node.stat.dataLength), 1))
        }, leave: { node in
            let total = totals.removeLast()
            if !totals.isEmpty {
                totals[totals.count - 1].bytes += total.bytes
                totals[totals.count - 1].nodes += total.nodes
            }
            guard node.depth <= depth else { return }
            if json {
                subtrees.append(["path": .string(node.path), "bytes": .integer(total.bytes), "nodes": .integer(total.nodes)])
            } else {
                context.print("\(human ? ByteCount.human(total.bytes) : String(total.bytes))\t\(node.path)")
            }
        })
        if json {
            let total = subtrees.last ?? .null
            context.printJSON(["path": .string(root), "total": total, "subtrees": .array(subtrees)])
        }
    }
}
