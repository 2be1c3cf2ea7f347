import ArgumentParser

/// `close`: ends the session; the server deletes its ephemeral nodes.
struct CloseCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close the session (its ephemeral nodes are deleted).",
        discussion: """
            Later commands fail until 'connect'.

            Examples:
              close
              close; connect 127.0.0.1:2182
            """)

    func run(in context: ShellContext) async throws {
        try await context.disconnect()
    }
}
