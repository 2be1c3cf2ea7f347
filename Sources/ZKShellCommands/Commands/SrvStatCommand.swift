import ArgumentParser
import ZooKeeperClient

/// `srvstat`: the four-letter word `stat` (server summary plus clients) of every member.
///
/// Named `srvstat` because `stat` is the znode command of zkCli.sh.
struct SrvStatCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "srvstat",
        abstract: "Show the server stat (summary, clients) of every ensemble member.",
        discussion: """
            Sends the four-letter word stat to every server of the connect string at once and \
            prints one section per member: its summary fields (as srvr) and its client \
            connections. (The shell's stat command prints a znode's stat; this is the server's.) \
            A member that does not answer is shown as down.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              srvstat
              srvstat --json
            """)

    @OptionGroup var ensemble: EnsembleOptions

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("stat", context: context, wait: ensemble.wait)
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(replies.map { reply in
                guard let text = reply.reply else { return EnsemblePoll.json(reply, [:]) }
                return EnsemblePoll.json(reply, [
                    "values": FourLetterWordReply.summary(text).json,
                    "clients": .array(FourLetterWordReply.connections(text).map(\.json)),
                ])
            })])
        } else {
            for reply in replies {
                context.print(EnsemblePoll.heading(reply))
                guard let text = reply.reply else { continue }
                for (key, value) in FourLetterWordReply.summary(text).pairs { context.print("\(key): \(value)") }
                let clients = FourLetterWordReply.connections(text)
                context.print("Clients: \(clients.count)")
                for client in clients {
                    context.print("  \(client.client) " + client.values.pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                }
            }
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }
}
