import ArgumentParser
import ZooKeeperClient

/// `cons`: the client connections of every member.
struct ConsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "cons",
        abstract: "List the client connections of every ensemble member.",
        discussion: """
            Sends the four-letter word cons to every server of the connect string at once and \
            prints one section per member with a table of its connections: client address, \
            session id, last operation, queued/received/sent packets, session timeout and \
            latencies. A member that does not answer is shown as down.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              cons
              cons --json
            """)

    @OptionGroup var ensemble: EnsembleOptions

    static let columns = ["sid", "lop", "queued", "recved", "sent", "to", "minlat", "avglat", "maxlat"]

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("cons", context: context, wait: ensemble.wait)
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(replies.map { reply in
                guard let text = reply.reply else { return EnsemblePoll.json(reply, [:]) }
                return EnsemblePoll.json(reply, ["connections": .array(FourLetterWordReply.connections(text).map(\.json))])
            })])
        } else {
            for reply in replies {
                context.print(EnsemblePoll.heading(reply))
                guard let text = reply.reply else { continue }
                context.write(Array(Self.table(FourLetterWordReply.connections(text)).utf8))
            }
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }

    static func table(_ connections: [FourLetterWordReply.Connection]) -> String {
        var table = TextTable(headers: ["CLIENT"] + columns.map { $0.uppercased() })
        for connection in connections {
            table.rows.append([connection.client] + columns.map { connection.values[$0] ?? "" })
        }
        return table.rendered()
    }
}
