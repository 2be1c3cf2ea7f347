import ArgumentParser

/// `help [COMMAND]`: lists the commands, or shows one command's generated help.
struct ShellHelpCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "help",
        abstract: "List the commands, or explain one.",
        discussion: """
            Examples:
              help
              help create
              create --help
            """)

    @Argument(help: "The command to explain.")
    var command: String?

    func run(in context: ShellContext) async throws {
        guard let command else {
            context.write(Array(context.registry.overview().utf8))
            return
        }
        guard let type = context.registry.command(named: command) else {
            throw UsageError(message: "unknown command '\(command)' (type 'help' for a list)")
        }
        context.write(Array((context.registry.helpMessage(for: type) + "\n").utf8))
    }
}
