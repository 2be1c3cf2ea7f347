import ArgumentParser

/// `quit` / `exit`: leaves the shell, closing the session.
struct QuitCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "quit",
        abstract: "Close the session and leave the shell.",
        discussion: """
            Ctrl-D at the prompt does the same. In a script, stops the script.

            Examples:
              quit
              exit
            """,
        aliases: ["exit"])

    func run(in context: ShellContext) async throws {
        context.requestExit()
    }
}
