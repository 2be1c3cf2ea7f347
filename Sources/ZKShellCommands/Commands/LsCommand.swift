import ArgumentParser
import ZooKeeperClient

/// `ls [-s] [-w] [-R] [PATH]`: lists a node's children, sorted.
struct LsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the children of a node, sorted.",
        discussion: """
            Prints one child name per line; with -R, every path of the subtree (the node first, \
            depth first, sorted). On a terminal -R colours nodes that have children and \
            ephemeral nodes (the plain listing stays uncoloured: it would take a request per \
            child to know).

            Examples:
              ls /
              ls -s /app
              ls -w /app/workers
              ls -R /app
              ls --json /
            """)

    @Flag(name: .customShort("s"), help: "Also print the node's stat.")
    var stat = false

    @Flag(name: .customShort("w"), help: "Leave a watch; print the event when the children change.")
    var watch = false

    @Flag(name: .customShort("R"), help: "List the whole subtree as full paths.")
    var recursive = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node (default: the current directory).")
    var path: String?

    func validate() throws {
        if recursive && (stat || watch) { throw ValidationError("-R cannot be combined with -s or -w") }
    }

    var sendsOneRequest: Bool { !recursive && !watch }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        if recursive {
            try await listRecursively(path, client: client, context: context)
            return
        }
        let children: [String]
        let stat: Stat
        if watch {
            let result = try await client.getChildrenAndWatch(path)
            (children, stat) = (result.children, result.stat)
            context.printWhenFired(result.watch)
        } else {
            (children, stat) = try await client.getChildren(path)
        }
        let sorted = children.sorted()
        if output.wantsJSON(context) {
            var document: [String: JSONValue] = ["path": .string(path), "children": .array(sorted.map(JSONValue.string))]
            if self.stat { document["stat"] = StatFormatter.json(stat) }
            context.printJSON(.object(document))
            return
        }
        for child in sorted { context.print(child) }
        if self.stat { context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8)) }
    }

    /// Depth-first, children sorted, the node itself first; streams lines as it goes (unless JSON)
    /// and stops at Ctrl-C. Nodes deleted meanwhile are skipped.
    private func listRecursively(_ root: String, client: ZooKeeperClient, context: ShellContext) async throws {
        let json = output.wantsJSON(context)
        var paths: [String] = []
        var stack = [root]
        while let node = stack.popLast() {
            try Task.checkCancellation()
            let children: [String]
            let stat: Stat
            do {
                (children, stat) = try await client.getChildren(node)
            } catch let error as ZooKeeperError where error.isNoNode && node != root {
                continue
            }
            if json { paths.append(node) } else { context.print(context.style.paintNode(node, stat: stat)) }
            stack += children.sorted(by: >).map { ZooKeeperPath.join(node, $0) }
        }
        if json {
            context.printJSON(["path": .string(root), "paths": .array(paths.map(JSONValue.string))])
        }
    }
}
