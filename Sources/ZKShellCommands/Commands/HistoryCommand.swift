import ArgumentParser

/// `history [N]`: prints the entered lines, numbered.
struct HistoryCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List the lines entered so far, numbered.",
        discussion: """
            The interactive shell keeps its history in ~/.zksh_history.

            Examples:
              history
              history 10
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "Show only the last N lines.")
    var count: Int?

    func validate() throws {
        if let count, count < 0 { throw ValidationError("N must not be negative") }
    }

    func run(in context: ShellContext) async throws {
        let history = context.history
        let first = max(0, history.count - (count ?? history.count))
        if output.wantsJSON(context) {
            context.printJSON(["history": .array(history[first...].map(JSONValue.string))])
            return
        }
        let width = String(history.count).count
        for (index, line) in history.enumerated().dropFirst(first) {
            let number = String(index + 1)
            context.print(String(repeating: " ", count: max(0, width - number.count) + 2) + number + "  " + line)
        }
    }
}
