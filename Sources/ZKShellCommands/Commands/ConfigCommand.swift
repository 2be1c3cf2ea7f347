import ArgumentParser
import ZooKeeperClient

/// `config [-c] [-w] [-s]`: prints the ensemble's dynamic configuration.
struct ConfigCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the ensemble's configuration (/zookeeper/config).",
        discussion: """
            Prints the server.N=… membership lines and version=…; a standalone server without \
            dynamic reconfiguration has an empty configuration. With --json, "members" lists \
            the server lines and "version" is the hex configuration version (or null).

            Examples:
              config
              config -c
              config -s
              config -w
            """)

    @Flag(name: .customShort("c"), help: "Print only the membership (server.N=…) lines.")
    var membersOnly = false

    @Flag(name: .customShort("w"), help: "Leave a watch; print the event when the configuration changes (not with a chroot).")
    var watch = false

    @Flag(name: .customShort("s"), help: "Also print the stat of /zookeeper/config.")
    var stat = false

    @OptionGroup var output: OutputOptions

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let data: [UInt8]
        let stat: Stat
        if watch {
            let result = try await client.getDataAndWatch("/zookeeper/config")
            (data, stat) = (result.data, result.stat)
            context.printWhenFired(result.watch)
        } else {
            (data, stat) = try await client.getConfig()
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        let members = lines.filter { $0.hasPrefix("server.") }
        if output.wantsJSON(context) {
            let version = lines.first { $0.hasPrefix("version=") }.map { String($0.dropFirst("version=".count)) }
            var document: [String: JSONValue] = [
                "members": .array(members.map(JSONValue.string)),
                "version": version.map(JSONValue.string) ?? .null,
            ]
            if !membersOnly { document["config"] = .string(String(decoding: data, as: UTF8.self)) }
            if self.stat { document["stat"] = StatFormatter.json(stat) }
            context.printJSON(.object(document))
            return
        }
        for line in membersOnly ? members : lines { context.print(line) }
        if self.stat { context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8)) }
    }
}
