import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// The admin and tree commands (ACLs, auth, watches, quotas, config, tree/find/grep/du/count,
/// redo, version), run by the `zksh` binary against a real Apache ZooKeeper.
@Suite(.timeLimit(.minutes(3))) struct ShellAdminCommandTests {
    let zksh = builtProductPath("zksh")

    /// base64(sha1("bob:secret")), the digest id of user bob with password secret.
    static let bobDigest = "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="

    func zk(_ server: ApacheZooKeeperServer, _ script: String, json: Bool = false) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", server.connectString] + (json ? ["--json"] : []) + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, timeout: .seconds(60)) }
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(text.hasSuffix("\n") ? 1 : 0) }

    @Test func setAclWithDigestAddauthAndGetAcl() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let set = try await zk(server, "create \(r) secret-data; create \(r)/kid; setAcl -R \(r) digest:\(Self.bobDigest):cdrwa,world:anyone:c")
        #expect(set.status == 0, "\(set.stderr)")
        // Without credentials: reading is refused.
        let denied = try await zk(server, "get \(r)")
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("(NOAUTH)"), "\(denied.stderr)")
        // getAcl needs read or admin permission; the format is zkCli.sh's.
        let acl = try await zk(server, "addauth digest bob:secret; getAcl \(r); getAcl \(r)/kid")
        #expect(acl.status == 0, "\(acl.stderr)")
        #expect(lines(acl.stdout) == [
            "'digest,'\(Self.bobDigest)", ": cdrwa", "'world,'anyone", ": c",
            "'digest,'\(Self.bobDigest)", ": cdrwa", "'world,'anyone", ": c",
        ])
        // With addauth (and with connect --auth) the data can be read; whoami shows the identity.
        let allowed = try await zk(server, "addauth digest bob:secret; get \(r); whoami; connect --auth digest:bob:secret; get \(r)")
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let output = lines(allowed.stdout)
        #expect(output.count == 5)
        #expect(output.first == "secret-data" && output.last == "secret-data" && output.dropFirst().first == "Auth scheme: User")
        #expect(Set(output.dropFirst(2).prefix(2)) == ["ip: 127.0.0.1", "digest: bob"])  // in the server's order
        let stat = try await zk(server, "addauth digest bob:secret; setAcl -s -v 1 \(r) auth::cdrwa; getAcl -s \(r)", json: false)
        #expect(stat.status == 0, "\(stat.stderr)")
        #expect(stat.stdout.contains("aclVersion = 2"))
        let json = try await zk(server, "addauth digest bob:secret; getAcl --json \(r)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(document["acl"] as? [[String: Any]])
        #expect(entries.first?["scheme"] as? String == "digest" && entries.first?["perms"] as? String == "cdrwa")
        let badVersion = try await zk(server, "addauth digest bob:secret; setAcl -v 0 \(r) world:anyone:cdrwa")
        #expect(badVersion.status == 1 && badVersion.stderr.contains("(BADVERSION)"))
        let badAcl = try await zk(server, "setAcl \(r) world:anyone:xyz")
        #expect(badAcl.status == 2)
        // Clean up as the owner.
        _ = try await zk(server, "addauth digest bob:secret; setAcl -R \(r) world:anyone:cdrwa; deleteall \(r)")
    }

    @Test func whoamiEphemeralsAndChildrenNumber() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let result = try await zk(server, "whoami; create -p \(r)/a/b; create -e \(r)/e1; create -e \(r)/a/e2; getEphemerals \(r); getEphemerals \(r)/a; getAllChildrenNumber \(r); count \(r)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout) == [
            "Auth scheme: User", "ip: 127.0.0.1",
            "Created \(r)/a/b", "Created \(r)/e1", "Created \(r)/a/e2",
            "\(r)/a/e2", "\(r)/e1",
            "\(r)/a/e2",
            "4", "5",
        ])
        let json = try await zk(server, "getAllChildrenNumber \(r)", json: true)
        #expect(json.stdout == "{\"number\":2,\"path\":\"\(r)\"}\n")
        let missing = try await zk(server, "getAllChildrenNumber \(r)/missing")
        #expect(missing.status == 1 && missing.stderr.contains("(NONODE)"))
    }

    @Test func addWatchPrintsEventsUntilRemoved() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let result = try await zk(server, """
            create \(r) v; addWatch \(r); create \(r)/kid; set \(r)/kid x; sync \(r); \
            removewatches \(r); set \(r)/kid y; sync \(r); \
            addWatch -m persistent \(r); set \(r) z; sync \(r); \
            printwatches off; set \(r) hidden; sync \(r); removewatches \(r) -a; removewatches \(r)
            """)
        #expect(result.status == 1)  // the last removewatches finds no watch
        #expect(result.stderr.contains("(NOWATCHER)"), "\(result.stderr)")
        let events = lines(result.stdout).filter { $0.hasPrefix("WATCHER::") }
        #expect(events == [
            "WATCHER:: WatchedEvent state:SyncConnected type:NodeCreated path:\(r)/kid",
            "WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:\(r)/kid",
            "WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:\(r)",
        ], "\(result.stdout)")
    }

    @Test func quotaSetListAndDelete() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let result = try await zk(server, "create \(r) abc; create \(r)/c de; setquota -n 5 \(r); listquota \(r); setquota -B 100 \(r); listquota \(r); delquota -n \(r); listquota \(r)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout).dropFirst(2) == [
            "Output quota for \(r) count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1",
            "Output stat for \(r) count=2,bytes=5",
            "Output quota for \(r) count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1",
            "Output stat for \(r) count=2,bytes=5",
            "Output quota for \(r) count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=-1",
            "Output stat for \(r) count=2,bytes=5",
        ])
        // Stored where and how zkCli.sh stores it.
        let client = try await connectedClient(server.connectString)
        #expect(try await client.getData("/zookeeper/quota\(r)/zookeeper_limits").data.text == "count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=-1")
        let nested = try await zk(server, "setquota -n 3 \(r)/c")
        #expect(nested.status == 1 && nested.stderr.contains("has a parent \(r) which has a quota"), "\(nested.stderr)")
        let json = try await zk(server, "listquota \(r)", json: true)
        #expect(json.stdout.contains("\"byteHardLimit\":100"))
        let deleted = try await zk(server, "delquota \(r); listquota \(r)")
        #expect(deleted.status == 1)
        #expect(deleted.stderr.contains("quota for \(r) does not exist."))
        #expect(try await client.exists("/zookeeper/quota\(r)") == nil)
        let under = try await zk(server, "setquota -n 1 /zookeeper/quota")
        #expect(under.status == 1 && under.stderr.contains("cannot set a quota under the path"))
        let missing = try await zk(server, "setquota -n 1 \(r)/missing")
        #expect(missing.status == 1 && missing.stderr.contains("(NONODE)"))
        try await client.close()
    }

    @Test func configAndVersion() async throws {
        let server = try await SharedServer.get()
        let result = try await zk(server, "config; config -c; config -s; version")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("cZxid = 0x"))
        #expect(lines(result.stdout).last?.hasPrefix("zksh version ") == true)
        let json = try await zk(server, "config", json: true)
        #expect(json.status == 0)
        #expect(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) is [String: Any])
        let version = try await zk(server, "version", json: true)
        #expect(version.stdout.contains("\"protocolVersion\":0"))
    }

    @Test func treeFindGrepDuCount() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let setup = try await zk(server, "create -p \(r)/b/lock-2 'x=1'; create \(r)/a 'max=10\nmin=2'; create \(r)/b/Lock-1 hello; create \(r)/c")
        #expect(setup.status == 0, "\(setup.stderr)")
        let tree = try await zk(server, "tree \(r); tree -d 1 \(r)")
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(lines(tree.stdout) == [
            r, "├── a", "├── b", "│   ├── Lock-1", "│   └── lock-2", "└── c",
            r, "├── a", "├── b", "└── c",
        ])
        let find = try await zk(server, "find \(r) 'lock-*'; find \(r) 'lock-*' -i; find \(r) --regex '^[ac]$'")
        #expect(lines(find.stdout) == ["\(r)/b/lock-2", "\(r)/b/Lock-1", "\(r)/b/lock-2", "\(r)/a", "\(r)/c"])
        let grep = try await zk(server, "grep \(r) 'max=*'; grep \(r) HELLO -i; grep \(r) --regex '^[a-z]=[0-9]$'")
        #expect(lines(grep.stdout) == ["\(r)/a: max=10", "\(r)/b/Lock-1: hello", "\(r)/b/lock-2: x=1"])
        let du = try await zk(server, "du \(r); du -d 0 \(r); count \(r); count \(r)/b")
        #expect(du.status == 0, "\(du.stderr)")
        #expect(lines(du.stdout) == ["12\t\(r)/a", "8\t\(r)/b", "0\t\(r)/c", "20\t\(r)", "20\t\(r)", "6", "3"])
        let json = try await zk(server, "du \(r)", json: true)
        #expect(json.stdout.contains("\"total\":{\"bytes\":20,\"nodes\":6,\"path\":\"\(r)\"}"), "\(json.stdout)")
        let treeJSON = try await zk(server, "tree \(r)/b", json: true)
        #expect(treeJSON.stdout == "{\"children\":[{\"children\":[],\"name\":\"Lock-1\",\"path\":\"\(r)/b/Lock-1\"},{\"children\":[],\"name\":\"lock-2\",\"path\":\"\(r)/b/lock-2\"}],\"name\":\"\(r)/b\",\"path\":\"\(r)/b\"}\n")
        let missing = try await zk(server, "tree \(r)/missing")
        #expect(missing.status == 1 && missing.stderr.contains("(NONODE)"))
    }

    @Test func redoRepeatsAScriptCommand() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("adm")
        let result = try await zk(server, "create \(r); create -s \(r)/q- ; redo 2; history")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout) == [
            "Created \(r)", "Created \(r)/q-0000000000", "Created \(r)/q-0000000001",
            "  1  create \(r)", "  2  create -s \(r)/q-", "  3  redo 2", "  4  history",
        ])
        let missing = try await zk(server, "redo 5")
        #expect(missing.status == 1 && missing.stderr.contains("no history entry 5"))
    }
}
