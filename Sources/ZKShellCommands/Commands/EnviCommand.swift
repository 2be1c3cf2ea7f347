import ArgumentParser
import ZooKeeperClient

/// `envi`: the environment of every member.
struct EnviCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "envi",
        abstract: "Show the environment of every ensemble member.",
        discussion: """
            Sends the four-letter word envi to every server of the connect string at once and \
            prints one section per member with its key=value lines. A member that does not \
            answer is shown as down.

            Exit status: 0 when at least one member answered, 1 when none did.

            Examples:
              envi
              envi --json
            """)

    @OptionGroup var ensemble: EnsembleOptions

    func run(in context: ShellContext) async throws {
        let replies = try await EnsemblePoll.send("envi", context: context, wait: ensemble.wait)
        let environments = replies.map { $0.reply.map(FourLetterWordReply.environment) ?? OrderedValues() }
        if ensemble.output.wantsJSON(context) {
            context.printJSON(["members": .array(zip(replies, environments).map { EnsemblePoll.json($0, ["environment": $1.json]) })])
        } else {
            for (reply, environment) in zip(replies, environments) {
                context.print(EnsemblePoll.heading(reply))
                for (key, value) in environment.pairs { context.print("\(key)=\(value)") }
            }
        }
        try EnsemblePoll.requireAnyAnswer(replies)
    }
}
