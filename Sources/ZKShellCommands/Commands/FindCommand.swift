import ArgumentParser
import ZooKeeperClient

/// `find PATH PATTERN [-i] [--regex]`: lists the nodes whose names match.
struct FindCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "List the nodes of a subtree whose names match a pattern.",
        discussion: """
            PATTERN is a glob matched against each node's whole name (* ? [a-z] [!x]), or with \
            --regex a regular expression found anywhere in the name. Prints full paths, depth \
            first, children sorted, as the walk goes; Ctrl-C stops it.

            Examples:
              find / 'lock-*'
              find /app '*.json' -i
              find /app --regex '^worker-[0-9]+$'
            """)

    @OptionGroup var matching: PatternOptions

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node.")
    var path: String

    @Argument(help: "The name pattern.")
    var pattern: String

    func validate() throws {
        try matching.validate(pattern, anchored: true)
    }

    func run(in context: ShellContext) async throws {
        let matcher = try matching.matcher(pattern, anchored: true)
        let client = try await context.client()
        let root = context.resolve(self.path)
        let json = output.wantsJSON(context)
        var matches: [JSONValue] = []
        let visited = AtomicCounter()
        try await Progress.run(context, command: "find", verb: "visited", gerund: "visiting", total: nil, completed: { visited.value }) {
            try await SubtreeWalker(client: client).walk(root) { node in
                visited.add()
                guard matcher.matches(ZooKeeperPath.name(of: node.path)) else { return }
                if json { matches.append(.string(node.path)) } else { context.print(node.path) }
            }
        }
        if json { context.printJSON(["path": .string(root), "pattern": .string(pattern), "matches": .array(matches)]) }
    }
}
