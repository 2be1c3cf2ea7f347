import ArgumentParser
import ZooKeeperClient

/// `sync PATH`: waits until the connected server has caught up with the leader.
struct SyncCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Wait until the server has caught up with the leader.",
        discussion: """
            Reads after a sync see every write committed before it.

            Examples:
              sync /
              sync /app; get /app/config
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node (default: the current directory).")
    var path: String?

    var sendsOneRequest: Bool { true }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        try await client.sync(path)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "synced": true])
        } else {
            context.print("Sync is OK")
        }
    }
}
