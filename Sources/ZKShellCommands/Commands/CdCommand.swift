import ArgumentParser
import ZooKeeperClient

/// `cd [PATH]`: changes the current directory, against which relative paths resolve.
struct CdCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "cd",
        abstract: "Change the current node, against which relative paths resolve.",
        discussion: """
            The node must exist. Without PATH, goes to /.

            Examples:
              cd /app
              cd workers
              cd ..
            """)

    @Argument(help: "The node (absolute, or relative to the current one; .. is the parent).")
    var path: String = "/"

    func run(in context: ShellContext) async throws {
        let path = context.resolve(self.path)
        if path != "/" {
            let client = try await context.client()
            guard try await client.exists(path) != nil else { throw ZooKeeperError(.noNode, path: path) }
        }
        context.setCurrentDirectory(path)
    }
}
