import ArgumentParser
import ZooKeeperClient

/// `connect [HOSTS]`: opens a new session, closing the current one.
struct ConnectCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Open a new session (closing the current one).",
        discussion: """
            Without HOSTS, connects again to the current servers. --auth replaces the \
            credentials sent when a session opens (those of zksh --auth otherwise); they are sent \
            again after every reconnect. --sasl replaces the SASL login, and the --tls options \
            the TLS settings, for this and later sessions.

            Examples:
              connect
              connect 127.0.0.1:2181,127.0.0.1:2182
              connect zk1:2181/app --timeout 5
              connect --auth digest:bob:secret
              connect zk1:2181 --auth digest:bob:secret --auth digest:ops:pw
              connect zk1:2281 --tls-ca ca.pem --tls-cert client.pem --tls-key client-key.pem
              connect --sasl bob:secret
            """)

    @Argument(help: "Servers as host:port[,host:port…][/chroot] (default: the current servers).")
    var hosts: String?

    @Option(help: "Seconds to wait for the session before giving up.")
    var timeout: Double?

    @Option(name: .customLong("session-timeout"), help: "Session timeout in seconds to ask the server for.")
    var sessionTimeout: Double?

    @OptionGroup var authentication: AuthOptions

    @OptionGroup var tls: TLSOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if let sessionTimeout, !(sessionTimeout > 0) {
            throw ValidationError("--session-timeout must be a positive number of seconds")
        }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.connect(
            to: hosts, connectTimeout: timeout.map(Duration.seconds), sessionTimeout: sessionTimeout.map(Duration.seconds),
            credentials: authentication.auth.isEmpty ? nil : authentication.credentials,
            tls: tls.clientOptions, sasl: authentication.saslCredential)
        if output.wantsJSON(context) {
            let host = await client.connectedHost.map { "\($0)" }
            context.printJSON([
                "connectString": .string(context.connectString),
                "server": host.map(JSONValue.string) ?? .null,
                "sessionId": .string(StatFormatter.hex(await client.sessionID)),
                "sessionTimeout": .integer(Int64(await client.negotiatedTimeout)),
            ])
        }
    }
}
