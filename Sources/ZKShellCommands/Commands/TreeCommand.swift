import ArgumentParser
import ZooKeeperClient

/// `tree [-d DEPTH] [PATH]`: draws a subtree with box characters.
struct TreeCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Draw a subtree, children sorted.",
        discussion: """
            The first line is the node's path, then one line per node below it, drawn with \
            ├── └── │ like tree(1). Lines are printed as the walk goes; Ctrl-C stops it. On a \
            terminal, nodes with children and ephemeral nodes are coloured. With --json, one \
            nested document {"name","path","children":[…]}.

            Examples:
              tree /app
              tree -d 2 /
              tree --json /app
            """)

    @Option(name: .customShort("d"), help: ArgumentHelp("Show at most this many levels below the node.", valueName: "depth"))
    var depth: Int?

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node (default: the current directory).")
    var path: String?

    func validate() throws {
        if let depth, depth < 0 { throw ValidationError("-d must not be negative") }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let root = context.resolve(self.path)
        let walker = SubtreeWalker(client: client, maxDepth: depth)
        if output.wantsJSON(context) {
            // A stack of the open nodes' finished children.
            var stack: [[JSONValue]] = []
            var document: JSONValue = .null
            try await walker.walk(root, enter: { _ in stack.append([]) }, leave: { node in
                let children = stack.removeLast()
                let object: JSONValue = [
                    "name": .string(node.depth == 0 ? node.path : ZooKeeperPath.name(of: node.path)),
                    "path": .string(node.path),
                    "children": .array(children),
                ]
                if stack.isEmpty { document = object } else { stack[stack.count - 1].append(object) }
            })
            context.printJSON(document)
            return
        }
        try await walker.walk(root) { node in
            context.print(Self.line(for: node, style: context.style))
        }
    }

    /// The root's path, or the drawing prefix and the node's name; with colours on, the
    /// drawing is dim and names are coloured as in `ls -R` (nodes with children, ephemerals).
    static func line(for node: SubtreeWalker.Node, style: Style = .plain) -> String {
        if node.depth == 0 { return style.paintNode(node.path, stat: node.stat) }
        return style.paint(SubtreeWalker.treePrefix(isLast: node.isLast), .treeLines)
            + style.paintNode(ZooKeeperPath.name(of: node.path), stat: node.stat)
    }
}
