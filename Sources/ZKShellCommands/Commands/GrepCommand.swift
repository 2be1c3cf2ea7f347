import ArgumentParser
import ZooKeeperClient

/// `grep PATH PATTERN [-i] [--regex]`: searches the data of a subtree.
struct GrepCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "grep",
        abstract: "Search the data of a subtree's nodes, line by line.",
        discussion: """
            Prints 'path: line' for every matching line of every node whose data is text \
            (binary data is skipped). PATTERN is a glob that may match any part of the line \
            (* ? [a-z]), or with --regex a regular expression. Depth first, children sorted; \
            Ctrl-C stops it.

            Examples:
              grep /app 'timeout=*'
              grep /app error -i
              grep / --regex 'host=10\\.0\\.[0-9]+'
            """)

    @OptionGroup var matching: PatternOptions

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node.")
    var path: String

    @Argument(help: "The pattern.")
    var pattern: String

    func validate() throws {
        try matching.validate(pattern, anchored: false)
    }

    func run(in context: ShellContext) async throws {
        let matcher = try matching.matcher(pattern, anchored: false)
        let client = try await context.client()
        let root = context.resolve(self.path)
        let json = output.wantsJSON(context)
        var matches: [JSONValue] = []
        try await SubtreeWalker(client: client, fetchesData: true).walk(root) { node in
            guard let data = node.data, !data.isEmpty, DataRenderer.isPrintableText(data) else { return }
            let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            for (index, line) in lines.enumerated() where matcher.matches(String(line)) {
                if json {
                    matches.append(["path": .string(node.path), "line": .integer(Int64(index + 1)), "text": .string(String(line))])
                } else {
                    context.print("\(node.path): \(line)")
                }
            }
        }
        if json { context.printJSON(["path": .string(root), "pattern": .string(pattern), "matches": .array(matches)]) }
    }
}
