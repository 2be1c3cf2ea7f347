import ArgumentParser
import ZooKeeperClient

/// `getAllChildrenNumber PATH`: prints how many nodes are below a node.
struct GetAllChildrenNumberCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "getAllChildrenNumber",
        abstract: "Print the number of nodes below a node (the server counts them).",
        discussion: """
            Counts every descendant, not the node itself, in one request (ZooKeeper 3.6 or \
            later); 'count' walks the tree instead and includes the node.

            Examples:
              getAllChildrenNumber /app
              getAllChildrenNumber --json /
            """,
        aliases: ["getallchildrennumber"])

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node (default: the current directory).")
    var path: String?

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let number = try await client.getAllChildrenNumber(path)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "number": .integer(Int64(number))])
        } else {
            context.print(String(number))
        }
    }
}
