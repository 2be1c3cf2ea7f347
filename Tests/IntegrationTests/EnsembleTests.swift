import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// Replicated ensembles under failure: the same checks against Apache ZooKeeper ensembles and
/// `zksh serve` ensembles started from the same kind of zoo.cfg files.
@Suite(.serialized, .timeLimit(.minutes(4))) struct EnsembleTests {
    /// Writes continuously, SIGKILLs the leader, and checks that a new leader takes over, writes
    /// resume, and every acknowledged write is on every member once the old leader is back.
    @Test(arguments: [(TestServerKind.apache, 3), (.zksh, 3), (.zksh, 5)])
    func leaderKilledWhileClientsWrite(kind: TestServerKind, size: Int) async throws {
        let ensemble = try await kind.startEnsemble(size: size)
        defer { ensemble.stop() }
        let oldLeader = try #require(ensemble.leader())
        let root = uniquePath("failover")
        let writer = try await connectedClient(ensemble.connectString, sessionTimeout: .seconds(20))
        try await writer.create(root)

        let acknowledged = LockedNames()
        let writes = Task {
            // Bounded in count and time: at most 600 writes or 60 s.
            let deadline = ContinuousClock.now + .seconds(60)
            for index in 0..<600 where ContinuousClock.now < deadline {
                let name = String(format: "w%04d", index)
                try await retryingConnectionLoss(attempts: 300) {
                    do {
                        _ = try await writer.create("\(root)/\(name)")
                    } catch let error as ZooKeeperError where error.code == .nodeExists {
                        // The first attempt was applied but its reply was lost with the leader.
                    }
                }
                acknowledged.append(name)
                if acknowledged.count >= 80 + 120 && acknowledged.afterKill >= 120 { return }
            }
        }
        try await eventually("80 writes are acknowledged", within: .seconds(60)) { acknowledged.count >= 80 }
        ensemble.kill(member: oldLeader)
        acknowledged.markKill()
        let newLeader = try await ensemble.waitForQuorum(timeout: .seconds(60))
        #expect(newLeader != oldLeader)
        try await writes.value
        #expect(acknowledged.afterKill >= 100, "writes resumed on the new leader")

        try await ensemble.start(member: oldLeader)
        try await ensemble.waitForQuorum(timeout: .seconds(60))
        let expected = Set(acknowledged.names)
        var seen: [Int: [String]] = [:]
        for member in ensemble.members {
            let reader = try await connectedClient(member.connectString)
            _ = try await retryingConnectionLoss { try await reader.sync(root) }
            let children = try await reader.getChildren(root).children
            #expect(expected.isSubset(of: Set(children)), "member \(member.id) lacks \(expected.subtracting(children).sorted().prefix(5))")
            seen[member.id] = children.sorted()
            try await reader.close()
        }
        #expect(Set(seen.values).count == 1, "every member holds the same children")
        try await writer.close()
    }

    /// A session whose member is killed expires on the leader when it cannot reconnect, and its
    /// ephemeral node disappears on every member, including the killed one after its restart.
    @Test(arguments: TestServerKind.allCases) func expiredSessionsEphemeralsVanishEverywhere(kind: TestServerKind) async throws {
        let ensemble = try await kind.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let leader = try #require(ensemble.leader())
        let follower = try #require(ensemble.members.first { $0.id != leader })
        let path = uniquePath("expiry")
        let doomed = try await connectedClient(follower.connectString, sessionTimeout: .seconds(2))
        try await doomed.create(path, mode: .ephemeral)
        let observer = try await connectedClient(
            ensemble.members.filter { $0.id != follower.id }.map(\.connectString).joined(separator: ","))
        #expect(try await observer.exists(path) != nil)

        ensemble.kill(member: follower.id)
        try await eventually("the ephemeral node is gone", within: .seconds(30)) {
            try await retryingConnectionLoss { try await observer.exists(path) } == nil
        }
        try await ensemble.start(member: follower.id)
        let late = try await connectedClient(follower.connectString)
        _ = try await late.sync(path)
        #expect(try await late.exists(path) == nil)
        try await late.close()
        try await observer.close()
        try? await doomed.close()
    }

    /// A member cut off from the others stops serving, so nothing is written on the minority
    /// side; the majority elects (or keeps) a leader and writes; after healing the member catches up.
    @Test(arguments: [false, true]) func minorityPartitionAcceptsNoWrites(isolateLeader: Bool) async throws {
        let ensemble = try await TestServerKind.zksh.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let leader = try #require(ensemble.leader())
        let isolated = isolateLeader ? leader : try #require(ensemble.members.first { $0.id != leader }).id
        let isolatedMember = ensemble.members[isolated - 1]
        let majority = ensemble.members.filter { $0.id != isolated }.map(\.connectString).joined(separator: ",")
        let root = uniquePath("partition")
        let client = try await connectedClient(majority)
        try await client.create(root)

        try ensemble.partition([isolated])
        defer { ensemble.heal() }
        try await eventually("the isolated member stops serving", within: .seconds(30)) {
            ensemble.mode(of: isolated) == nil
        }
        // A client of the isolated member alone cannot connect, let alone write.
        await #expect(throws: (any Error).self) {
            let stranded = try await connectedClient(isolatedMember.connectString, connectTimeout: .seconds(3))
            try await stranded.create(root + "/minority")
        }
        try await eventually("the majority has a leader", within: .seconds(30)) {
            let modes = ensemble.members.filter { $0.id != isolated }.map { ensemble.mode(of: $0.id) }
            return modes.filter { $0 == "leader" }.count == 1 && modes.allSatisfy { $0 == "leader" || $0 == "follower" }
        }
        for index in 0..<20 {
            try await retryingConnectionLoss { _ = try await client.create("\(root)/m\(index)") }
        }

        ensemble.heal()
        try await eventually("the isolated member serves again", within: .seconds(30)) {
            ensemble.mode(of: isolated) != nil
        }
        let rejoined = try await connectedClient(isolatedMember.connectString)
        _ = try await rejoined.sync(root)
        let children = try await rejoined.getChildren(root).children
        #expect(children.count == 20)
        #expect(!children.contains("minority"))
        try await rejoined.close()
        try await client.close()
    }

    /// `srvr` and `mntr` report each member's role as ZooKeeper does.
    @Test func membersReportTheirRoles() async throws {
        let ensemble = try await TestServerKind.zksh.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let leader = try #require(ensemble.leader())
        for member in ensemble.members {
            let mntr = try fourLetterWord("mntr", port: member.clientPort)
            let state = member.id == leader ? "leader" : "follower"
            #expect(mntr.contains("zk_server_state\t\(state)\n"), "\(mntr)")
            if member.id == leader {
                #expect(mntr.contains("zk_synced_followers\t2\n"), "\(mntr)")
            }
        }
    }

    /// The quorum and election ports take links only from configured members.
    @Test func peerPortsRefuseStrangers() async throws {
        let ensemble = try await TestServerKind.zksh.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let target = ensemble.members[0]
        // A hello claiming to be member 9 (not configured), then garbage.
        var hello: [UInt8] = [0, 0, 0, 14, 0x5A, 0x4B, 0x53, 0x51, 0, 1]
        hello += withUnsafeBytes(of: Int64(9).bigEndian, Array.init)
        let message = hello + [0, 0, 0, 1, 7]
        for port in [target.quorumPort, target.electionPort] {
            let answer = try await blocking { try rawExchange(port: port, send: message) }
            #expect(answer.closed, "the link from a stranger was closed")
        }
        try await eventually("the refusal is logged", within: .seconds(10)) {
            ensemble.logTail(member: 1, lines: 200).contains("not in the configuration")
        }
        // The ensemble still works.
        let client = try await connectedClient(ensemble.connectString)
        try await client.create(uniquePath("after-strangers"))
        try await client.close()
    }
}

