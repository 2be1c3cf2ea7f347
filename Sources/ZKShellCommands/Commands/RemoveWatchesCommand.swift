import ArgumentParser
import ZooKeeperClient

/// `removewatches PATH [-c|-d|-a|-p|-r] [-l]`: removes this session's watches on a node.
struct RemoveWatchesCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "removewatches",
        abstract: "Remove this session's watches on a node.",
        discussion: """
            Without a type flag removes every kind (-a). Fails with NOWATCHER when there is no \
            such watch. Removing only persistent (-p) or persistent recursive (-r) watches needs \
            ZooKeeper 3.9; -a removes them on older servers too. With -l the server is not asked \
            (useful while disconnected).

            Examples:
              removewatches /app
              removewatches /app/config -d
              removewatches /app -r
              removewatches /app -a -l
            """)

    @Argument(help: "The node.")
    var path: String

    @Flag(name: .customShort("c"), help: "Children watches (ls -w).")
    var children = false

    @Flag(name: .customShort("d"), help: "Data watches (get -w, stat -w).")
    var data = false

    @Flag(name: .customShort("a"), help: "Any watch (the default).")
    var any = false

    @Flag(name: .customShort("p"), help: "Persistent watches (addWatch -m persistent).")
    var persistent = false

    @Flag(name: .customShort("r"), help: "Persistent recursive watches (addWatch).")
    var recursive = false

    @Flag(name: .customShort("l"), help: "Remove locally only, without asking the server.")
    var local = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if [children, data, any, persistent, recursive].filter({ $0 }).count > 1 {
            throw ValidationError("-c, -d, -a, -p and -r cannot be combined")
        }
    }

    var type: WatcherType {
        children ? .children : data ? .data : persistent ? .persistent : recursive ? .persistentRecursive : .any
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        try await client.removeWatches(path, type: type, local: local)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "type": .string(Self.name(of: type)), "removed": true])
        }
    }

    static func name(of type: WatcherType) -> String {
        switch type {
        case .children: return "children"
        case .data: return "data"
        case .any: return "any"
        case .persistent: return "persistent"
        case .persistentRecursive: return "persistent-recursive"
        }
    }
}
