import ArgumentParser
import ZooKeeperClient

/// `export PATH FILE`: writes a subtree to a JSON file.
struct ExportCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a subtree (data, ACLs, modes) to a JSON file.",
        discussion: """
            FILE - writes to standard output. The file holds one object per node, children \
            nested, written as the walk goes (memory stays bounded by the tree's depth):

              {"path": "/app", "data": "text", "acl": ["world:anyone:cdrwa"],
               "mode": "persistent", "children": [
                 {"path": "/app/blob", "data": null, "dataBase64": "AAEC", ...},
                 {"path": "/app/lock", "data": "", "mode": "ephemeral", ...}]}

            data is the node's data when it is UTF-8, else null and dataBase64 holds it; acl \
            entries are scheme:id:perms as setAcl takes them; mode is persistent, ephemeral, \
            container or ttl (then "ttl": milliseconds). ZooKeeper shows container and TTL \
            nodes to clients as persistent ones, so exports say persistent for them. children \
            is always the last member. The server's /zookeeper subtree is skipped. PATH may be \
            zk://host:port/path to export from another cluster.

            Examples:
              export /app app.json
              export / - > everything.json
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node of the subtree (or zk://hosts/path).")
    var path: String

    @Argument(help: "The file to write (- for standard output).", completion: .file())
    var file: String

    func validate() throws {
        do { _ = try TreeLocation(path, allowsFile: false) } catch { throw ValidationError(error.message) }
    }

    func run(in context: ShellContext) async throws {
        let result = try await TreeCopy.copy(from: try TreeLocation(path, allowsFile: false), to: .file(file), force: false,
                                             keepsEphemerals: false, in: context, command: "export", verb: "exported", gerund: "exporting")
        guard file != "-" else { return }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(result.from), "file": .string(file), "nodes": .integer(Int64(result.count))])
        } else {
            context.print("Exported \(result.count) node\(result.count == 1 ? "" : "s") to \(file)")
        }
    }
}
