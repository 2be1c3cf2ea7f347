import ArgumentParser
import ZooKeeperClient

/// `whoami`: prints the identities the session holds.
struct WhoAmICommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Print the identities the session holds.",
        discussion: """
            Prints zkCli.sh's table: a header line 'Auth scheme: User', then one 'scheme: user' \
            line per identity (ip: 127.0.0.1, digest: bob, …). Needs ZooKeeper 3.8 or later.

            Examples:
              whoami
              addauth digest bob:secret; whoami
              whoami --json
            """)

    @OptionGroup var output: OutputOptions

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let identities = try await client.whoAmI()
        if output.wantsJSON(context) {
            context.printJSON(["identities": .array(identities.map { ["scheme": .string($0.authScheme), "user": .string($0.user)] })])
            return
        }
        context.print("Auth scheme: User")
        for identity in identities { context.print("\(identity.authScheme): \(identity.user)") }
    }
}
