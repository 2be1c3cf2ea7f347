import ArgumentParser
import ZooKeeperClient

/// `listquota PATH`: prints a node's quota and usage, as zkCli.sh does.
struct ListQuotaCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "listquota",
        abstract: "Print the quota of a node and its current usage.",
        discussion: """
            Reads /zookeeper/quota/<path>/zookeeper_limits and zookeeper_stats and prints them \
            as zkCli.sh does ('Output quota for /app count=10,bytes=-1=;byteHardLimit=-1;\
            countHardLimit=-1', then 'Output stat for /app count=3,bytes=12'). -1 means no limit; \
            count includes the node itself.

            Examples:
              listquota /app
              listquota --json /app
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let quotaNode = QuotaStats.quotaPath(for: path)
        let limits: QuotaStats
        let usage: QuotaStats
        do {
            limits = try QuotaStats(parsing: String(decoding: try await client.getData(quotaNode + "/" + QuotaStats.limitNode).data, as: UTF8.self))
            usage = try QuotaStats(parsing: String(decoding: try await client.getData(quotaNode + "/" + QuotaStats.statNode).data, as: UTF8.self))
        } catch let error as ZooKeeperError where error.isNoNode {
            throw ShellError("quota for \(path) does not exist.")
        }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "quota": limits.json, "stat": usage.json])
            return
        }
        context.print("Output quota for \(path) \(limits.text)")
        context.print("Output stat for \(path) \(usage.text)")
    }
}
