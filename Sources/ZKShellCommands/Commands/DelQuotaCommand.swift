import ArgumentParser
import ZooKeeperClient

/// `delquota [-n|-b|-N|-B] PATH`: removes a quota, or some of its limits.
struct DelQuotaCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "delquota",
        abstract: "Remove the quota of a node, or only some of its limits.",
        discussion: """
            Without flags removes the whole quota (zookeeper_limits, zookeeper_stats and the \
            quota nodes left empty under /zookeeper/quota), as zkCli.sh does. With flags resets \
            only those limits to -1 (no limit).

            Examples:
              delquota /app
              delquota -n /app
              delquota -B /app
            """)

    @Flag(name: .customShort("n"), help: "Remove the soft node-count limit.")
    var count = false

    @Flag(name: .customShort("b"), help: "Remove the soft byte limit.")
    var bytes = false

    @Flag(name: .customShort("N"), help: "Remove the hard node-count limit.")
    var countHardLimit = false

    @Flag(name: .customShort("B"), help: "Remove the hard byte limit.")
    var byteHardLimit = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        if path == QuotaStats.quotaRoot || path.hasPrefix(QuotaStats.quotaRoot + "/") {
            throw ShellError("cannot delete a quota under the path: \(QuotaStats.quotaRoot)")
        }
        let quotaNode = QuotaStats.quotaPath(for: path)
        let limitPath = quotaNode + "/" + QuotaStats.limitNode
        let data: [UInt8]
        do {
            data = try await client.getData(limitPath).data
        } catch let error as ZooKeeperError where error.isNoNode {
            throw ShellError("Quota does not exist for \(path)")
        }
        let selected = [(count, QuotaStats.count), (bytes, QuotaStats.bytes),
                        (countHardLimit, QuotaStats.countHardLimit), (byteHardLimit, QuotaStats.byteHardLimit)]
            .filter(\.0).map(\.1)
        if selected.isEmpty {
            for child in try await client.getChildren(quotaNode).children {
                try await client.delete(quotaNode + "/" + child)
            }
            // Trim quota nodes left without children, up to /zookeeper/quota.
            var node = quotaNode
            while node != QuotaStats.quotaRoot, node.hasPrefix(QuotaStats.quotaRoot + "/") {
                do {
                    guard try await client.getChildren(node).children.isEmpty else { break }
                    try await client.delete(node)
                } catch let error as ZooKeeperError where error.isNoNode || error.code == .notEmpty {
                    break
                }
                node = ZooKeeperPath.parent(of: node)
            }
            if output.wantsJSON(context) { context.printJSON(["path": .string(path), "deleted": true]) }
            return
        }
        var limits = try QuotaStats(parsing: String(decoding: data, as: UTF8.self))
        for key in selected { limits[key] = -1 }
        try await client.setData(limitPath, data: Array(limits.text.utf8))
        if output.wantsJSON(context) { context.printJSON(["path": .string(path), "quota": limits.json]) }
    }
}
