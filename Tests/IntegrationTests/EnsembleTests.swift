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
