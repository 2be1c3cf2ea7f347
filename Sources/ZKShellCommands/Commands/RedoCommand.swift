import ArgumentParser

/// `redo N`: runs history entry N again.
struct RedoCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "redo",
        abstract: "Run an earlier line again, by its number in 'history'.",
        discussion: """
            In a script the history holds the script's earlier commands. The line is shown on \
            standard error in the interactive shell, then run; a line that itself is a redo is \
            refused.

            Examples:
              history
              redo 3
            """)

    @Argument(help: ArgumentHelp("The history number.", valueName: "N"))
    var number: Int

    func validate() throws {
        if number < 1 { throw ValidationError("N must be 1 or more") }
    }

    func run(in context: ShellContext) async throws {
        let history = context.history
        guard number <= history.count else {
            throw ShellError("no history entry \(number) (there \(history.count == 1 ? "is" : "are") \(history.count))")
        }
        let line = history[number - 1]
        let commands: [[String]]
        do {
            commands = try ShellTokenizer.commands(in: line)
        } catch {
            throw UsageError(message: "history entry \(number): \(error.description)")
        }
        if commands.contains(where: { $0.first.flatMap { context.registry.command(named: $0) } == RedoCommand.self }) {
            throw ShellError("history entry \(number) is itself a redo: '\(line)'")
        }
        if context.lineEditor != nil { context.output.writeError(line + "\n") }
        for words in commands {
            switch try context.registry.parse(words) {
            case .help(let text):
                context.write(Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
            case .command(let command):
                try await command.run(in: context)
            }
            if context.exitRequested { return }
        }
    }
}
