import ArgumentParser
import ZooKeeperClient

/// `srvr`: the `srvr` summary of every member as one table.
struct SrvrCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "srvr",
        abstract: "Show the srvr summary of every ensemble member.",
        discussion: """
            Sends the four-letter word srvr to every server of the connect string at once and \
            prints one table: a row per member, a column per field (Mode, Zxid, Latency \
            min/avg/max, Received, Sent, Connections, Outstanding, Node count, version). A \
            member that does not answer is shown as down.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              srvr
              srvr --json
              zksh -s zk1:2181,zk2:2181,zk3:2181 srvr
            """)

    @OptionGroup var ensemble: EnsembleOptions

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("srvr", context: context, wait: ensemble.wait)
        let summaries = replies.map { $0.reply.map(FourLetterWordReply.summary) ?? OrderedValues() }
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(zip(replies, summaries).map { EnsemblePoll.json($0, ["values": $1.json]) })])
        } else {
            context.write(Array(Self.table(replies, summaries).utf8))
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }

    /// MEMBER, STATUS, then the fields in the order the servers print them, the version last
    /// and shortened.
    static func table(_ replies: [MemberReply], _ summaries: [OrderedValues]) -> String {
        let version = "Zookeeper version"
        var keys: [String] = []
        for summary in summaries {
            for key in summary.keys where key != version && !keys.contains(key) { keys.append(key) }
        }
        let hasVersion = summaries.contains { $0[version] != nil }
        var table = TextTable(headers: ["MEMBER", "STATUS"] + keys.map { $0.uppercased() } + (hasVersion ? ["VERSION"] : []))
        for (reply, summary) in zip(replies, summaries) {
            table.rows.append([reply.member, reply.status] + keys.map { summary[$0] ?? "" }
                + (hasVersion ? [FourLetterWordReply.shortVersion(summary[version] ?? "")] : []))
        }
        return table.rendered()
    }
}
