import Foundation
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

@Suite("Bulk and editing commands: parsing, txn blocks, the export format, progress")
struct BulkCommandTests {
    @Test func txnOperationsParse() throws {
        let txn = try parse(["txn", "create -e /a x", "set -v 3 /b 'two words'", "delete -v -1 /c", "check /d"], as: TxnCommand.self)
        let operations = try TxnCommand.parse(txn.operations)
        #expect(operations.count == 4)
        guard case .create(let create) = operations[0].kind, case .set(let set) = operations[1].kind,
              case .delete(let delete) = operations[2].kind, case .check(let check) = operations[3].kind
        else {
            Issue.record("wrong kinds")
            return
        }
        #expect(create.ephemeral && create.path == "/a" && create.data == "x" && create.mode == .ephemeral)
        #expect(set.version == 3 && set.data == "two words")
        #expect(delete.version == -1 && delete.path == "/c")
        #expect(check.version == -1 && check.path == "/d")
        #expect(usageError(["txn", "get /a"])?.message.contains("'get' is not create, set, delete or check") == true)
        #expect(usageError(["txn", "set /a"])?.message.contains("txn operation 1 (set /a)") == true)
        #expect(usageError(["txn", "create -e -c /a"])?.message.contains("cannot be combined") == true)
        #expect(usageError(["txn", "create /a", "check -v x /b"])?.message.contains("txn operation 2") == true)
        // `txn` alone parses (the runner fills it in); running it without operations is a usage error.
        #expect(try parse(["txn"], as: TxnCommand.self).operations.isEmpty)
    }

    @Test func transactionBlockCollectsUntilCommitOrAbort() {
        #expect(TransactionBlock(opening: ["txn"]) != nil)
        #expect(TransactionBlock(opening: ["txn", "--json"]) != nil)
        #expect(TransactionBlock(opening: ["txn", "create /a"]) == nil)
        #expect(TransactionBlock(opening: ["txn", "--help"]) == nil)
        #expect(TransactionBlock(opening: ["ls"]) == nil)
        var block = TransactionBlock(opening: ["txn"])!
        #expect(block.add(["create", "/a", "hello world"]) == .collecting)
        #expect(block.add([]) == .collecting)
        #expect(block.add(["delete", "/b"]) == .collecting)
        #expect(block.add(["commit"]) == .commit(["txn", "create /a 'hello world'", "delete /b"]))
        var aborted = TransactionBlock(opening: ["txn"])!
        _ = aborted.add(["delete", "/b"])
        #expect(aborted.add(["abort"]) == .abort)
    }

    @Test func scriptTxnBlocksOffline() async throws {
        let shell = try await OfflineShell()
        // Abort runs nothing (no session needed); a block without commit is a usage error.
        #expect(await shell.runner.runScript("txn; create /a; abort", keepGoing: false) == .success)
        #expect(shell.output.outputText == "Transaction aborted; nothing was applied\n")
        #expect(await shell.runner.runScript("txn\ncreate /a\n", keepGoing: false) == .usage)
        #expect(shell.output.errorText.contains("not ended with 'commit' or 'abort'"))
        shell.output.reset()
        // A committed block needs the session: offline it fails like any command.
        #expect(await shell.runner.runScript("txn; create /a; commit", keepGoing: false) == .failure)
        #expect(shell.output.errorText.contains("not connected"))
        shell.output.reset()
        #expect(await shell.runner.runScript("txn; bogus /a; commit", keepGoing: false) == .usage)
        #expect(shell.output.errorText.contains("'bogus' is not create"))
        try await shell.shutdown()
    }

    @Test func bulkCommandsParse() throws {
        let cp = try parse(["cp", "--force", "--ephemeral", "/a", "zk://h1:1,h2:2/b"], as: CpCommand.self)
        #expect(cp.force && cp.ephemeral && cp.source == "/a")
        #expect(try TreeLocation(cp.destination) == .cluster(hosts: "h1:1,h2:2", path: "/b"))
        #expect(try TreeLocation("zk://h:1") == .cluster(hosts: "h:1", path: "/"))
        #expect(try TreeLocation("x.JSON") == .file("x.JSON"))
        #expect(try TreeLocation("-") == .file("-"))
        #expect(try TreeLocation("a/b") == .current(path: "a/b"))
        #expect(try TreeLocation("x.json", allowsFile: false) == .current(path: "x.json"))
        #expect(usageError(["cp", "zk:///a", "/b"])?.message.contains("names no server") == true)
        #expect(usageError(["cp", "/a"]) != nil)
        let exported = try parse(["export", "/a", "-"], as: ExportCommand.self)
        #expect(exported.path == "/a" && exported.file == "-")
        let imported = try parse(["import", "f.json", "/a", "--force"], as: ImportCommand.self)
        #expect(imported.force && !imported.ephemeral && imported.file == "f.json")
        #expect(try parse(["edit", "--force", "/a"], as: EditCommand.self).force)
        #expect(try parse(["diff", "/a", "zk://h:1/b"], as: DiffCommand.self).second == "zk://h:1/b")
        #expect(usageError(["diff", "/a"]) != nil)
    }

