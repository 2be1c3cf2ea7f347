import ArgumentParser
import ZooKeeperClient

/// `get [-s] [-w] [-b|-x|--raw] PATH`: prints a node's data.
struct GetCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the data of a node.",
        discussion: """
            Text is printed as it is. Data that is not printable UTF-8 is shown as a hex dump on a \
            terminal and written unchanged when the output is redirected; -b and -x choose a \
            format, and --raw writes the bytes unchanged even to a terminal (no newline is \
            added). With --json, "data" is the text (null when binary) and "dataBase64" always \
            holds the bytes.

            Examples:
              get /app/config
              get -s /app/config
              get -w /app/config
              get -x /app/blob
              get -b /app/blob > blob.b64
              get --raw /app/blob | xxd
            """)

    @Flag(name: .customShort("s"), help: "Also print the node's stat.")
    var stat = false

    @Flag(name: .customShort("w"), help: "Leave a watch; print the event when the data changes.")
    var watch = false

    @Flag(name: .customShort("b"), help: "Print the data as base64.")
    var base64 = false

    @Flag(name: .customShort("x"), help: "Print the data as a hex dump.")
    var hex = false

    @Flag(help: "Write the data bytes unchanged, even to a terminal (no newline added).")
    var raw = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    func validate() throws {
        if base64 && hex { throw ValidationError("-b and -x cannot be combined") }
        if raw && (base64 || hex) { throw ValidationError("--raw cannot be combined with -b or -x") }
    }

    var format: DataFormat { base64 ? .base64 : hex ? .hexDump : raw ? .raw : .automatic }

    var sendsOneRequest: Bool { !watch }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let data: [UInt8]
        let stat: Stat
        if watch {
            let result = try await client.getDataAndWatch(path)
            (data, stat) = (result.data, result.stat)
            context.printWhenFired(result.watch)
        } else {
            (data, stat) = try await client.getData(path)
        }
        if output.wantsJSON(context) {
            context.printJSON(Self.json(path: path, data: data, stat: stat))
            return
        }
        context.write(DataRenderer.render(data, format: format, toTerminal: context.output.outputIsTerminal))
        if self.stat { context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8)) }
    }

    /// `{"path":…,"data":"<text or null>","dataBase64":"…","stat":{…}}`.
    static func json(path: String, data: [UInt8], stat: Stat) -> JSONValue {
        [
            "path": .string(path),
            "data": DataRenderer.jsonText(data).map(JSONValue.string) ?? .null,
            "dataBase64": .string(DataRenderer.base64(data)),
            "stat": StatFormatter.json(stat),
        ]
    }
}
