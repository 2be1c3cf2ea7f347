import ArgumentParser
import ZooKeeperClient

/// `leader`: which member leads, from the `Mode:` lines of `srvr`.
struct LeaderCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader",
        abstract: "Show which ensemble member leads, with its zxid and epoch.",
        discussion: """
            Sends the four-letter word srvr to every server of the connect string at once and \
            prints a row per member with its mode (leader, follower, observer, standalone, or \
            down/not serving), zxid and epoch (the zxid's high 32 bits), then a last line \
            'leader: HOST:PORT zxid 0x… epoch N'. A standalone server counts as its own leader.

            With -q only the leader's HOST:PORT is printed.

            Exit status: 0 when a leader was found, 1 otherwise (no member answered, or no \
            quorum).

            Examples:
              leader
              leader -q
              leader --json
            """)

    @Flag(name: .customShort("q"), help: "Print only the leader's HOST:PORT.")
    var quiet = false

    @OptionGroup var ensemble: EnsembleOptions

    /// One member's view.
    struct Row: Equatable {
        var member: String
        var status: String
        var mode: String?
        var zxid: Int64?
    }

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("srvr", context: context, wait: ensemble.wait)
        let rows = replies.map(Self.row)
        let leader = Self.leader(of: rows)
        if ensemble.output.wantsJSON(context) {
            context.printJSON([
                "leader": leader.map { .string($0.member) } ?? .null,
                "zxid": leader?.zxid.map { .string(StatFormatter.hex($0)) } ?? .null,
                "epoch": leader?.zxid.map { .integer(FourLetterWordReply.epoch(ofZxid: $0)) } ?? .null,
                "members": .array(zip(replies, rows).map { reply, row in
                    EnsemblePoll.json(reply, [
                        "mode": row.mode.map { .string($0) } ?? .null,
                        "zxid": row.zxid.map { .string(StatFormatter.hex($0)) } ?? .null,
                        "epoch": row.zxid.map { .integer(FourLetterWordReply.epoch(ofZxid: $0)) } ?? .null,
                    ])
                }),
            ])
        } else if quiet {
            if let leader { context.print(leader.member) }
        } else {
            context.write(Array(Self.table(rows).utf8))
            context.print(Self.summary(leader))
        }
        guard leader != nil else {
            throw EnsemblePoll.anyUp(replies) ? ShellError("no leader (no quorum?)") : ShellError("no member answered")
        }
    }

    static func row(_ reply: MemberReply) -> Row {
        guard let text = reply.reply else { return Row(member: reply.member, status: reply.status) }
        let summary = FourLetterWordReply.summary(text)
        return Row(member: reply.member, status: reply.status, mode: summary["Mode"],
                   zxid: summary["Zxid"].flatMap(FourLetterWordReply.zxid))
    }

    /// The member in mode leader, or the one standalone server.
    static func leader(of rows: [Row]) -> Row? {
        rows.first { $0.mode == "leader" } ?? rows.first { $0.mode == "standalone" }
    }

    static func table(_ rows: [Row]) -> String {
        var table = TextTable(headers: ["MEMBER", "MODE", "ZXID", "EPOCH"])
        for row in rows {
            table.rows.append([
                row.member, row.mode ?? row.status, row.zxid.map(StatFormatter.hex) ?? "",
                row.zxid.map { String(FourLetterWordReply.epoch(ofZxid: $0)) } ?? "",
            ])
        }
        return table.rendered()
    }

    static func summary(_ leader: Row?) -> String {
        guard let leader else { return "leader: none" }
        var line = "leader: \(leader.member)"
        if let zxid = leader.zxid { line += " zxid \(StatFormatter.hex(zxid)) epoch \(FourLetterWordReply.epoch(ofZxid: zxid))" }
        return line
    }
}
