import ArgumentParser
import Foundation
import ZooKeeperClient

/// `setAcl [-s] [-v VERSION] [-R] PATH ACL`: replaces a node's ACL.
struct SetAclCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "setAcl",
        abstract: "Replace the ACL of a node (or of a whole subtree).",
        discussion: """
            ACL is a comma-separated list of scheme:id:perms entries, as in zkCli.sh; perms are \
            letters of c (create), d (delete), r (read), w (write), a (admin). Ids may contain \
            colons (digest hashes): the permissions are the part after the last colon. The \
            scheme auth (auth::cdrwa) stands for every identity this session has added.

            Examples:
              setAcl /app world:anyone:r
              setAcl /app digest:bob:Jvd6Wj0Ks3Cv4RqD5q8+7TqQ6jY=:cdrwa,world:anyone:r
              addauth digest bob:secret; setAcl /app auth::cdrwa
              setAcl -v 2 -s /app ip:10.0.0.0/8:rw
              setAcl -R /app world:anyone:cdrwa
            """,
        aliases: ["setacl"])

    @Flag(name: .customShort("s"), help: "Print the node's new stat.")
    var stat = false

    @Option(name: .customShort("v"), parsing: .unconditional,
            help: ArgumentHelp("Only set if the node's ACL version is this (-1: any).", valueName: "version"))
    var version: Int32 = -1

    @Flag(name: .customShort("R"), help: "Set the ACL of every node of the subtree.")
    var recursive = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    @Argument(help: ArgumentHelp("scheme:id:perms[,scheme:id:perms…]", valueName: "acl"))
    var acl: String

    func validate() throws {
        do {
            _ = try ACLText.parse(acl)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run(in context: ShellContext) async throws {
        let acl = try ACLText.parse(self.acl)
        let client = try await context.client()
        let path = context.resolve(self.path)
        if recursive {
            let count = try await setRecursively(path, acl: acl, client: client)
            if output.wantsJSON(context) {
                context.printJSON(["path": .string(path), "acl": ACLText.json(acl), "updated": .integer(Int64(count))])
            }
            return
        }
        let newStat = try await client.setACL(path, acl: acl, version: version)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "acl": ACLText.json(acl), "stat": StatFormatter.json(newStat)])
        } else if stat {
            context.write(Array(StatFormatter.text(newStat, times: context.timeText).utf8))
        }
    }

    /// Sets the ACL node by node, each node after its descendants (so an ACL without read
    /// permission cannot stop the walk half way). Returns how many nodes were updated.
    private func setRecursively(_ root: String, acl: [ACL], client: ZooKeeperClient) async throws -> Int {
        var count = 0
        try await SubtreeWalker(client: client).walk(root, enter: { _ in }, leave: { node in
            do {
                try await client.setACL(node.path, acl: acl, version: version)
                count += 1
            } catch let error as ZooKeeperError where error.isNoNode && node.depth > 0 {
                return
            }
        })
        return count
    }
}
