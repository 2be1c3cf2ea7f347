import ArgumentParser
import Foundation
import ZooKeeperClient

/// `reconfig`: changes an ensemble's membership (ZooKeeper 3.5+ dynamic reconfiguration), as
/// zkCli.sh's command does.
struct ReconfigCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconfig",
        abstract: "Change the ensemble's membership (dynamic reconfiguration).",
        discussion: """
            Incremental: -add server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort \
            (repeatable, or comma-separated) and -remove N (repeatable, or comma-separated). \
            Whole: -members with the complete list, or -file with a file of server.N= lines (a \
            dynamic configuration file). -v applies the change only if the configuration is \
            still at that version (hex, as config prints it). The servers need \
            reconfigEnabled=true, and by default only the superuser may reconfigure (connect with \
            --auth digest:super:PASSWORD; in the shell's own zksh --ensemble, zksh does that). \
            Prints the committed configuration.

            Examples:
              reconfig -add server.4=127.0.0.1:2891:3891:participant;127.0.0.1:2184
              reconfig -remove 3
              reconfig -members server.1=h1:2888:3888;2181,server.2=h2:2888:3888;2181 -v 100000005
              reconfig -file new.cfg.dynamic
            """)

    @Option(name: .customLong("add", withSingleDash: true), help: ArgumentHelp("Members to add: server.N=….", valueName: "server"))
    var add: [String] = []

    @Option(name: .customLong("remove", withSingleDash: true), help: ArgumentHelp("Member ids to remove.", valueName: "ids"))
    var remove: [String] = []

    @Option(name: .customLong("members", withSingleDash: true), help: ArgumentHelp("The whole new membership: server.N=…,server.M=….", valueName: "servers"))
    var members: String?

    @Option(name: .customLong("file", withSingleDash: true), help: ArgumentHelp("A file whose server.N= lines are the whole new membership.", valueName: "path"))
    var file: String?

    @Option(name: .customShort("v"), help: ArgumentHelp("Only if the configuration is at this version (hex).", valueName: "version"))
    var version: String?

    @Flag(name: .customShort("s"), help: "Also print the stat of /zookeeper/config.")
    var stat = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        let incremental = !add.isEmpty || !remove.isEmpty
        let whole = (members != nil ? 1 : 0) + (file != nil ? 1 : 0)
        if !incremental && whole == 0 { throw ValidationError("give -add/-remove, -members or -file") }
        if incremental && whole > 0 { throw ValidationError("-members and -file replace the whole membership; do not combine them with -add or -remove") }
        if whole > 1 { throw ValidationError("give either -members or -file") }
        if let version, Int64(version.hasPrefix("0x") ? String(version.dropFirst(2)) : version, radix: 16) == nil {
            throw ValidationError("-v takes a hexadecimal configuration version, such as 100000005")
        }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        var newMembers = members
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ShellError("reconfig: cannot read \(file): \(error.localizedDescription)")
            }
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("server.") }
            guard !lines.isEmpty else { throw ShellError("reconfig: \(file) has no server.N= lines") }
            newMembers = lines.joined(separator: ",")
        }
        let fromConfig = version.flatMap { Int64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) } ?? -1
        let whole = newMembers
        let joining = add.isEmpty ? nil : add.joined(separator: ",")
        let leaving = remove.isEmpty ? nil : remove.joined(separator: ",")
        let (data, stat): ([UInt8], Stat)
        if let local = context.localEnsemble, EnsembleCommand.isConnected(to: local, context) {
            // The shell's own ensemble: reconfigure as its superuser, as `ensemble add` does.
            let leavingIDs = Set(remove.flatMap { $0.split(separator: ",") }.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
            (data, stat) = try await EnsembleCommand.asSuperuser(local, context, excluding: leavingIDs.count == 1 ? leavingIDs.first : nil) { admin in
                try await admin.reconfig(joining: joining, leaving: leaving, newMembers: whole, fromConfig: fromConfig)
            }
        } else {
            (data, stat) = try await client.reconfig(joining: joining, leaving: leaving, newMembers: newMembers, fromConfig: fromConfig)
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        if output.wantsJSON(context) {
            var document: [String: JSONValue] = [
                "config": .string(text),
                "members": .array(lines.filter { $0.hasPrefix("server.") }.map(JSONValue.string)),
                "version": lines.first { $0.hasPrefix("version=") }.map { .string(String($0.dropFirst("version=".count))) } ?? .null,
            ]
            if self.stat { document["stat"] = StatFormatter.json(stat) }
            context.printJSON(.object(document))
            return
        }
        context.print("Committed new configuration:")
        for line in lines { context.print(line) }
        if self.stat { context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8)) }
    }
}
