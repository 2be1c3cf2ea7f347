import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// `txn`, `edit`, `export`/`import`, `cp` and `diff`, run by the `zksh` binary against a real
/// Apache ZooKeeper (and a second one for copies between clusters).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ShellBulkCommandTests {
    let zksh = builtProductPath("zksh")

    func zk(_ connectString: String, _ script: String, json: Bool = false, stdin: String? = nil, asBob: Bool = false,
            environment: [String: String]? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", connectString] + (json ? ["--json"] : []) + (asBob ? ["--auth", "digest:bob:secret"] : []) + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, stdin: stdin, environment: environment, timeout: .seconds(60)) }
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("zksh-bulk-\(UUID().uuidString.prefix(8))-\(name)").path
    }

    @Test func txnAppliesAllOrNothing() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("txn")
        let setup = try await zk(server.connectString, "create \(r); create \(r)/b old; create \(r)/c; create \(r)/d")
        #expect(setup.status == 0, "\(setup.stderr)")
        // A block in a -c script: each result, in order.
        let ok = try await zk(server.connectString, "txn; create \(r)/a one; set \(r)/b two; delete \(r)/c; check -v 0 \(r)/d; create -s \(r)/q- x; commit; get \(r)/b")
        #expect(ok.status == 0, "\(ok.stderr)")
        let okLines = lines(ok.stdout)
        #expect(okLines.count == 6)
        #expect(Array(okLines.prefix(4)) == ["Created \(r)/a", "Set \(r)/b (version 1)", "Deleted \(r)/c", "Checked \(r)/d"])
        #expect(okLines.last == "two")
        // The sequential node's name, with the server's counter.
        let sequential = String(okLines.dropLast().last?.split(separator: "/").last ?? "")
        #expect(sequential.hasPrefix("q-") && sequential.count == 12, "\(okLines)")
        // A failing operation: which one, why, nothing applied, status 1, the script stops.
        let failed = try await zk(server.connectString, "txn; create \(r)/x; set \(r)/b three; delete \(r)/missing; commit; ls \(r)")
        #expect(failed.status == 1)
        #expect(failed.stdout == "")
        #expect(failed.stderr.contains("txn: operation 3 (delete \(r)/missing) failed: \(r)/missing: ") && failed.stderr.contains("(NONODE)"), "\(failed.stderr)")
        #expect(failed.stderr.contains("nothing was applied"))
        let after = try await zk(server.connectString, "ls \(r); get \(r)/b")
        #expect(lines(after.stdout) == ["a", "b", "d", sequential, "two"], "\(after.stdout)")
        // A version check that fails.
        let badVersion = try await zk(server.connectString, "txn; check -v 7 \(r)/d; delete \(r)/d; commit")
        #expect(badVersion.status == 1 && badVersion.stderr.contains("operation 1 (check -v 7 \(r)/d)") && badVersion.stderr.contains("(BADVERSION)"))
        // The block from a script on standard input, abort, and JSON.
        let piped = try await blocking { [zksh] in
            try runProcess(zksh, ["-s", server.connectString], stdin: "txn\ncreate \(r)/p1\nabort\ntxn --json\ncreate \(r)/p2 'a b'\ndelete \(r)/d\ncommit\nget \(r)/p2\n", timeout: .seconds(60))
        }
        #expect(piped.status == 0, "\(piped.stderr)")
        let output = lines(piped.stdout)
        #expect(output.count == 3)
        #expect(output.first == "Transaction aborted; nothing was applied")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output[1].utf8)) as? [String: Any])
        #expect(document["applied"] as? Bool == true)
        #expect((document["results"] as? [[String: Any]])?.map { $0["op"] as? String } == ["create", "delete"])
        #expect(output.last == "a b")
        let unterminated = try await zk(server.connectString, "txn; create \(r)/never")
        #expect(unterminated.status == 2 && unterminated.stderr.contains("not ended with 'commit'"))
        let check = try await zk(server.connectString, "ls \(r)")
        #expect(check.stdout == "a\nb\np2\n\(sequential)\n")
        _ = try await zk(server.connectString, "deleteall \(r)")
    }

    @Test func editWritesBackOnlyChangesAtTheVersionRead() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("edit")
        let client = try await connectedClient(server.connectString)
        defer { Task { try? await client.close() } }
        try await client.create(r, data: bytes("color=old\nsize=1"))
        try await client.create(r + "/bin", data: [0, 1, 2, 0xFF])

        let sed = try await zk(server.connectString, "edit \(r); get \(r)", environment: ["EDITOR": "sed -i s/old/new/"])
        #expect(sed.status == 0, "\(sed.stderr)")
        #expect(lines(sed.stdout) == ["Saved \(r) (version 1)", "color=new", "size=1"])
        // sed keeps the missing final newline; an editor that adds one does not change the data.
        #expect(try await client.getData(r).data == bytes("color=new\nsize=1"))
        let addsNewline = try await zk(server.connectString, "edit \(r)", environment: ["EDITOR": "sh -c 'echo >> \"$0\"'"])
        #expect(addsNewline.stdout == "No changes to \(r)\n", "\(addsNewline.stderr)")
        let unchanged = try await zk(server.connectString, "edit \(r)", environment: ["EDITOR": "true"])
        #expect(unchanged.status == 0 && unchanged.stdout == "No changes to \(r)\n")
        #expect(try await client.getData(r).stat.version == 1)
        let failing = try await zk(server.connectString, "edit \(r)", environment: ["EDITOR": "false"])
        #expect(failing.status == 1 && failing.stderr.contains("exited with status 1; nothing was written"))

        // Someone else writes while the editor is open: BADVERSION, the text is kept.
        let script = temporaryFile("editor.sh")
        try """
            #!/bin/sh
            '\(zksh)' -s \(server.connectString) set \(r) 'changed meanwhile'
            sed -i s/new/mine/ "$1"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let conflict = try await zk(server.connectString, "edit \(r)", environment: ["EDITOR": "sh \(script)"])
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("(BADVERSION)") && conflict.stderr.contains("nothing was written"), "\(conflict.stderr)")
        let kept = try #require(conflict.stderr.range(of: #"your text is in (\S+)"#, options: .regularExpression))
        let keptFile = String(conflict.stderr[kept].dropFirst("your text is in ".count))
        #expect(try String(contentsOfFile: keptFile, encoding: .utf8) == "color=mine\nsize=1")
        #expect(try await client.getData(r).data == bytes("changed meanwhile"))
        try? FileManager.default.removeItem(atPath: keptFile)
        try? FileManager.default.removeItem(atPath: script)

        // Binary data needs --force.
        let binary = try await zk(server.connectString, "edit \(r)/bin", environment: ["EDITOR": "true"])
        #expect(binary.status == 1 && binary.stderr.contains("binary data (4 bytes); use --force"))
        let forced = try await zk(server.connectString, "edit --force \(r)/bin", environment: ["EDITOR": "true"])
        #expect(forced.status == 0 && forced.stdout == "No changes to \(r)/bin\n")
        _ = try await zk(server.connectString, "deleteall \(r)")
    }

    /// Builds a small tree with text, binary and empty data, a restrictive ACL on a node with
    /// children, a digest ACL, and an ephemeral node.
    func buildSampleTree(_ client: ZooKeeperClient, at r: String, ephemeral: Bool) async throws {
        try await client.create(r, data: bytes("root \"data\"\nline 2"))
        try await client.create(r + "/bin", data: [0, 0xFF, 0x10, 0x80])
        try await client.create(r + "/empty")
        try await client.create(r + "/ro", data: bytes("read only"))
        try await client.create(r + "/ro/kid", data: bytes("k"))
        try await client.create(r + "/ro/kid/grandkid")
        try await client.setACL(r + "/ro", acl: ACL.readUnsafe)
        try await client.create(r + "/digest", data: bytes("d"),
                                acl: [ACL(permissions: .all, id: Id(scheme: "digest", id: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=")),
                                      ACL(permissions: .read, id: Id(scheme: "world", id: "anyone"))])
        if ephemeral { try await client.create(r + "/eph", data: bytes("e"), mode: .ephemeral) }
    }

    @Test func exportImportRoundTrip() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("exp")
        let client = try await connectedClient(server.connectString)
        try await client.addAuth(scheme: "digest", auth: bytes("super:admin"))  // past every ACL
        try await buildSampleTree(client, at: r, ephemeral: true)
        let file = temporaryFile("tree.json")
        defer { try? FileManager.default.removeItem(atPath: file) }

        // Without ADMIN permission the server hides digest hashes: export warns.
        let hidden = try await zk(server.connectString, "export \(r)/digest \(file)")
        #expect(hidden.status == 0 && hidden.stderr.contains("warning: 1 node has digest ACLs whose hashes the server hid"), "\(hidden.stderr)")
        let exported = try await zk(server.connectString, "export \(r) \(file)", asBob: true)
        #expect(exported.stderr == "")
        #expect(exported.status == 0 && exported.stdout == "Exported 8 nodes to \(file)\n", "\(exported.stderr)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["path"] as? String == r && document["data"] as? String == "root \"data\"\nline 2")
        let children = try #require(document["children"] as? [[String: Any]])
        #expect(children.map { $0["path"] as? String } == ["bin", "digest", "empty", "eph", "ro"].map { "\(r)/\($0)" })
        #expect(children[0]["data"] is NSNull && children[0]["dataBase64"] as? String == "AP8QgA==")
        #expect(children[1]["acl"] as? [String] == ["digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=:cdrwa", "world:anyone:r"])
        #expect(children[3]["mode"] as? String == "ephemeral")
        #expect(children[4]["acl"] as? [String] == ["world:anyone:r"])

        // Import elsewhere: the same data, ACLs, and the ephemeral as a persistent node.
        let copy = uniquePath("imp")
        let imported = try await zk(server.connectString, "import \(file) \(copy)")
        #expect(imported.status == 0 && imported.stdout == "Imported 8 nodes to \(copy)\n", "\(imported.stderr)")
        #expect(try await client.getData(copy + "/bin").data == [0, 0xFF, 0x10, 0x80])
        #expect(try await client.getData(copy).data == bytes("root \"data\"\nline 2"))
        #expect(try await client.getACL(copy + "/ro").acl == ACL.readUnsafe)
        #expect(try await client.getACL(copy + "/ro/kid/grandkid").acl == ACL.openUnsafe)
        #expect(try await client.getACL(copy + "/digest").acl == client.getACL(r + "/digest").acl)
        #expect(try await client.exists(copy + "/eph")?.ephemeralOwner == 0)
        let diff = try await zk(server.connectString, "diff \(r) \(copy)")
        #expect(diff.status == 1 && diff.stdout == "~ /eph (mode)\n", "\(diff.stdout)\(diff.stderr)")

        // Existing nodes: refused, then overwritten with --force.
        try await client.setData(copy + "/empty", data: bytes("changed"))
        // (A read-only node cannot be overwritten, even with --force: open it as an admin would.)
        try await client.setACL(copy + "/ro", acl: ACL.openUnsafe)
        let refused = try await zk(server.connectString, "import \(file) \(copy)")
        #expect(refused.status == 1 && refused.stderr.contains("\(copy) exists (use --force"))
        let forced = try await zk(server.connectString, "import --force \(file) \(copy)", asBob: true)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await client.getData(copy + "/empty").data == [])

        // Standard output and standard input; --ephemeral keeps the ephemeral (for that session).
        let piped = try await zk(server.connectString, "export \(r)/ro -")
        #expect(piped.status == 0)
        let stdinCopy = uniquePath("imp")
        let fromStdin = try await blocking { [zksh] in
            try runProcess(zksh, ["-s", server.connectString, "import", "-", stdinCopy], stdin: piped.stdout, timeout: .seconds(60))
        }
        #expect(fromStdin.status == 0 && fromStdin.stdout == "Imported 3 nodes to \(stdinCopy)\n", "\(fromStdin.stderr)")
        let same = try await zk(server.connectString, "diff \(r)/ro \(stdinCopy)")
        #expect(same.status == 0 && same.stdout == "")
        let keep = try await zk(server.connectString, "import --ephemeral \(file) \(uniquePath("imp")); getEphemerals")
        #expect(keep.status == 0 && keep.stdout.contains("/eph\n"), "\(keep.stdout)\(keep.stderr)")

        // A malformed file fails clearly.
        try "{\"path\":\"/x\",\"children\":[".write(toFile: file, atomically: true, encoding: .utf8)
        let brokenTarget = uniquePath("imp")
        let broken = try await zk(server.connectString, "import \(file) \(brokenTarget)")
        #expect(broken.status == 1 && broken.stderr.contains("malformed export file"), "\(broken.stderr)")
        _ = try await zk(server.connectString, "deleteall \(brokenTarget)")

        try await client.close()
        _ = try await zk(server.connectString, "deleteall \(r); deleteall \(copy); deleteall \(stdinCopy)")
    }

    @Test func cpAndDiffBetweenPathsAndServers() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cp")
        let client = try await connectedClient(server.connectString)
        try await client.addAuth(scheme: "digest", auth: bytes("super:admin"))  // past every ACL
        try await buildSampleTree(client, at: r, ephemeral: false)
        let copy = uniquePath("cp")
        let copied = try await zk(server.connectString, "cp \(r) \(copy); diff \(r) \(copy)", asBob: true)
        #expect(copied.status == 0 && copied.stdout == "Copied 7 nodes from \(r) to \(copy)\n", "\(copied.stderr)")
        #expect(try await client.getACL(copy + "/ro").acl == ACL.readUnsafe)

        // Differences: data, ACL, added and removed subtrees.
        try await client.setData(copy + "/empty", data: bytes("x"))
        try await client.setACL(copy + "/bin", acl: ACL.readUnsafe)
        try await client.create(copy + "/new")
        try await client.create(copy + "/new/deeper")
        try await client.setACL(r + "/ro", acl: ACL.openUnsafe)
        try await client.delete(r + "/ro/kid/grandkid")
        try await client.setData(r + "/ro/kid", data: bytes("other"))
        let diff = try await zk(server.connectString, "diff \(r) \(copy)", asBob: true)
        #expect(diff.status == 1)
        #expect(lines(diff.stdout) == ["~ /bin (acl)", "~ /empty (data)", "+ /new", "+ /new/deeper", "~ /ro (acl)", "~ /ro/kid (data)", "+ /ro/kid/grandkid"],
                "\(diff.stdout)")
        let json = try await zk(server.connectString, "diff --json \(r) \(copy)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["identical"] as? Bool == false && (document["differences"] as? [Any])?.count == 7)

        // Refusals: into itself, onto an existing node.
        let into = try await zk(server.connectString, "cp \(r) \(r)/sub")
        #expect(into.status == 1 && into.stderr.contains("into itself"))
        let exists = try await zk(server.connectString, "cp \(r) \(copy)")
        #expect(exists.status == 1 && exists.stderr.contains("exists (use --force"))
        // (Read-only nodes cannot be overwritten, even with --force: open them as an admin would.)
        try await client.setACL(copy + "/ro", acl: ACL.openUnsafe)
        try await client.setACL(copy + "/bin", acl: ACL.openUnsafe)
        let forced = try await zk(server.connectString, "cp --force \(r) \(copy); diff \(r) \(copy)", asBob: true)
        #expect(forced.status == 1 && lines(forced.stdout).dropFirst().elementsEqual(["+ /new", "+ /new/deeper", "+ /ro/kid/grandkid"]), "\(forced.stdout)\(forced.stderr)")

        // Another cluster: a second Apache ZooKeeper.
        let other = try await ApacheZooKeeperServer.start()
        defer { other.stop() }
        let remote = try await zk(server.connectString, "cp \(r) zk://\(other.connectString)/copied; diff \(r) zk://\(other.connectString)/copied", asBob: true)
        #expect(remote.status == 0 && remote.stdout == "Copied 6 nodes from \(r) to zk://\(other.connectString)/copied\n", "\(remote.stderr)")
        let otherClient = try await connectedClient(other.connectString)
        #expect(try await otherClient.getData("/copied/bin").data == [0, 0xFF, 0x10, 0x80])
        try await otherClient.addAuth(scheme: "digest", auth: bytes("super:admin"))
        #expect(try await otherClient.getACL("/copied/digest").acl == client.getACL(r + "/digest").acl)
        try await otherClient.close()
        // Back from the other cluster, through a file, and diff between two remote trees.
        let file = temporaryFile("copy.json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let back = uniquePath("cp")
        let roundTrip = try await zk(other.connectString, "cp /copied \(file); cp \(file) zk://\(server.connectString)\(back); diff zk://\(server.connectString)\(r) zk://\(server.connectString)\(back)", asBob: true)
        #expect(roundTrip.status == 0, "\(roundTrip.stdout)\(roundTrip.stderr)")
        #expect(lines(roundTrip.stdout) == ["Copied 6 nodes from /copied to \(file)",
                                            "Copied 6 nodes from \(file) to zk://\(server.connectString)\(back)"])
        let unreachable = try await zk(server.connectString, "cp \(r) zk://127.0.0.1:\(try freeLoopbackPort())/x")
        #expect(unreachable.status == 1 && unreachable.stderr.contains("could not connect"), "\(unreachable.stderr)")

        try await client.close()
        _ = try await zk(server.connectString, "deleteall \(r); deleteall \(copy); deleteall \(back)")
    }
}

/// The recursive commands on a large tree (100,101 znodes): counts must match, and the memory
/// of the `zksh` process must not grow with the tree where the output does not need it. The
/// debug build this suite runs spends about three minutes here (the release build about 20 s);
/// the limit is a liveness bound.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ShellLargeTreeTests {
    let zksh = builtProductPath("zksh")

    /// Nodes below the root: `groups` × `leaves`.
    static let groups = 100
    static let leaves = 1_000

    /// Runs zksh under a Python wrapper that reports the child's peak RSS (`ru_maxrss` from
    /// `wait4` on that one child, in KiB) as the last line of standard error.
    func measured(_ connectString: String, _ words: [String]) async throws -> (status: Int32, stdout: String, stderr: String, peakKiB: Int) {
        let wrapper = """
            import os, subprocess, sys
            child = subprocess.Popen(sys.argv[1:])
            _, status, usage = os.wait4(child.pid, 0)
            sys.stderr.write("PEAK_RSS_KIB=%d\\n" % usage.ru_maxrss)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let zksh = self.zksh
        let result = try await blocking {
            try runProcess("/usr/bin/python3", ["-c", wrapper, zksh, "-s", connectString] + words, timeout: .seconds(120))
        }
        let peak = result.stderr.split(separator: "\n").last { $0.hasPrefix("PEAK_RSS_KIB=") }.flatMap { Int($0.dropFirst("PEAK_RSS_KIB=".count)) } ?? -1
        return (result.status, result.stdout, result.stderr, peak)
    }

    @Test func recursiveCommandsOnALargeTree() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("big")
        let total = 1 + Self.groups + Self.groups * Self.leaves
        let client = try await connectedClient(server.connectString)
        // Build the tree with pipelined creates, at most 200 in flight.
        try await client.create(r)
        var paths: [String] = []
        for group in 0..<Self.groups { paths.append(String(format: "\(r)/g%03d", group)) }
        for group in 0..<Self.groups {
            for leaf in 0..<Self.leaves { paths.append(String(format: "\(r)/g%03d/n%05d", group, leaf)) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for (index, path) in paths.enumerated() {
                if index == Self.groups {
                    try await group.waitForAll()  // the groups exist before their leaves
                    inFlight = 0
                }
                if inFlight >= 200 {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { _ = try await client.create(path, data: Array("value of \(path)".utf8)) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        #expect(try await client.getAllChildrenNumber(r) == total - 1)

        let count = try await measured(server.connectString, ["count", r])
        #expect(count.stdout == "\(total)\n", "\(count.stderr)")
        let tree = try await measured(server.connectString, ["tree", r])
        #expect(tree.status == 0 && tree.stdout.split(separator: "\n").count == total)
        let find = try await measured(server.connectString, ["find", r, "n*7"])
        #expect(find.status == 0 && find.stdout.split(separator: "\n").count == Self.groups * Self.leaves / 10)
        let du = try await measured(server.connectString, ["du", "--bytes", r])
        #expect(du.status == 0 && du.stdout.hasSuffix("\t\(r)\n"))

        // A tiny export for the baseline memory of the process.
        let small = uniquePath("small")
        try await client.create(small)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-big-\(UUID().uuidString.prefix(8)).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let baseline = try await measured(server.connectString, ["export", small, file])
        #expect(baseline.status == 0 && baseline.peakKiB > 0)

        let exported = try await measured(server.connectString, ["export", r, file])
        #expect(exported.stdout == "Exported \(total) nodes to \(file)\n", "\(exported.stderr)")
        let fileKiB = Int((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0) / 1024
        let copy = uniquePath("big")
        let imported = try await measured(server.connectString, ["import", file, copy])
        #expect(imported.stdout == "Imported \(total) nodes to \(copy)\n", "\(imported.stderr)")
        let second = uniquePath("big")
        let copied = try await measured(server.connectString, ["cp", r, second])
        #expect(copied.stdout == "Copied \(total) nodes from \(r) to \(second)\n", "\(copied.stderr)")
        let counts = try await measured(server.connectString, ["-c", "count \(copy); count \(second)"])
        #expect(counts.stdout == "\(total)\n\(total)\n")

        // Memory: streaming keeps each of these within a few MiB of the tiny export (measured:
        // +2 to +9 MiB). Holding the tree instead (a path, data and ACL per node: about 500
        // bytes in Swift, 100,101 nodes) would add about 50 MiB, and parsing the 14 MiB file
        // with JSONSerialization several times its size; the bound is the baseline + 12 MiB.
        // The spread is glibc's per-thread malloc arenas, not the data: cp, which reads and
        // writes on several threads at once, peaks about 2 MiB lower with MALLOC_ARENA_MAX=1,
        // and its peak varies by about that much from run to run.
        let bound = baseline.peakKiB + 12 * 1024
        print("large tree: \(total) nodes, file \(fileKiB) KiB; peak RSS KiB: baseline \(baseline.peakKiB), export \(exported.peakKiB), import \(imported.peakKiB), cp \(copied.peakKiB), find \(find.peakKiB), count \(count.peakKiB)")
        #expect(exported.peakKiB < bound, "export peak \(exported.peakKiB) KiB, bound \(bound) KiB")
        #expect(imported.peakKiB < bound, "import peak \(imported.peakKiB) KiB, bound \(bound) KiB")
        #expect(copied.peakKiB < bound, "cp peak \(copied.peakKiB) KiB, bound \(bound) KiB")
        #expect(find.peakKiB < bound, "find peak \(find.peakKiB) KiB, bound \(bound) KiB")

        for root in [r, copy, second] {
            let deleted = try await measured(server.connectString, ["deleteall", root])
            #expect(deleted.stdout == "Deleted \(total) nodes\n", "\(deleted.stderr)")
        }
        try await client.delete(small)
        try await client.close()
    }
}