    /// Writes nodes with the writer and reads them back with the streaming reader.
    @Test func exportFormatRoundTrips() async throws {
        let nodes = [
            TreeNode(path: "/app", relative: "/", data: Array("hé \"quoted\"\n\t\u{1}".utf8), acl: ACL.openUnsafe, mode: .persistent, ttl: nil, hasChildren: true),
            TreeNode(path: "/app/blob", relative: "/blob", data: [0, 1, 0xFF, 0xFE], acl: try ACLText.parse("digest:bob:abc=:cdrwa,world:anyone:r"),
                     mode: .persistent, ttl: nil, hasChildren: true),
            TreeNode(path: "/app/blob/deep", relative: "/blob/deep", data: [], acl: ACL.openUnsafe, mode: .ttl, ttl: 5000, hasChildren: false),
            TreeNode(path: "/app/lock", relative: "/lock", data: Array("😀".utf8), acl: ACL.openUnsafe, mode: .ephemeral, ttl: nil, hasChildren: false),
        ]
        var bytes: [UInt8] = []
        let writer = TreeJSON.Writer { bytes += $0 }
        try writer.enter(nodes[0])
        try writer.enter(nodes[1])
        try writer.enter(nodes[2])
        try writer.leave(nodes[2])
        try writer.leave(nodes[1])
        try writer.enter(nodes[3])
        try writer.leave(nodes[3])
        try writer.leave(nodes[0])
        try writer.flush()
        let text = String(decoding: bytes, as: UTF8.self)
        // Valid JSON that Foundation agrees with.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(document["path"] as? String == "/app")
        #expect(text.contains("\"dataBase64\":\"AAH//g==\""))
        #expect(text.contains("\"mode\":\"ttl\",\"ttl\":5000"))

        // Read back in tiny chunks, so tokens straddle chunk boundaries.
        for chunkSize in [1, 3, 1 << 16] {
            var offset = 0
            var reader = TreeJSON.Reader { buffer in
                guard offset < bytes.count else { return false }
                let end = min(offset + chunkSize, bytes.count)
                buffer = Array(bytes[offset..<end])
                offset = end
                return true
            }
            var entered: [TreeNode] = []
            var left: [String] = []
            try await reader.read(enter: { entered.append($0) }, leave: { left.append($0.relative) })
            #expect(entered == nodes)
            #expect(left == ["/blob/deep", "/blob", "/lock", "/"])
        }
    }

    @Test func importReaderRejectsMalformedFiles() async throws {
        func read(_ text: String) async throws -> [TreeNode] {
            var done = false
            var reader = TreeJSON.Reader { buffer in
                if done { return false }
                done = true
                buffer = Array(text.utf8)
                return true
            }
            var nodes: [TreeNode] = []
            try await reader.read(enter: { nodes.append($0) }, leave: { _ in })
            return nodes
        }
        // Defaults: open ACL, persistent, empty data; unknown members are skipped.
        let minimal = try await read(#"{"path":"/x","extra":{"a":[1,2,{"b":null}]},"children":[{"path":"/x/y","data":"v"}]}"#)
        #expect(minimal.map(\.relative) == ["/", "/y"])
        #expect(minimal[0].acl == ACL.openUnsafe && minimal[0].mode == .persistent && minimal[1].data == Array("v".utf8))
        #expect(minimal[0].hasChildren && !minimal[1].hasChildren)
        let bad: [(String, String)] = [
            (#"{"path":"/x","children":[],"data":"late"}"#, "'children' must be the last member"),
            (#"{"path":"/x","children":[{"path":"/elsewhere"}]}"#, "is not below the root"),
            (#"{"data":"no path"}"#, "no absolute 'path'"),
            (#"{"path":"/x","mode":"weird"}"#, "'mode' must be"),
            (#"{"path":"/x","acl":["world:anyone:xyz"]}"#, "are not permissions"),
            (#"{"path":"/x","dataBase64":"!!"}"#, "not base64"),
            (#"{"path":"/x","children":["#, "unexpected end of input"),
            (#"[1]"#, "expected a node object"),
        ]
        for (text, message) in bad {
            do {
                _ = try await read(text)
                Issue.record("accepted \(text)")
            } catch let error as TreeJSON.FormatError {
                #expect(error.description.contains(message), "\(text): \(error)")
            }
        }
    }

    @Test func progressLines() {
        #expect(Progress.grouped(0) == "0")
        #expect(Progress.grouped(999) == "999")
        #expect(Progress.grouped(1234) == "1,234")
        #expect(Progress.grouped(1_234_567) == "1,234,567")
        #expect(Progress.line(command: "cp", verb: "copied", done: 1234, total: 5000) == "cp: 1,234 of ~5,000 nodes copied")
        #expect(Progress.line(command: "find", verb: "visited", done: 1, total: nil) == "find: 1 node visited")
    }

    @Test func progressIsSilentAndReportsInterruptions() async throws {
        let shell = try await OfflineShell()
        let counter = AtomicCounter()
        do {
            try await Progress.run(shell.context, command: "cp", verb: "copied", gerund: "copying", total: 5000, completed: { counter.value }) {
                counter.add(1234)
                throw CancellationError()
            }
            Issue.record("no error")
        } catch let error as InterruptedWork {
            #expect(error.message == "cp: interrupted after copying 1,234 of ~5,000 nodes")
        }
        // Buffers are not terminals: nothing was drawn.
        #expect(shell.output.errorText == "")
        try await shell.shutdown()
    }

    @Test func pathAppending() {
        #expect(ZooKeeperPath.appending("/", to: "/a") == "/a")
        #expect(ZooKeeperPath.appending("/x/y", to: "/a") == "/a/x/y")
        #expect(ZooKeeperPath.appending("/x", to: "/") == "/x")
        #expect(DiffCommand.Difference(kind: .changed, path: "/z", aspects: ["data", "acl"]).line == "~ /z (data, acl)")
        #expect(DiffCommand.Difference(kind: .added, path: "/x").line == "+ /x")
    }
}