/// Observers: they learn every commit and serve clients but do not vote.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EnsembleObserverTests {
    @Test(arguments: TestServerKind.allCases) func observerServesWithoutVoting(kind: TestServerKind) async throws {
        let ensemble = try await ApacheZooKeeperEnsemble.start(kind: kind, size: 4, observers: [4])
        defer { ensemble.stop() }
        #expect(ensemble.mode(of: 4) == "observer")
        let observer = ensemble.members[3]
        let path = uniquePath("observer")
        let client = try await connectedClient(observer.connectString)
        try await client.create(path, data: bytes("through the observer"))
        let voter = try await connectedClient(ensemble.members[0].connectString)
        _ = try await voter.sync(path)
        #expect(try await voter.getData(path).data.text == "through the observer")

        // Two of three voters are a quorum; the observer does not count, and keeps serving.
        let leader = try #require(ensemble.leader())
        let other = try #require(ensemble.members.first { $0.id != leader && $0.id != 4 })
        ensemble.kill(member: other.id)
        try await retryingConnectionLoss { _ = try await client.setData(path, data: bytes("one voter down")) }
        // Without a quorum of voters nothing is written, observer or not.
        ensemble.kill(member: leader)
        await #expect(throws: (any Error).self) {
            let lonely = try await connectedClient(observer.connectString, connectTimeout: .seconds(3))
            try await lonely.setData(path, data: bytes("no quorum"))
        }
        try? await client.close()
        try? await voter.close()
    }
}

