import ArgumentParser
import ZooKeeperClient

/// `setquota -n|-b|-N|-B VALUE PATH`: sets a quota the way zkCli.sh does.
struct SetQuotaCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "setquota",
        abstract: "Set a node-count or byte quota on a subtree.",
        discussion: """
            -n and -b are soft limits (the server logs a warning when they are exceeded), -N and \
            -B hard limits (the server refuses writes beyond them with QUOTAEXCEEDED, when it \
            enforces quotas). Counts include the node itself. The quota is stored as zkCli.sh \
            stores it, in /zookeeper/quota/<path>/zookeeper_limits (count=…,bytes=…); setting it \
            again changes only the limits given. A path whose ancestor or descendant already has \
            a quota cannot get one.

            Examples:
              setquota -n 100 /app
              setquota -b 1048576 /app
              setquota -N 1000 -B 10485760 /app
            """)

    @Option(name: .customShort("n"), help: ArgumentHelp("Soft limit on the number of nodes.", valueName: "count"))
    var count: Int64?

    @Option(name: .customShort("b"), help: ArgumentHelp("Soft limit on the bytes of data.", valueName: "bytes"))
    var bytes: Int64?

    @Option(name: .customShort("N"), help: ArgumentHelp("Hard limit on the number of nodes.", valueName: "count"))
    var countHardLimit: Int64?

    @Option(name: .customShort("B"), help: ArgumentHelp("Hard limit on the bytes of data.", valueName: "bytes"))
    var byteHardLimit: Int64?

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node of the subtree.")
    var path: String

    func validate() throws {
        if count == nil && bytes == nil && countHardLimit == nil && byteHardLimit == nil {
            throw ValidationError("give a limit: -n, -b, -N or -B")
        }
        for (flag, value) in [("-n", count), ("-b", bytes), ("-N", countHardLimit), ("-B", byteHardLimit)] {
            if let value, value <= 0 { throw ValidationError("the \(flag) quota must be greater than zero") }
        }
    }

    /// The limits given, each field set (the others -1, as zkCli.sh writes a new quota).
    var requested: QuotaStats {
        var quota = QuotaStats()
        quota[QuotaStats.count] = count ?? -1
        quota[QuotaStats.bytes] = bytes ?? -1
        quota[QuotaStats.countHardLimit] = countHardLimit ?? -1
        quota[QuotaStats.byteHardLimit] = byteHardLimit ?? -1
        return quota
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        if path == QuotaStats.quotaRoot || path.hasPrefix(QuotaStats.quotaRoot + "/") {
            throw ShellError("cannot set a quota under the path: \(QuotaStats.quotaRoot)")
        }
        guard try await client.exists(path) != nil else { throw ZooKeeperError(.noNode, path: path) }
        try await Self.checkNoOtherQuota(path, client: client)

        // Create /zookeeper/quota and the quota node's ancestors, like zkCli.sh.
        let quotaNode = QuotaStats.quotaPath(for: path)
        var partial = QuotaStats.quotaRoot
        for ancestor in [QuotaStats.quotaRoot] + path.split(separator: "/").map({ partial += "/" + $0; return partial }) {
            do {
                try await client.create(ancestor)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
        let limitPath = quotaNode + "/" + QuotaStats.limitNode
        let statPath = quotaNode + "/" + QuotaStats.statNode
        var limits: QuotaStats
        if try await client.exists(limitPath) == nil {
            limits = requested
            try await client.create(limitPath, data: Array(limits.text.utf8))
            var usage = QuotaStats()
            usage[QuotaStats.count] = 0
            usage[QuotaStats.bytes] = 0
            do {
                try await client.create(statPath, data: Array(usage.text.utf8))
            } catch let error as ZooKeeperError where error.code == .nodeExists {}
        } else {
            limits = try QuotaStats(parsing: String(decoding: try await client.getData(limitPath).data, as: UTF8.self))
            let requested = self.requested
            for key in [QuotaStats.count, QuotaStats.bytes, QuotaStats.countHardLimit, QuotaStats.byteHardLimit] where requested[key] > -1 {
                limits[key] = requested[key]
            }
            try await client.setData(limitPath, data: Array(limits.text.utf8))
        }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "quota": limits.json])
        }
    }

    /// zkCli.sh's rule: no ancestor and no descendant of the path may have a quota already.
    static func checkNoOtherQuota(_ path: String, client: ZooKeeperClient) async throws {
        var ancestor = ""
        for component in path.split(separator: "/").dropLast() {
            ancestor += "/" + component
            let children: [String]
            do {
                children = try await client.getChildren(QuotaStats.quotaRoot + ancestor).children
            } catch let error as ZooKeeperError where error.isNoNode {
                break
            }
            if children.contains(QuotaStats.limitNode) {
                throw ShellError("\(path) has a parent \(ancestor) which has a quota")
            }
        }
        let quotaNode = QuotaStats.quotaPath(for: path)
        do {
            try await SubtreeWalker(client: client).walk(quotaNode) { node in
                if node.depth > 0 && node.children.contains(QuotaStats.limitNode) {
                    throw ShellError("\(path) has a child \(node.path.dropFirst(QuotaStats.quotaRoot.count)) which has a quota")
                }
            }
        } catch let error as ZooKeeperError where error.isNoNode {
            return
        }
    }
}
