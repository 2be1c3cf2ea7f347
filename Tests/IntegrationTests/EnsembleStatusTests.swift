import Foundation
import Testing
import ZooKeeperTestSupport

/// `ensemble status` against an ensemble the shell did not start: a 3-member Apache ZooKeeper
/// ensemble, run by the `zksh` binary in scripted mode, while its members go down one by one.
@Suite(.serialized, .timeLimit(.minutes(5))) struct EnsembleStatusTests {
    let zksh = builtProductPath("zksh")

    func run(_ servers: String, _ script: String, json: Bool = false) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", servers] + (json ? ["--json"] : []) + ["-c", script]
        return try await blocking { try runProcess(zksh, arguments, timeout: .seconds(60)) }
    }

    /// The table's rows as cells (columns are separated by at least two spaces), header first.
    func cells(_ table: String) -> [[String]] {
        table.split(separator: "\n").map { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func statusOfAnApacheEnsembleAsItsMembersGoDown() async throws {
        let ensemble = try await ApacheZooKeeperEnsemble.start(size: 3)
        defer { ensemble.stop() }
        let leaderID = try await ensemble.waitForQuorum()
        let dead = "127.0.0.1:\(try freeLoopbackPort())"
        let servers = ensemble.connectString + "," + dead

        let result = try await run(servers, "create /ensemble-status x; ensemble")
        #expect(result.status == 0, "\(result.stderr)")
        let rows = cells(result.stdout.replacingOccurrences(of: "Created /ensemble-status\n", with: ""))
        #expect(rows.first == ["ID", "ROLE", "ADDRESS", "PID", "EPOCH", "LAST ZXID", "CONNECTIONS", "ZNODES", "STATUS"])
        #expect(rows.count == 5, "\(result.stdout)")
        for member in ensemble.members {
            let row = try #require(rows.first { $0.count > 2 && $0[2] == member.connectString }, "\(result.stdout)")
            #expect(row.count == 9, "\(row)")
            #expect(row[0] == String(member.id), "the id comes from conf's serverId: \(row)")
            #expect(row[1] == (member.id == leaderID ? "leader" : "follower"), "\(row)")
            #expect(row[3] == "-", "no pid for a member the shell did not start")
            let zxid = try #require(UInt64(row[5].dropFirst(2), radix: 16), "\(row)")
            #expect(row[5].hasPrefix("0x") && zxid > 0)
            #expect(row[4] == String(zxid >> 32) && zxid >> 32 >= 1, "\(row)")
            #expect(Int(row[6]) != nil, "\(row)")
            #expect((Int(row[7]) ?? 0) >= 5, "the tree holds /ensemble-status and ZooKeeper's own nodes: \(row)")
            #expect(row[8] == "up")
        }
        #expect(rows.last == ["-", "down", dead, "-", "-", "-", "-", "-", "down"], "\(result.stdout)")

        let document = try json(try await run(servers, "ensemble status", json: true).stdout)
        #expect(document["local"] == nil)
        let members = try #require(document["members"] as? [[String: Any]])
        #expect(members.map { $0["server"] as? String } == ensemble.members.map(\.connectString) + [dead])
        #expect(members.map { $0["id"] as? Int } == [1, 2, 3, nil])
        #expect(members.compactMap { $0["role"] as? String }.sorted() == ["down", "follower", "follower", "leader"])
        #expect(members.map { $0["status"] as? String } == ["up", "up", "up", "down"])
        #expect(members.last?["error"] as? String == "connection refused")
        for member in members.prefix(3) {
            let zxid = try #require((member["zxid"] as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) })
            #expect(member["epoch"] as? Int == Int(zxid >> 32))
            #expect((member["metrics"] as? [String: Any])?["zk_server_state"] as? String == member["role"] as? String)
            #expect(member["pid"] is NSNull)
        }

        // A follower goes down: its row says so; the others are still up.
        let followers = ensemble.members.map(\.id).filter { $0 != leaderID }
        ensemble.kill(member: followers[0])
        let oneDown = try await run(ensemble.connectString, "ensemble")
        #expect(oneDown.status == 0, "\(oneDown.stderr)")
        let downRow = try #require(cells(oneDown.stdout).first { $0.count > 2 && $0[2] == ensemble.members[followers[0] - 1].connectString })
        #expect(downRow == ["-", "down", ensemble.members[followers[0] - 1].connectString, "-", "-", "-", "-", "-", "down"])
        #expect(cells(oneDown.stdout).filter { $0.last == "up" }.count == 2)

        // Without a quorum the last member is looking (it answers, but does not serve).
        ensemble.kill(member: followers[1])
        let leaderAddress = ensemble.members[leaderID - 1].connectString
        var looking: [String]?
        try await eventually("the leader without quorum is looking", within: .seconds(30)) {
            let output = try await run(ensemble.connectString, "ensemble")
            looking = cells(output.stdout).first { $0.count > 2 && $0[2] == leaderAddress }
            return output.status == 0 && looking?[1] == "looking"
        }
        #expect(looking?.last == "up", "\(looking ?? [])")

        ensemble.stop()
        let none = try await run(ensemble.connectString, "ensemble")
        #expect(none.status == 1)
        #expect(none.stderr == "zksh: no member answered\n")
        #expect(cells(none.stdout).dropFirst().allSatisfy { $0[1] == "down" && $0.last == "down" })
    }
}
