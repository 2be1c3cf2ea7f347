import ArgumentParser
import ZooKeeperClient

/// `ruok`: asks every member whether it is running.
struct RuokCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruok",
        abstract: "Ask every ensemble member whether it runs (imok).",
        discussion: """
            Sends the four-letter word ruok to every server of the connect string at once and \
            prints a row per member with its answer (imok) or why it did not answer. imok only \
            means the process runs; srvr and leader tell whether it serves.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              ruok
              ruok --json
            """)

    @OptionGroup var ensemble: EnsembleOptions

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("ruok", context: context, wait: ensemble.wait)
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(replies.map { reply in
                EnsemblePoll.json(reply, ["reply": reply.reply.map { .string($0) } ?? .null])
            })])
        } else {
            var table = TextTable(headers: ["MEMBER", "STATUS", "REPLY"])
            for reply in replies {
                table.rows.append([reply.member, reply.status, reply.reply ?? reply.problem ?? ""])
            }
            context.write(Array(table.rendered().utf8))
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }
}
