import ArgumentParser
import ZooKeeperClient

/// `addauth SCHEME AUTH`: adds credentials to the session.
struct AddAuthCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "addauth",
        abstract: "Add credentials to the session.",
        discussion: """
            The credentials stay with the session and are sent again after a reconnect; a new \
            session (connect) starts without them unless given with connect --auth. A rejected \
            credential ends the session (AUTHFAILED).

            Examples:
              addauth digest bob:secret
              addauth digest bob:secret; getAcl /app
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The scheme (digest, or any the server knows).")
    var scheme: String

    @Argument(help: ArgumentHelp("The credentials (digest: user:password).", valueName: "auth"))
    var auth: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        try await client.addAuth(scheme: scheme, auth: Array(auth.utf8))
        if output.wantsJSON(context) {
            context.printJSON(["scheme": .string(scheme), "added": true])
        }
    }
}
