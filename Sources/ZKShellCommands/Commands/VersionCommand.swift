import ArgumentParser

/// `version`: prints zksh's version and the client protocol it speaks.
struct VersionCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the zksh version and the client protocol version.",
        discussion: """
            Examples:
              version
              version --json
            """)

    /// zksh's version.
    static let zkshVersion = "0.1.0"
    /// The protocol version the client sends in its ConnectRequest (ZooKeeper's only one, 0).
    static let protocolVersion = 0
    /// The newest server release whose requests the client implements.
    static let serverCompatibility = "3.9"

    @OptionGroup var output: OutputOptions

    func run(in context: ShellContext) async throws {
        if output.wantsJSON(context) {
            context.printJSON([
                "version": .string(Self.zkshVersion),
                "protocolVersion": .integer(Int64(Self.protocolVersion)),
                "zookeeper": .string(Self.serverCompatibility),
            ])
        } else {
            context.print("zksh version \(Self.zkshVersion), client protocol version \(Self.protocolVersion) (ZooKeeper \(Self.serverCompatibility) requests)")
        }
    }
}
