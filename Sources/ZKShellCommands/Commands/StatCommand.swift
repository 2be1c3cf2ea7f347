import ArgumentParser
import ZooKeeperClient

/// `stat [-w] PATH`: prints a node's stat.
struct StatCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Print the stat of a node.",
        discussion: """
            Examples:
              stat /app
              stat -w /app/config
              stat --json /app
            """)

    @Flag(name: .customShort("w"), help: "Leave a watch; print the event when the node is created, changed or deleted.")
    var watch = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    var sendsOneRequest: Bool { !watch }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let stat: Stat?
        if watch {
            let result = try await client.existsAndWatch(path)
            stat = result.stat
            context.printWhenFired(result.watch)
        } else {
            stat = try await client.exists(path)
        }
        guard let stat else { throw ZooKeeperError(.noNode, path: path) }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "stat": StatFormatter.json(stat)])
        } else {
            context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8))
        }
    }
}
