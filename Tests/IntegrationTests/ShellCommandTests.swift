import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Every shell command and its flags, run by the `zksh` binary against a real Apache ZooKeeper.
@Suite(.timeLimit(.minutes(3))) struct ShellCommandTests {
    let zksh = builtProductPath("zksh")

    func zk(_ server: ApacheZooKeeperServer, _ script: String, json: Bool = false) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", server.connectString] + (json ? ["--json"] : []) + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, timeout: .seconds(60)) }
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(text.hasSuffix("\n") ? 1 : 0) }

    @Test func createInEveryModeAndList() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        let result = try await zk(server, "create -p \(r)/a/b one; create -s \(r)/q- ; create -e \(r)/e; create -c \(r)/c; create -t 60000 \(r)/t; ls -R \(r); ls \(r)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout) == [
            "Created \(r)/a/b", "Created \(r)/q-0000000001", "Created \(r)/e", "Created \(r)/c", "Created \(r)/t",
            r, "\(r)/a", "\(r)/a/b", "\(r)/c", "\(r)/e", "\(r)/q-0000000001", "\(r)/t",
            "a", "c", "e", "q-0000000001", "t",
        ])
        let client = try await connectedClient(server.connectString)
        #expect(try await client.exists("\(r)/e") == nil)  // the ephemeral went with zksh's session
        try await client.close()
    }

    @Test func getSetStatAndVersions() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        let result = try await zk(server, "create \(r) one; set -v 0 \(r) two; set -s \(r) three; get \(r); get -x \(r); get -b \(r); get -s \(r); stat \(r); ls -s \(r)")
        #expect(result.status == 0, "\(result.stderr)")
        let output = lines(result.stdout)
        #expect(output.first == "Created \(r)")
        #expect(output.contains("dataVersion = 2"))
        #expect(output.contains("three"))
        #expect(output.contains("00000000  74 68 72 65 65                                    |three|"))
        #expect(output.contains("dGhyZWU="))
        #expect(output.filter { $0.hasPrefix("cZxid = 0x") }.count == 4)
        #expect(output.contains("dataLength = 5"))
        let stale = try await zk(server, "set -v 0 \(r) four")
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("zksh: \(r): version does not match (BADVERSION)"))
    }

    @Test func deleteDeleteallExistsSync() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        let made = try await zk(server, "create -p \(r)/x/y; create \(r)/z; sync \(r); exists \(r)/z")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(lines(made.stdout).last == "true")
        let notEmpty = try await zk(server, "delete \(r)/x")
        #expect(notEmpty.status == 1 && notEmpty.stderr.contains("(NOTEMPTY)"))
        let badVersion = try await zk(server, "delete -v 5 \(r)/z")
        #expect(badVersion.status == 1 && badVersion.stderr.contains("(BADVERSION)"))
        let deleted = try await zk(server, "delete -v 0 \(r)/z; deleteall \(r); exists \(r)")
        #expect(deleted.status == 1)  // exists on a missing node fails the script
        #expect(lines(deleted.stdout) == ["Deleted 3 nodes", "false"])
        let missing = try await zk(server, "deleteall \(r)")
        #expect(missing.status == 1 && missing.stderr.contains("\(r): node does not exist (NONODE)"))
    }

    @Test func navigationConnectCloseAndQuit() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        let result = try await zk(server, "create -p \(r)/a/b; cd \(r)/a; pwd; ls; cd ..; pwd; cd a/b; pwd; close; connect \(server.connectString); ls \(r); quit; ls /never-run")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(lines(result.stdout) == ["Created \(r)/a/b", "\(r)/a", "b", r, "\(r)/a/b", "a"])
        let badCd = try await zk(server, "cd \(r)/missing")
        #expect(badCd.status == 1 && badCd.stderr.contains("(NONODE)"))
    }

    @Test func watchFlagsPrintTheEvent() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        let client = try await connectedClient(server.connectString)
        try await client.create(r, data: bytes("v"))
        // `get -w`, `ls -w` and `stat -w` leave watches; their events print while the script runs.
        let result = try await zk(server, "get -w \(r); set \(r) changed; sync \(r); ls -w \(r); create \(r)/kid; sync \(r); stat -w \(r); delete \(r)/kid; sync \(r)")
        #expect(result.status == 0, "\(result.stderr)")
        // zkCli.sh's format, so existing scripts that parse it keep working.
        #expect(result.stdout.contains("WatchedEvent state:SyncConnected type:NodeDataChanged path:\(r)\n"))
        #expect(result.stdout.contains("WatchedEvent state:SyncConnected type:NodeChildrenChanged path:\(r)\n"))
        try await client.close()
    }

    @Test func jsonForEveryReadingCommand() async throws {
        let server = try await SharedServer.get()
        let r = uniquePath("cmd")
        _ = try await zk(server, "create \(r) text")
        for script in ["ls \(r)", "get \(r)", "stat \(r)", "exists \(r)", "pwd", "ls -R \(r)"] {
            let result = try await zk(server, script, json: true)
            #expect(result.status == 0, "\(script): \(result.stderr)")
            let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
            #expect(document is [String: Any], "\(script): \(result.stdout)")
        }
    }
}
