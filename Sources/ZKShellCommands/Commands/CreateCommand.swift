import ArgumentParser
import ZooKeeperClient

/// `create [-s] [-e] [-c] [-t TTL] [-p] PATH [DATA]`: creates a node.
struct CreateCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a node.",
        discussion: """
            Prints 'Created <path>' (with the sequence suffix for -s).

            Examples:
              create /app
              create /app/config "max=10"
              create -e /app/lock
              create -s -e /app/workers/worker-
              create -c /app/queue
              create -t 60000 /app/session-data
              create -p /app/a/b/c
            """)

    @Flag(name: .customShort("s"), help: "Sequential: the server appends a 10-digit counter to the name.")
    var sequential = false

    @Flag(name: .customShort("e"), help: "Ephemeral: deleted when this session ends.")
    var ephemeral = false

    @Flag(name: .customShort("c"), help: "Container: deleted by the server after its last child is gone.")
    var container = false

    @Option(name: .customShort("t"),
            help: ArgumentHelp(
                "TTL in milliseconds: deleted once unchanged and childless that long (the server needs zookeeper.extendedTypesEnabled=true).",
                valueName: "ttl"))
    var ttl: Int64?

    @Flag(name: .customShort("p"), help: "Create missing parents as persistent nodes first.")
    var parents = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node to create.")
    var path: String

    @Argument(help: "The data (default: none).")
    var data: String?

    /// The create mode the flags select, or nil for an impossible combination.
    var mode: CreateMode? {
        CreateMode(ephemeral: ephemeral, sequential: sequential, container: container, ttl: ttl != nil)
    }

    func validate() throws {
        if let ttl, ttl <= 0 { throw ValidationError("-t needs a TTL above 0 milliseconds") }
        if mode == nil {
            throw ValidationError("-e, -c and -t cannot be combined (and -c not with -s)")
        }
    }

    var sendsOneRequest: Bool { !parents }

    func run(in context: ShellContext) async throws {
        guard let mode else { throw UsageError(message: "impossible combination of -s, -e, -c and -t") }
        let client = try await context.client()
        var path = context.resolve(self.path)
        if sequential && self.path.hasSuffix("/") && path != "/" {
            path += "/"  // `create -s /queue/` makes /queue/0000000001: keep the meaningful slash
        }
        if parents {
            var ancestors: [String] = []
            var parent = ZooKeeperPath.parent(of: path)
            while parent != "/" {
                ancestors.append(parent)
                parent = ZooKeeperPath.parent(of: parent)
            }
            for ancestor in ancestors.reversed() {
                do {
                    _ = try await client.create(ancestor)
                } catch let error as ZooKeeperError where error.code == .nodeExists {
                    continue
                }
            }
        }
        let created = try await client.create(path, data: Array((data ?? "").utf8), mode: mode, ttl: ttl)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(created.path), "stat": StatFormatter.json(created.stat)])
        } else {
            context.print("Created \(created.path)")
        }
    }
}
