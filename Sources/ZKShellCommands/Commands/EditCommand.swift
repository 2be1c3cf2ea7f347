import ArgumentParser
import Dispatch
import Foundation
import ZooKeeperClient

/// `edit [--force] PATH`: edits a node's data in `$EDITOR` and writes it back if it changed.
struct EditCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit the data of a node in $EDITOR.",
        discussion: """
            Opens $EDITOR (default vi; run by /bin/sh, so it may carry arguments) on a temporary \
            file holding the node's data. When the editor exits successfully and the text \
            changed, it is written back with the version that was read: if someone changed the \
            node meanwhile, nothing is written (BADVERSION) and the edited text is kept in the \
            temporary file, whose name is printed. A newline the editor adds at the end is \
            dropped when the data had none. Binary data is refused unless --force.

            Examples:
              edit /app/config
              EDITOR=nano zksh edit /app/config
            """)

    @Flag(help: "Edit data that is not printable UTF-8 text.")
    var force = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The node.")
    var path: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let path = context.resolve(self.path)
        let (data, stat) = try await client.getData(path)
        if !force && !DataRenderer.isPrintableText(data) {
            throw ShellError("\(path) holds binary data (\(data.count) bytes); use --force to edit it anyway")
        }
        let name = ZooKeeperPath.name(of: path).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("zksh-edit-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))-\(name.isEmpty ? "root" : name).txt").path
        guard FileManager.default.createFile(atPath: file, contents: Data(data), attributes: [.posixPermissions: 0o600]) else {
            throw ShellError("could not write \(file)")
        }
        let editor = ProcessInfo.processInfo.environment["EDITOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "vi"
        let status = try await Self.runEditor(editor, file: file)
        guard status == 0 else {
            throw ShellError("editor '\(editor)' exited with status \(status); nothing was written (the text is in \(file))")
        }
        guard let contents = FileManager.default.contents(atPath: file) else { throw ShellError("could not read \(file)") }
        var edited = Array(contents)
        if data.last != UInt8(ascii: "\n") && edited.last == UInt8(ascii: "\n") { edited.removeLast() }
        if edited == data {
            try? FileManager.default.removeItem(atPath: file)
            if output.wantsJSON(context) {
                context.printJSON(["path": .string(path), "changed": false])
            } else {
                context.print("No changes to \(path)")
            }
            return
        }
        let newStat: Stat
        do {
            newStat = try await client.setData(path, data: edited, version: stat.version)
        } catch let error as ZooKeeperError where error.code == .badVersion {
            throw ShellError("\(path) was changed by someone else since it was read (BADVERSION); nothing was written, your text is in \(file)")
        } catch {
            throw ShellError("\(error); nothing was written, your text is in \(file)")
        }
        try? FileManager.default.removeItem(atPath: file)
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "changed": true, "stat": StatFormatter.json(newStat)])
        } else {
            context.print("Saved \(path) (version \(newStat.version))")
        }
    }

    /// Runs `/bin/sh -c '<editor> "$1"' zksh-edit FILE` with the shell's terminal, off the
    /// concurrency pool, and returns its exit status.
    static func runEditor(_ editor: String, file: String) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", editor + " \"$1\"", "zksh-edit", file]
                do {
                    try process.run()
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationStatus)
                } catch {
                    continuation.resume(throwing: ShellError("could not start the editor: \(error)"))
                }
            }
        }
    }
}
