import ArgumentParser
import ZooKeeperClient

/// `getEphemerals [PATH]`: lists the session's ephemeral nodes.
struct GetEphemeralsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "getEphemerals",
        abstract: "List this session's ephemeral nodes, sorted.",
        discussion: """
            Prints one path per line: every ephemeral node of this session whose path starts with \
            PATH (a plain prefix: /app also matches /apple). Without PATH, all of them.

            Examples:
              getEphemerals
              getEphemerals /app/locks
              getEphemerals --json
            """,
        aliases: ["getephemerals"])

    @OptionGroup var output: OutputOptions

    @Argument(help: "Only paths starting with this (default: all).")
    var path: String?

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let prefix = path.map { context.resolve($0) } ?? "/"
        let paths = try await client.getEphemerals(prefix: prefix).sorted()
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(prefix), "ephemerals": .array(paths.map(JSONValue.string))])
            return
        }
        for path in paths { context.print(path) }
    }
}
