import ArgumentParser
import ZooKeeperClient

/// `delete [-v VERSION] PATH`: deletes a node without children.
struct DeleteCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a node that has no children.",
        discussion: """
            Use 'deleteall' for a whole subtree.

            Examples:
              delete /app/lock
              delete -v 4 /app/config
            """,
        aliases: ["rm"])

    @Option(name: .customShort("v"), parsing: .unconditional,
            help: ArgumentHelp("Only delete if the node's data version is this (-1: any).", valueName: "version"))
    var version: Int32 = -1

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    var sendsOneRequest: Bool { true }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        try await client.delete(path, version: version)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "deleted": true])
        }
    }
}
