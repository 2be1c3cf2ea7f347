import ArgumentParser
import Foundation
import ZooKeeperClient

/// `watch [-R] [-d] [-c] PATH`: streams a node's events until Ctrl-C.
struct WatchCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a node's changes as they happen, until Ctrl-C.",
        discussion: """
            Prints one line per event: local ISO-8601 time, event type (coloured on a terminal), \
            path. The watch is \
            persistent and survives reconnects (the client re-registers it); events that happen \
            while disconnected are reported after the reconnect, as the server sends them.

            Examples:
              watch /app/config
              watch -d /app/config
              watch -c /app/workers
              watch -R -d /app
              watch --json /app/config
            """)

    @Flag(name: .customShort("R"), help: "Watch the whole subtree (a persistent recursive watch).")
    var recursive = false

    @Flag(name: .customShort("d"), help: "Also fetch and print the new data of changed and created nodes (with -c: the children).")
    var data = false

    @Flag(name: .customShort("c"), help: "Report only changes of the node's children.")
    var children = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node (it need not exist yet).")
    var path: String

    func validate() throws {
        if recursive && children { throw ValidationError("-R and -c cannot be combined") }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let watch = try await client.addWatch(path, mode: recursive ? .persistentRecursive : .persistent)
        if context.lineEditor != nil {
            context.output.writeError("zksh: watching \(path)\(recursive ? " and below" : ""); Ctrl-C stops\n")
        }
        for try await event in watch {
            if children && event.type != .nodeChildrenChanged && !(event.type == .nodeDeleted && event.path == path) {
                continue
            }
            await report(event, client: client, context: context)
        }
        if Task.isCancelled {
            // Tell the server too, so it stops sending events; run it outside this cancelled task.
            await Task { try? await client.stopWatching(watch) }.value
        }
    }

    private func report(_ event: WatchedEvent, client: ZooKeeperClient, context: ShellContext) async {
        let time = context.timeText.isoTimestamp(Date())
        var nodeData: [UInt8]?
        var childNames: [String]?
        if data {
            switch event.type {
            case .nodeDataChanged, .nodeCreated:
                nodeData = try? await client.getData(event.path).data
            case .nodeChildrenChanged where children:
                childNames = try? await client.getChildren(event.path).children.sorted()
            default:
                break
            }
        }
        if output.wantsJSON(context) {
            var document: [String: JSONValue] = [
                "time": .string(time), "type": .string(event.type.name), "path": .string(event.path),
            ]
            if let nodeData {
                document["data"] = DataRenderer.jsonText(nodeData).map(JSONValue.string) ?? .null
                document["dataBase64"] = .string(DataRenderer.base64(nodeData))
            }
            if let childNames { document["children"] = .array(childNames.map(JSONValue.string)) }
            context.printJSON(.object(document))
            return
        }
        let style = context.style
        var line = "\(style.paint(time, .secondary)) \(style.paint(event.type.name, Style.role(of: event.type))) \(event.path)"
        if let nodeData { line += " " + DataRenderer.singleLine(nodeData) }
        if let childNames { line += " [" + childNames.joined(separator: ", ") + "]" }
        context.print(line)
    }
}
