import ArgumentParser
import ZooKeeperClient

/// `set [-s] [-v VERSION] PATH [DATA]`: replaces a node's data.
struct SetCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Replace the data of a node.",
        discussion: """
            Without DATA the data is read from standard input when that is piped (not when the \
            script itself comes from standard input).

            Examples:
              set /app/config "max=10"
              set -v 3 /app/config 'max=10'
              set -s /app/flag ''
              zksh -c 'set /app/config' < config.txt
            """)

    @Flag(name: .customShort("s"), help: "Print the node's new stat.")
    var stat = false

    @Option(name: .customShort("v"), parsing: .unconditional,
            help: ArgumentHelp("Only set if the node's data version is this (-1: any).", valueName: "version"))
    var version: Int32 = -1

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    @Argument(help: "The new data (default: standard input when piped).")
    var data: String?

    var sendsOneRequest: Bool { data != nil }

    func run(in context: ShellContext) async throws {
        let path = context.resolve(self.path)
        let bytes: [UInt8]
        if let data {
            bytes = Array(data.utf8)
        } else {
            bytes = try await context.readDataFromStandardInput()
        }
        let client = try await context.client()
        let newStat = try await client.setData(path, data: bytes, version: version)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "stat": StatFormatter.json(newStat)])
        } else if stat {
            context.write(Array(StatFormatter.text(newStat, times: context.timeText).utf8))
        }
    }
}
