import ArgumentParser
import ZooKeeperClient

/// `addWatch [-m persistent|persistent-recursive] PATH`: leaves a persistent watch whose
/// events are printed as they fire.
struct AddWatchCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "addWatch",
        abstract: "Leave a persistent watch; print its events as they fire.",
        discussion: """
            Returns at once; every event is printed like the -w flags print them, in zkCli.sh's \
            format (WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:/a), \
            until removewatches, the end of the session, or 'printwatches off' (which hides \
            them). The default mode, as in zkCli.sh, is persistent-recursive: the node and \
            every node below it. The node need not exist.

            Examples:
              addWatch /app
              addWatch -m persistent /app/config
              addWatch -m persistent-recursive /app
            """,
        aliases: ["addwatch"])

    /// The mode names -m accepts.
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case persistent
        case persistentRecursive = "persistent-recursive"

        /// Also zkCli.sh's spelling (PERSISTENT_RECURSIVE), in any case.
        init?(argument: String) {
            let name = argument.lowercased().replacingOccurrences(of: "_", with: "-")
            guard let mode = Mode(rawValue: name) else { return nil }
            self = mode
        }

        var addWatchMode: AddWatchMode {
            switch self {
            case .persistent: return .persistent
            case .persistentRecursive: return .persistentRecursive
            }
        }
    }

    @Option(name: .customShort("m"), help: "persistent (the node and its children list) or persistent-recursive (the whole subtree).")
    var mode: Mode = .persistentRecursive

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node (it need not exist yet).")
    var path: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let watch = try await client.addWatch(path, mode: mode.addWatchMode)
        context.printWhenFired(watch)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "mode": .string(mode.rawValue)])
        }
    }
}
