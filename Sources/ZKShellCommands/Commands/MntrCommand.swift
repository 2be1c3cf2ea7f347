import ArgumentParser
import ZooKeeperClient

/// `mntr [-k KEYS] [-l]`: the `mntr` metrics of every member as one table.
struct MntrCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "mntr",
        abstract: "Show the mntr metrics of every ensemble member.",
        discussion: """
            Sends the four-letter word mntr to every server of the connect string at once and \
            prints one table: a row per member, a column per metric (the zk_ prefix dropped). \
            A member that does not answer is shown as down; the others are still shown. The \
            servers need the word in 4lw.commands.whitelist.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              mntr
              mntr -k znode_count,watch_count,last_zxid
              mntr -l
              mntr --json
            """)

    /// The columns shown without -k.
    static let defaultKeys = [
        "zk_server_state", "zk_version", "zk_avg_latency", "zk_max_latency", "zk_num_alive_connections",
        "zk_outstanding_requests", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
        "zk_followers", "zk_synced_followers",
    ]

    @Option(name: .customShort("k"), help: ArgumentHelp("Show these metrics (comma-separated, with or without zk_).", valueName: "keys"))
    var keys: [String] = []

    @Flag(name: [.customShort("l"), .customLong("long")], help: "Print every metric of each member, one section per member.")
    var long = false

    @OptionGroup var ensemble: EnsembleOptions

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("mntr", context: context, wait: ensemble.wait)
        let metrics = replies.map { $0.reply.map(FourLetterWordReply.monitor) ?? OrderedValues() }
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(zip(replies, metrics).map { EnsemblePoll.json($0, ["metrics": $1.json]) })])
        } else if long {
            for (reply, values) in zip(replies, metrics) {
                context.print(EnsemblePoll.heading(reply))
                for (key, value) in values.pairs { context.print("\(key)\t\(value)") }
            }
        } else {
            context.write(Array(Self.table(replies, metrics, keys: selectedKeys, explicit: !keys.isEmpty).utf8))
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }

    var selectedKeys: [String] {
        let chosen = keys.flatMap { $0.split(separator: ",").map(String.init) }
        if chosen.isEmpty { return Self.defaultKeys }
        return chosen.map { $0.hasPrefix("zk_") ? $0 : "zk_" + $0 }
    }

    /// The table: MEMBER, STATUS, then one column per key that some member reported (or that
    /// was asked for by name).
    static func table(_ replies: [MemberReply], _ metrics: [OrderedValues], keys: [String], explicit: Bool = false) -> String {
        let shown = keys.filter { key in explicit || metrics.contains { $0[key] != nil } }
        var table = TextTable(headers: ["MEMBER", "STATUS"] + shown.map { String($0.dropFirst(3)).uppercased() })
        for (reply, values) in zip(replies, metrics) {
            table.rows.append([reply.member, reply.status] + shown.map { key in
                let value = values[key] ?? ""
                return key == "zk_version" ? FourLetterWordReply.shortVersion(value) : value
            })
        }
        return table.rendered()
    }
}
