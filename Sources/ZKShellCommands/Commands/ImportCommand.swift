import ArgumentParser
import ZooKeeperClient

/// `import FILE PATH [--force] [--ephemeral]`: creates a subtree from a JSON file.
struct ImportCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Create a subtree from a JSON file written by export.",
        discussion: """
            The file's root node becomes PATH, its descendants keep their names below it. The \
            file is read as a stream (memory stays bounded by one node and the tree's depth), \
            and creates are pipelined. PATH must not exist unless --force: then existing nodes \
            get the file's data and ACL. Ephemeral nodes are created persistent unless \
            --ephemeral (then they belong to this session and go when it ends). FILE - reads \
            standard input. See 'help export' for the format.

            Examples:
              import app.json /app
              import app.json /app --force
              import - /restored < app.json
            """)

    @Flag(help: "Overwrite existing nodes (their data and ACL) instead of refusing.")
    var force = false

    @Flag(help: "Create ephemeral nodes as ephemeral nodes of this session (default: persistent).")
    var ephemeral = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The file to read (- for standard input).", completion: .file())
    var file: String

    @Argument(help: "Where the file's root node goes (or zk://hosts/path).")
    var path: String

    func validate() throws {
        do { _ = try TreeLocation(path, allowsFile: false) } catch { throw ValidationError(error.message) }
    }

    func run(in context: ShellContext) async throws {
        let result = try await TreeCopy.copy(from: .file(file), to: try TreeLocation(path, allowsFile: false), force: force,
                                             keepsEphemerals: ephemeral, in: context, command: "import", verb: "imported", gerund: "importing")
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(result.to), "file": .string(file), "nodes": .integer(Int64(result.count))])
        } else {
            context.print("Imported \(result.count) node\(result.count == 1 ? "" : "s") to \(result.to)")
        }
    }
}
