import ArgumentParser
import ZooKeeperClient

/// `getAcl [-s] PATH`: prints a node's ACL the way zkCli.sh does.
struct GetAclCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "getAcl",
        abstract: "Print the ACL of a node.",
        discussion: """
            Prints two lines per entry, like zkCli.sh: the quoted scheme and id \
            ('world,'anyone), then the permissions (: cdrwa).

            Examples:
              getAcl /app
              getAcl -s /app/config
              getAcl --json /app
            """,
        aliases: ["getacl"])

    @Flag(name: .customShort("s"), help: "Also print the node's stat.")
    var stat = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    var sendsOneRequest: Bool { true }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let (acl, stat) = try await client.getACL(path)
        if output.wantsJSON(context) {
            var document: [String: JSONValue] = ["path": .string(path), "acl": ACLText.json(acl)]
            if self.stat { document["stat"] = StatFormatter.json(stat) }
            context.printJSON(.object(document))
            return
        }
        context.write(Array(ACLText.text(acl).utf8))
        if self.stat { context.write(Array(StatFormatter.text(stat, times: context.timeText).utf8)) }
    }
}
