import ArgumentParser
import ZooKeeperClient

/// `count [PATH]`: the number of nodes in a subtree, the node included.
struct CountCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count the nodes of a subtree, the node included.",
        discussion: """
            Walks the subtree (Ctrl-C stops it). getAllChildrenNumber asks the server instead, \
            in one request, and leaves the node itself out.

            Examples:
              count /app
              count --json /
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node (default: the current directory).")
    var path: String?

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let root = context.resolve(self.path)
        var count: Int64 = 0
        var ephemerals: Int64 = 0
        try await SubtreeWalker(client: client).walk(root) { node in
            count += 1
            if node.stat.ephemeralOwner != 0 { ephemerals += 1 }
        }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(root), "count": .integer(count), "ephemerals": .integer(ephemerals)])
        } else {
            context.print(String(count))
        }
    }
}