/// Dynamic reconfiguration (ZooKeeper 3.5+), the same steps against both kinds of ensemble.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EnsembleReconfigTests {
    @Test(arguments: TestServerKind.allCases) func addAndRemoveMembers(kind: TestServerKind) async throws {
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration = ["reconfigEnabled": "true"]
        let ensemble = try await ApacheZooKeeperEnsemble.start(kind: kind, size: 3, spares: 1, configuration: configuration)
        defer { ensemble.stop() }
        let root = uniquePath("reconfig")
        let plain = try await connectedClient(ensemble.connectString)
        try await plain.create(root, data: bytes("before"))
        // Only the superuser may change the membership by default.
        await #expect(throws: ZooKeeperError.self) {
            _ = try await plain.reconfig(joining: nil, leaving: "1", newMembers: nil)
        }
        // Not through member 1, which leaves below (its clients lose their connection then).
        let survivors = ensemble.members[1...2].map(\.connectString).joined(separator: ",")
        let admin = try await connectedClient(survivors) {
            $0.credentials = [("digest", bytes("super:admin"))]
        }
        let initial = try await admin.getConfig()
        #expect(initial.data.text.contains("server.3="), "\(initial.data.text)")

        let joiner = ensemble.members[3]
        try ensemble.launch(member: joiner.id)
        let spec = "server.4=127.0.0.1:\(joiner.quorumPort):\(joiner.electionPort):participant;127.0.0.1:\(joiner.clientPort)"
        let added = try await retryingConnectionLoss { try await admin.reconfig(joining: spec, leaving: nil, newMembers: nil) }
        let addedText = added.data.text
        #expect(addedText.contains("server.4=127.0.0.1:\(joiner.quorumPort):\(joiner.electionPort)"), "\(addedText)")
        #expect(addedText.contains("version=\(String(added.stat.mzxid, radix: 16))"), "\(addedText)")
        try await eventually("the new member serves", within: .seconds(60)) {
            let mode = ensemble.mode(of: joiner.id)
            return mode == "follower" || mode == "leader"
        }
        let onJoiner = try await connectedClient(joiner.connectString)
        _ = try await onJoiner.sync(root)
        #expect(try await onJoiner.getData(root).data.text == "before")
        try await onJoiner.setData(root, data: bytes("written on the new member"))

        // A stale version is refused; then member 1 leaves (whichever role it has).
        await #expect(throws: ZooKeeperError.self) {
            _ = try await admin.reconfig(joining: nil, leaving: "1", newMembers: nil, fromConfig: initial.stat.mzxid)
        }
        let removed = try await retryingConnectionLoss {
            try await admin.reconfig(joining: nil, leaving: "1", newMembers: nil, fromConfig: added.stat.mzxid)
        }
        #expect(!removed.data.text.contains("server.1="), "\(removed.data.text)")
        try await eventually("the remaining members agree on the membership", within: .seconds(60)) {
            let config = try? await onJoiner.getConfig()
            return config?.data == removed.data
        }
        try await retryingConnectionLoss { _ = try await onJoiner.setData(root, data: bytes("after")) }
        #expect(try await onJoiner.getData(root).data.text == "after")
        try await onJoiner.close()
        try? await admin.close()
        try? await plain.close()
    }
}

/// The shell's `reconfig` command, against both kinds of ensemble.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ShellReconfigTests {
    @Test(arguments: TestServerKind.allCases) func reconfigCommand(kind: TestServerKind) async throws {
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration = ["reconfigEnabled": "true"]
        let ensemble = try await kind.startEnsemble(size: 3, configuration: configuration)
        defer { ensemble.stop() }
        let zksh = builtProductPath("zksh")
        // A follower leaves (removing the leader drops its followers' clients in ZooKeeper).
        let leader = try #require(ensemble.leader())
        let leaving = try #require(ensemble.members.last { $0.id != leader }).id
        let survivors = ensemble.members.filter { $0.id != leaving }.map(\.connectString).joined(separator: ",")
        func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await blocking { try runProcess(zksh, ["-s", survivors] + arguments, timeout: .seconds(60)) }
        }
        let usage = try await run(["-c", "reconfig"])
        #expect(usage.status == 2, "\(usage.stderr)")
        let denied = try await run(["-c", "reconfig -remove \(leaving)"])
        #expect(denied.status == 1 && denied.stderr.contains("NOAUTH"), "\(denied.stderr)")
        let stale = try await run(["--auth", "digest:super:admin", "-c", "reconfig -remove \(leaving) -v 1"])
        #expect(stale.status == 1 && stale.stderr.contains("BADVERSION"), "\(stale.stderr)")

        let removed = try await run(["--auth", "digest:super:admin", "-c", "reconfig -remove \(leaving)"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.hasPrefix("Committed new configuration:\nserver."), "\(removed.stdout)")
        #expect(!removed.stdout.contains("server.\(leaving)="), "\(removed.stdout)")
        let json = try await run(["--json", "config"])
        #expect(json.stdout.contains("\"members\":[\"server."), "\(json.stdout)")
        #expect(!json.stdout.contains("server.\(leaving)="), "\(json.stdout)")

        // The whole membership from a file (as a dynamic configuration file has it): the same
        // members again, in a new version.
        let members = try await run(["config", "-c"])
        let file = NSTemporaryDirectory() + "zksh-members-\(UUID().uuidString.prefix(8)).cfg"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try members.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let whole = try await run(["--auth", "digest:super:admin", "-c", "reconfig -file \(file)"])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.contains(members.stdout), "\(whole.stdout)")

        if kind == .zksh {
            // zksh also answers when the leader removes itself (its followers take the new
            // membership just after the reply has passed); the last member then leads alone.
            let last = try #require(ensemble.members.first { $0.id != leader && $0.id != leaving })
            let stepDown = try await run(["--auth", "digest:super:admin", "-c", "reconfig -remove \(leader)"])
            #expect(stepDown.status == 0, "\(stepDown.stderr)")
            #expect(!stepDown.stdout.contains("server.\(leader)="), "\(stepDown.stdout)")
            try await eventually("the last member leads", within: .seconds(30)) { ensemble.mode(of: last.id) == "leader" }
        }
    }
}

