import ArgumentParser
import ZooKeeperClient

/// `exists PATH`: prints `true` or `false`; fails (status 1) when the node does not exist.
struct ExistsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "exists",
        abstract: "Tell whether a node exists (exit status 1 if not).",
        discussion: """
            Prints 'true' and succeeds, or prints 'false' and fails without an error message, so \
            scripts can test it.

            Examples:
              exists /app/lock
              zksh -c 'exists /app/ready' && echo ready
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    var sendsOneRequest: Bool { true }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let exists = try await client.exists(path) != nil
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "exists": .bool(exists)])
        } else {
            context.print(exists ? "true" : "false")
        }
        if !exists { throw ShellError.silent }
    }
}