/// Clients we did not write, against a zksh ensemble that loses a member mid-run.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EnsembleRealClientTests {
    /// kazoo writes continuously while the leader is SIGKILLed: its session, ephemeral node and
    /// DataWatch survive, and every acknowledged write reads back.
    @Test func kazooKeepsItsSessionThroughALeaderKill() async throws {
        let ensemble = try await TestServerKind.zksh.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let leader = try #require(ensemble.leader())
        let script = try scriptPath("kazoo_failover.py")
        let ready = NSTemporaryDirectory() + "kazoo-ready-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: ready) }
        let connectString = ensemble.connectString
        let run = Task {
            try await blocking {
                try runProcess("/usr/bin/python3", [script, connectString, "6", ready], timeout: .seconds(90))
            }
        }
        try await eventually("kazoo has written", within: .seconds(30)) { FileManager.default.fileExists(atPath: ready) }
        ensemble.kill(member: leader)
        let result = try await run.value
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("failover OK"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("SUSPENDED"), "kazoo noticed the failover: \(result.stdout)")
    }

    /// zkCli.sh, given all three members, works with one of them dead.
    @Test func zkCliWorksWithAMemberDown() async throws {
        let ensemble = try await TestServerKind.zksh.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let leader = try #require(ensemble.leader())
        ensemble.kill(member: leader)
        try await eventually("the others elect a leader", within: .seconds(30)) {
            ensemble.members.contains { $0.id != leader && ensemble.mode(of: $0.id) == "leader" }
        }
        let servers = ensemble.members.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",")
        let path = uniquePath("zkcli")
        let result = try await blocking {
            try runProcess(
                "/usr/share/zookeeper/bin/zkCli.sh", ["-server", servers],
                // zkCli sends its first command while still connecting: if it tried the dead
                // member first, that command fails with ConnectionLoss, so it is a throwaway.
                stdin: "ls /zookeeper\ncreate \(path) survived\nget \(path)\nls /\nquit\n",
                environment: ["CLIENT_JVMFLAGS": "-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"],
                timeout: .seconds(90))
        }
        #expect((result.stdout + result.stderr).contains("Created \(path)"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("\nsurvived\n"), "\(result.stdout)")
        #expect(result.stdout.contains(String(path.dropFirst())), "\(result.stdout)")
        let client = try await connectedClient(ensemble.connectString)
        #expect(try await client.getData(path).data.text == "survived")
        try await client.close()
    }
}

/// Names appended by a writer task and read by the test.
final class LockedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    private var killIndex: Int?

    func append(_ name: String) { lock.withLock { storage.append(name) } }
    var names: [String] { lock.withLock { storage } }
    var count: Int { lock.withLock { storage.count } }
    func markKill() { lock.withLock { killIndex = storage.count } }
    /// Writes acknowledged after ``markKill()``.
    var afterKill: Int { lock.withLock { killIndex.map { storage.count - $0 } ?? 0 } }
}

/// Sends bytes on a loopback TCP connection and reports whether the peer closed it within 5 s.
func rawExchange(port: Int, send bytes: [UInt8]) throws -> (closed: Bool, received: [UInt8]) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestSupportError("cannot connect to port \(port)") }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count == 0 { return (true, received) }
        if count < 0 { return (errno == ECONNRESET, received) }
        received += buffer[0..<count]
    }
}
