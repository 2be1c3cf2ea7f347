import Foundation
import NIOPosix
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Files of a local ensemble

@Suite("Local ensemble: zoo.cfg, partition files, member directories")
struct LocalEnsembleLayoutTests {
    static let members = [
        LocalEnsembleMember(id: 2, clientPort: 21002, quorumPort: 22002, electionPort: 23002, directory: "/e/member2"),
        LocalEnsembleMember(id: 1, clientPort: 21001, quorumPort: 22001, electionPort: 23001, directory: "/e/member1"),
        LocalEnsembleMember(id: 3, clientPort: 21003, quorumPort: 22003, electionPort: 23003, directory: "/e/member3"),
    ]

    @Test func memberPaths() {
        let member = Self.members[1]
        #expect(member.configurationFile == "/e/member1/zoo.cfg")
        #expect(member.dataDirectory == "/e/member1/data")
        #expect(member.myidFile == "/e/member1/data/myid")
        #expect(member.logFile == "/e/member1/zksh.log")
        #expect(member.partitionFile == "/e/member1/data/zksh-partition")
        #expect(member.clientAddress == HostAndPort(host: "127.0.0.1", port: 21001))
        #expect(member.serverLine == "server.1=127.0.0.1:22001:23001:participant;127.0.0.1:21001")
        #expect(LocalEnsembleLayout.directoryName(of: 7) == "member7")
    }

    @Test func configurationListsEveryMemberInIDOrder() {
        let text = LocalEnsembleLayout.configuration(of: Self.members[0], members: Self.members, adminPassword: "secret")
        #expect(text == """
            # Written by zksh for a local ensemble (zksh --ensemble, 'ensemble start').
            tickTime=200
            initLimit=10
            syncLimit=5
            electionFinalizeWait=50
            dataDir=/e/member2/data
            clientPort=21002
            clientPortAddress=127.0.0.1
            4lw.commands.whitelist=*
            reconfigEnabled=true
            standaloneEnabled=false
            admin.enableServer=false
            DigestAuthenticationProvider.superDigest=super:lK75jTNcA+U9vtVEw5vB51mj/w4=
            server.1=127.0.0.1:22001:23001:participant;127.0.0.1:21001
            server.2=127.0.0.1:22002:23002:participant;127.0.0.1:21002
            server.3=127.0.0.1:22003:23003:participant;127.0.0.1:21003

            """)
    }

    @Test func configurationReadsBack() {
        for member in Self.members {
            let text = LocalEnsembleLayout.configuration(of: member, members: Self.members, adminPassword: "secret")
            #expect(LocalEnsembleLayout.member(fromConfiguration: text, id: member.id, directory: member.directory) == member)
        }
        let text = LocalEnsembleLayout.configuration(of: Self.members[0], members: Self.members, adminPassword: "secret")
        #expect(LocalEnsembleLayout.member(fromConfiguration: text, id: 9, directory: "/e/member9") == nil)
        #expect(LocalEnsembleLayout.serverLines(in: "server.4 = h:1:2;h:3\n# server.5=x\nserverX.6=y\n") == [4: "h:1:2;h:3"])
        // Apache ZooKeeper's form without a client address is not a member zksh wrote.
        #expect(LocalEnsembleLayout.member(fromConfiguration: "server.1=127.0.0.1:1:2\n", id: 1, directory: "/d") == nil)
    }

    @Test func sizes() {
        #expect([1, 3, 5, 7, 9].allSatisfy(LocalEnsembleLayout.isValidSize))
        #expect(![0, 2, 4, 8, 10, 11, -1].contains(where: LocalEnsembleLayout.isValidSize))
    }

    @Test func partitionFilesCutBothWays() {
        let files = LocalEnsembleLayout.partitionFiles(isolating: [1, 2], members: [1, 2, 3, 4, 5])
        #expect(files == [1: [3, 4, 5], 2: [3, 4, 5], 3: [1, 2], 4: [1, 2], 5: [1, 2]])
        #expect(LocalEnsembleLayout.partitionFileText(files[1]!) == "3 4 5\n")
        #expect(LocalEnsembleLayout.partitionFileIDs("3 4\t5\n junk 7") == [3, 4, 5, 7])
        // No second side, no partition.
        #expect(LocalEnsembleLayout.partitionFiles(isolating: [1, 2, 3], members: [1, 2, 3]).isEmpty)
        #expect(LocalEnsembleLayout.partitionFiles(isolating: [], members: [1, 2, 3]).isEmpty)
        #expect(LocalEnsembleLayout.partitionFiles(isolating: [3, 8], members: [1, 2, 3]) == [3: [1, 2], 1: [3], 2: [3]])
        #expect(LocalEnsembleLayout.sides(isolating: [1, 2], members: [1, 2, 3, 4, 5]) == [[1, 2], [3, 4, 5]])
        #expect(LocalEnsembleLayout.sides(isolating: nil, members: [1, 2, 3]) == [[1, 2, 3]])
    }
}

/// A stand-in for `zksh serve`: a shell script that records its arguments in the member's log
/// and then runs `body`.
private func fakeMemberProgram(_ body: String, in directory: URL) throws -> String {
    let path = directory.appendingPathComponent("fake-zksh-\(UUID().uuidString.prefix(6))").path
    try "#!/bin/sh\necho \"args: $*\"\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-ensemble-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Waits until `condition` holds (a liveness bound, not a speed check).
private func eventually(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

@Suite("Local ensemble: directories and member processes", .serialized)
struct LocalEnsembleProcessTests {
    @Test func writesEveryMembersFilesAndReusesAKeptDirectory() async throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root = scratch.appendingPathComponent("kept").path
        let ensemble = try LocalEnsemble.create(size: 3, dataDirectory: root, executable: "/bin/false")
        #expect(ensemble.keepsData && ensemble.root == root)
        #expect(ensemble.memberIDs == [1, 2, 3])
        let ports = ensemble.members.flatMap { [$0.clientPort, $0.quorumPort, $0.electionPort] }
        #expect(Set(ports).count == 9 && ports.allSatisfy { $0 > 0 && $0 < 65536 })
        #expect(ensemble.connectString == ensemble.members.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ","))
        for member in ensemble.members {
            #expect(member.directory == root + "/member\(member.id)")
            #expect(try String(contentsOfFile: member.myidFile, encoding: .utf8) == "\(member.id)\n")
            let configuration = try String(contentsOfFile: member.configurationFile, encoding: .utf8)
            #expect(configuration == LocalEnsembleLayout.configuration(of: member, members: ensemble.members, adminPassword: try ensemble.adminPassword()))
        }

        // Partition and heal write and remove the files the members read.
        try ensemble.partition(isolating: [1])
        #expect(try String(contentsOfFile: ensemble.member(1)!.partitionFile, encoding: .utf8) == "2 3\n")
        #expect(try String(contentsOfFile: ensemble.member(3)!.partitionFile, encoding: .utf8) == "1\n")
        #expect(ensemble.sides == [[1], [2, 3]])
        #expect(throws: ShellError("ensemble: no member 4")) { try ensemble.partition(isolating: [4]) }
        #expect(throws: ShellError("ensemble: a partition needs members on both sides")) {
            try ensemble.partition(isolating: [1, 2, 3])
        }
        try ensemble.heal()
        #expect(ensemble.members.allSatisfy { !FileManager.default.fileExists(atPath: $0.partitionFile) })
        #expect(ensemble.sides == [[1, 2, 3]])

        await ensemble.shutdown()
        #expect(FileManager.default.fileExists(atPath: root + "/member1/zoo.cfg"), "a --data-dir is kept")

        // The kept directory starts the same ensemble again; another size or a foreign directory is refused.
        let again = try LocalEnsemble.create(size: 3, dataDirectory: root, executable: "/bin/false")
        #expect(again.members == ensemble.members)
        await again.shutdown()
        #expect(throws: ShellError("ensemble: \(root) holds an ensemble of 3 members, not 5")) {
            try LocalEnsemble.create(size: 5, dataDirectory: root, executable: "/bin/false")
        }
        let foreign = scratch.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try "x".write(to: foreign.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        #expect(throws: ShellError("ensemble: \(foreign.path) is not empty and holds no ensemble written by zksh")) {
            try LocalEnsemble.create(size: 1, dataDirectory: foreign.path, executable: "/bin/false")
        }
    }

    @Test func temporaryDirectoriesOfShellsThatAreGoneAreSwept() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        func root(_ name: String, pid: String?) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try FileManager.default.createDirectory(atPath: path + "/member1/data", withIntermediateDirectories: true)
            if let pid { try pid.write(toFile: path + "/zksh-shell.pid", atomically: true, encoding: .utf8) }
            return path
        }
        let abandoned = try root("zksh-ensemble-gone01", pid: "2147483647\n")  // above any pid_max
        let alive = try root("zksh-ensemble-alive1", pid: "\(getpid())\n")
        let kept = try root("zksh-ensemble-kept01", pid: nil)
        let unrelated = try root("other-gone01", pid: "2147483647\n")
        #expect(LocalEnsemble.sweepAbandonedTemporaryDirectories(in: scratch.path) == [abandoned])
        for path in [alive, kept, unrelated] { #expect(FileManager.default.fileExists(atPath: path)) }
        #expect(!FileManager.default.fileExists(atPath: abandoned))
    }

    @Test func startsKillsStopsAndReapsMembers() async throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Ends on SIGTERM (sleep in the background so that the shell's trap runs at once).
        let program = try fakeMemberProgram("trap 'echo terminated; exit 0' TERM\nsleep 60 & wait $!", in: scratch)
        let ensemble = try LocalEnsemble.create(size: 3, executable: program)
        let root = ensemble.root
        #expect(!ensemble.keepsData && root.contains("zksh-ensemble-"))
        #expect(try String(contentsOfFile: root + "/zksh-shell.pid", encoding: .utf8) == "\(getpid())\n")
        #expect(FileManager.default.fileExists(atPath: root + "/member2/data/myid"))

        for id in ensemble.memberIDs { try ensemble.start(id) }
        #expect(ensemble.runningMembers == [1, 2, 3])
        let pid = try #require(ensemble.pid(of: 2))
        #expect(kill(pid, 0) == 0)
        #expect(throws: ShellError("ensemble: member 2 is already running (pid \(pid))")) { try ensemble.start(2) }
        #expect(throws: ShellError("ensemble: no member 4")) { try ensemble.start(4) }
        let member2 = try #require(ensemble.member(2))
        #expect(try await eventually {
            ((try? String(contentsOfFile: member2.logFile, encoding: .utf8)) ?? "").contains("args: serve --config \(member2.configurationFile) --exit-with-parent")
        })

        #expect(await ensemble.kill(2) == pid)
        #expect(ensemble.pid(of: 2) == nil && ensemble.runningMembers == [1, 3])
        #expect(kill(pid, 0) == -1, "the killed member was reaped")
        #expect(await ensemble.kill(2) == nil)

        let pid3 = try #require(ensemble.pid(of: 3))
        #expect(await ensemble.stop(3) == pid3)
        #expect(try await eventually {
            ((try? String(contentsOfFile: ensemble.member(3)!.logFile, encoding: .utf8)) ?? "").contains("terminated")
        })
        #expect(ensemble.takeUnexpectedExits().isEmpty, "members the shell ended are no surprise")

        // Restart: the same member, a new process, its log appended.
        let restarted = try ensemble.start(2)
        #expect(restarted != pid && ensemble.pid(of: 2) == restarted)

        let stopped = await ensemble.shutdown()
        #expect(stopped.map(\.member) == [1, 2])
        #expect(ensemble.runningMembers.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root), "a temporary directory is removed")
    }

    @Test func aMemberThatExitsByItselfIsReportedOnce() async throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let program = try fakeMemberProgram("exit 3", in: scratch)
        let ensemble = try LocalEnsemble.create(size: 1, executable: program)
        let pid = try ensemble.start(1)
        #expect(try await eventually { ensemble.pid(of: 1) == nil })
        let exits = ensemble.takeUnexpectedExits()
        #expect(exits.count == 1 && exits.first?.member == 1 && exits.first?.pid == pid && exits.first?.status == 3)
        #expect(ensemble.takeUnexpectedExits().isEmpty)
        #expect(ensemble.logTail(of: 1).contains("args: serve --config"))
        await ensemble.shutdown()
    }

    @Test func startFailsWithTheLogOfAMemberThatExits() async throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let program = try fakeMemberProgram("echo 'cannot listen: address in use'; exit 1", in: scratch)
        let ensemble = try LocalEnsemble.create(size: 1, executable: program)
        try ensemble.start(1)
        let monitor = EnsembleMonitor(ensemble: ensemble, eventLoopGroup: group)
        var tracker = EnsembleTracker(baseline: [:], sides: ensemble.sides)
        var events: [EnsembleEvent] = []
        do {
            _ = try await monitor.follow(&tracker, since: .now, timeout: .seconds(30), failOnExit: true) { events.append($0) }
            Issue.record("a member that exits fails the start")
        } catch let error as ShellError {
            #expect(error.message.hasPrefix("ensemble: member 1 exited with status 1 (log: \(ensemble.root)/member1/zksh.log):"))
            #expect(error.message.hasSuffix("cannot listen: address in use"))
        }
        #expect(events.contains { if case .exited(member: 1, pid: _, status: 1) = $0 { return true } else { return false } })
        await ensemble.shutdown()
        try await group.shutdownGracefully()
    }
}

@Suite("Local ensemble: waiting for an ensemble that does not settle", .serialized)
struct EnsembleMonitorTests {
    @Test func ctrlCStopsTheWaitingAndATimeoutNamesEveryMember() async throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Members that run but never answer: never settled.
        let program = try fakeMemberProgram("sleep 60 & wait $!", in: scratch)
        let ensemble = try LocalEnsemble.create(size: 3, executable: program)
        for id in ensemble.memberIDs { try ensemble.start(id) }
        let monitor = EnsembleMonitor(ensemble: ensemble, eventLoopGroup: group)

        let waiting = Task {
            var tracker = EnsembleTracker(baseline: [:], sides: ensemble.sides)
            return try await monitor.follow(&tracker, since: .now, timeout: .seconds(120)) { _ in }
        }
        try await Task.sleep(for: .milliseconds(300))
        waiting.cancel()
        #expect(try await waiting.value == .cancelled)
        #expect(ensemble.runningMembers == [1, 2, 3], "Ctrl-C stops the waiting, not the members")

        var tracker = EnsembleTracker(baseline: [:], sides: ensemble.sides)
        await #expect(throws: ShellError("ensemble: did not settle within 0.5 s (member 1 down, member 2 down, member 3 down)")) {
            _ = try await monitor.follow(&tracker, since: .now, timeout: .milliseconds(500)) { _ in }
        }
        await ensemble.shutdown()
        try await group.shutdownGracefully()
    }
}

// MARK: Following an ensemble

@Suite("Local ensemble: events and settling")
struct EnsembleTrackerTests {
    typealias Observation = EnsembleTracker.Observation

    static func observations(_ roles: [Int: MemberRole], zxid: Int64? = nil) -> [Int: Observation] {
        roles.mapValues { Observation(role: $0, zxid: $0 == .down || $0 == .looking ? nil : zxid) }
    }

    @Test func killingTheLeaderReportsTheElectionAndTheNewFollowers() {
        let all: [Set<Int>] = [[1, 2, 3]]
        var tracker = EnsembleTracker(baseline: Self.observations([1: .follower, 2: .follower, 3: .leader], zxid: 0x1_0000_0005), sides: all)
        tracker.assume(3, is: .down)
        // Followers have not noticed yet: nothing new.
        #expect(tracker.observed(Self.observations([1: .follower, 2: .follower, 3: .down]), sides: all, elapsed: .milliseconds(50)).isEmpty)
        #expect(tracker.observed(Self.observations([1: .looking, 2: .looking, 3: .down]), sides: all, elapsed: .milliseconds(900))
            == [.looking(member: 1), .looking(member: 2)])
        // Member 1 follows before member 2 shows itself as leader: reported once the leader shows.
        #expect(tracker.observed(Self.observations([1: .follower, 2: .looking, 3: .down]), sides: all, elapsed: .milliseconds(1200)).isEmpty)
        let events = tracker.observed(Self.observations([1: .follower, 2: .leader, 3: .down], zxid: 0x2_0000_0000),
                                      sides: all, elapsed: .milliseconds(1250))
        #expect(events == [.elected(member: 2, after: .milliseconds(1250), zxid: 0x2_0000_0000), .following(member: 1, leader: 2)])
        #expect(events.map(\.description) == ["member 2 elected leader after 1250 ms at zxid 0x200000000", "member 1 following 2"])
        #expect(EnsembleTracker.isSettled(tracker.roles, running: [1, 2], voters: [1, 2, 3], sides: all))
        #expect(tracker.flush().isEmpty)
        // A restarted member comes back as a follower of the current leader.
        #expect(tracker.observed(Self.observations([1: .follower, 2: .leader, 3: .follower]), sides: all, elapsed: .seconds(3))
            == [.following(member: 3, leader: 2)])
    }

    @Test func clientsThatMovedAreReported() {
        let all: [Set<Int>] = [[1, 2, 3]]
        var tracker = EnsembleTracker(
            baseline: [1: Observation(role: .follower, connections: 0), 2: Observation(role: .follower, connections: 1),
                       3: Observation(role: .leader, connections: 2)],
            sides: all)
        #expect(tracker.connectionChanges.isEmpty)
        _ = tracker.observed([1: Observation(role: .leader, connections: 2), 2: Observation(role: .follower, connections: 1),
                              3: Observation(role: .down), 4: Observation(role: .follower, connections: 0)],
                             sides: all, elapsed: .milliseconds(300))
        let changes = tracker.connectionChanges
        #expect(changes == [.init(member: 1, before: 0, after: 2), .init(member: 3, before: 2, after: nil)])
        #expect(EnsembleEvent.clients(changes).description == "clients: member 1 0 → 2, member 3 2 → down")
    }

    @Test func aFollowerWhoseLeaderNeverShowsIsReportedWithoutOne() {
        let all: [Set<Int>] = [[1, 2, 3]]
        var tracker = EnsembleTracker(baseline: [:], sides: all)
        #expect(tracker.observed(Self.observations([1: .follower, 2: .down, 3: .looking]), sides: all, elapsed: .zero)
            == [.looking(member: 3)])
        #expect(tracker.flush() == [.following(member: 1, leader: nil)])
        #expect(EnsembleEvent.following(member: 1, leader: nil).description == "member 1 following")
        #expect(tracker.flush().isEmpty)
    }

    @Test func theLeaderOfAFollowerIsOnItsSideOfAPartition() {
        let sides: [Set<Int>] = [[1, 2], [3, 4, 5]]
        var tracker = EnsembleTracker(
            baseline: Self.observations([1: .leader, 2: .follower, 3: .follower, 4: .follower, 5: .follower]), sides: [[1, 2, 3, 4, 5]])
        let events = tracker.observed(Self.observations([1: .looking, 2: .looking, 3: .follower, 4: .leader, 5: .follower]),
                                      sides: sides, elapsed: .milliseconds(700))
        #expect(events == [.looking(member: 1), .looking(member: 2), .elected(member: 4, after: .milliseconds(700), zxid: nil),
                           .following(member: 3, leader: 4), .following(member: 5, leader: 4)])
        #expect(EnsembleTracker.isSettled(tracker.roles, running: [1, 2, 3, 4, 5], voters: [1, 2, 3, 4, 5], sides: sides))
    }

    @Test func settling() {
        let voters: Set<Int> = [1, 2, 3]
        let all: [Set<Int>] = [[1, 2, 3]]
        func settled(_ roles: [Int: MemberRole], running: Set<Int> = [1, 2, 3], sides: [Set<Int>] = all) -> Bool {
            EnsembleTracker.isSettled(roles, running: running, voters: voters, sides: sides)
        }
        #expect(settled([1: .leader, 2: .follower, 3: .follower]))
        #expect(settled([1: .leader, 2: .follower, 3: .observer]))
        #expect(!settled([1: .leader, 2: .follower, 3: .looking]), "a running member still looking")
        #expect(!settled([1: .leader, 2: .leader, 3: .follower]), "two leaders")
        #expect(!settled([1: .follower, 2: .follower, 3: .follower]), "no leader")
        #expect(!settled([1: .follower, 2: .follower, 3: .leader], running: [1, 2]), "a killed member still answering")
        #expect(settled([1: .leader, 2: .follower, 3: .down], running: [1, 2]))
        // Without a majority every running member looks for a leader.
        #expect(settled([1: .looking, 2: .down, 3: .down], running: [1]))
        #expect(!settled([1: .leader, 2: .down, 3: .down], running: [1]), "a leader without quorum has not stepped down yet")
        // A partition: the majority side elects, the minority side looks.
        let sides: [Set<Int>] = [[1], [2, 3]]
        #expect(settled([1: .looking, 2: .leader, 3: .follower], sides: sides))
        #expect(!settled([1: .leader, 2: .follower, 3: .follower], sides: sides), "the old leader is cut off but has not noticed")
        #expect(!settled([1: .looking, 2: .follower, 3: .follower], sides: sides), "the majority has no leader yet")
    }

    @Test func eventTextAndJSON() {
        #expect(EnsembleEvent.killed(member: 3, pid: 1234).description == "member 3 killed (pid 1234)")
        #expect(EnsembleEvent.stopped(member: 3, pid: 1234).description == "member 3 stopped (pid 1234)")
        #expect(EnsembleEvent.started(member: 1, pid: 9, clientPort: 2181).description == "member 1 started (pid 9, client port 2181)")
        #expect(EnsembleEvent.exited(member: 2, pid: 9, status: 1).description == "member 2 exited with status 1 (pid 9)")
        #expect(EnsembleEvent.down(member: 2).description == "member 2 down")
        #expect(EnsembleEvent.looking(member: 2).description == "member 2 looking for a leader")
        #expect(EnsembleEvent.elected(member: 2, after: .milliseconds(412), zxid: nil).description == "member 2 elected leader after 412 ms")
        #expect(EnsembleEvent.observing(member: 4, leader: 2).description == "member 4 observing 2")
        #expect(EnsembleEvent.role(member: 1, .standalone).description == "member 1 standalone")
        #expect(EnsembleEvent.settled(after: .milliseconds(1500), roles: [1: .leader, 2: .follower, 3: .follower, 4: .down, 5: .looking]).description
            == "settled after 1500 ms: leader 1; followers 2, 3; looking 5; down 4")
        #expect(EnsembleEvent.elected(member: 2, after: .milliseconds(412), zxid: 0x2_0000_0000).json
            == ["event": "elected", "member": 2, "afterMs": 412, "zxid": "0x200000000"])
        #expect(EnsembleEvent.following(member: 1, leader: nil).json == ["event": "following", "member": 1, "leader": .null])
        #expect(EnsembleEvent.settled(after: .milliseconds(7), roles: [1: .leader]).json
            == ["event": "settled", "afterMs": 7, "roles": ["1": "leader"]])
    }
}

// MARK: ensemble status

@Suite("ensemble status: rows from srvr, mntr and conf")
struct EnsembleStatusTests {
    static let srvr = FourLetterWordParsingTests.srvr
    static let mntr = "zk_version\t3.8.0\nzk_server_state\tfollower\nzk_znode_count\t5\nzk_num_alive_connections\t1\n"
    static let conf = "clientPort=2181\ndataDir=/d/version-2\nserverId=2\n"

    @Test func rolesFromReplies() {
        func role(_ text: String) -> MemberRole { MemberRole(MemberReply(member: "h:1", outcome: .answered(text))) }
        #expect(role(Self.srvr) == .follower)
        #expect(role(Self.srvr.replacingOccurrences(of: "Mode: follower", with: "Mode: leader")) == .leader)
        #expect(role("Mode: standalone\n") == .standalone)
        #expect(role("Mode: observer\n") == .observer)
        #expect(role("Mode: read-only\n") == .readOnly)
        #expect(role("This ZooKeeper instance is not currently serving requests\n") == .looking)
        #expect(role("srvr is not executed because it is not in the whitelist.\n") == .unknown)
        #expect(MemberRole(MemberReply(member: "h:1", outcome: .down("connection refused"))) == .down)
    }

    @Test func rowAndTable() {
        let answered = EnsembleCommand.row(
            srvr: MemberReply(member: "127.0.0.1:2181", outcome: .answered(Self.srvr)),
            mntr: MemberReply(member: "127.0.0.1:2181", outcome: .answered(Self.mntr)),
            conf: MemberReply(member: "127.0.0.1:2181", outcome: .answered(Self.conf)))
        #expect(answered == EnsembleCommand.StatusRow(id: 2, address: "127.0.0.1:2181", role: .follower, pid: nil,
                                                      zxid: 0x2_0000_0003, connections: 1, znodes: 5, problem: nil))
        let looking = EnsembleCommand.row(
            srvr: MemberReply(member: "127.0.0.1:2182", outcome: .answered("This ZooKeeper instance is not currently serving requests\n")),
            mntr: MemberReply(member: "127.0.0.1:2182", outcome: .answered("This ZooKeeper instance is not currently serving requests\n")),
            conf: MemberReply(member: "127.0.0.1:2182", outcome: .answered("clientPort=2182\nserverId=3\n")))
        #expect(looking.role == .looking && looking.id == 3 && looking.zxid == nil)
        let down = EnsembleCommand.row(
            srvr: MemberReply(member: "127.0.0.1:2183", outcome: .down("connection refused")),
            mntr: MemberReply(member: "127.0.0.1:2183", outcome: .down("connection refused")),
            conf: MemberReply(member: "127.0.0.1:2183", outcome: .down("connection refused")))
        #expect(down.role == .down && down.id == nil && down.problem == "connection refused")
        // A server that does not allow srvr: the role, connections and znodes come from mntr.
        let fromMntr = EnsembleCommand.row(
            srvr: MemberReply(member: "h:1", outcome: .answered("srvr is not executed because it is not in the whitelist.\n")),
            mntr: MemberReply(member: "h:1", outcome: .answered(Self.mntr)),
            conf: MemberReply(member: "h:1", outcome: .answered("conf is not executed because it is not in the whitelist.\n")))
        #expect(fromMntr.role == .follower && fromMntr.connections == 1 && fromMntr.znodes == 5 && fromMntr.id == nil)

        var local = answered
        local.pid = 4242
        #expect(EnsembleCommand.table([local, looking, down]) == """
            ID  ROLE      ADDRESS         PID   EPOCH  LAST ZXID    CONNECTIONS  ZNODES  STATUS
            2   follower  127.0.0.1:2181  4242  2      0x200000003  1            5       up
            3   looking   127.0.0.1:2182  -     -      -            -            -       up
            -   down      127.0.0.1:2183  -     -      -            -            -       down

            """)
        let json = EnsembleCommand.json(local, metrics: MemberReply(member: "127.0.0.1:2181", outcome: .answered(Self.mntr)))
        guard case .object(let object) = json else {
            Issue.record("not an object")
            return
        }
        #expect(object["id"] == 2 && object["role"] == "follower" && object["pid"] == 4242 && object["epoch"] == 2)
        #expect(object["zxid"] == "0x200000003" && object["status"] == "up" && object["error"] == nil)
        #expect(object["metrics"] == ["zk_version": "3.8.0", "zk_server_state": "follower", "zk_znode_count": 5, "zk_num_alive_connections": 1])
    }

    @Test func withoutALocalEnsembleTheActionsSaySo() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let output = BufferOutputWriter()
        let context = ShellContext(options: .init(connectString: "127.0.0.1:1"), output: output, eventLoopGroup: group)
        let runner = ShellRunner(context: context, handlesInterrupts: false)
        for words in [["ensemble", "kill", "1"], ["ensemble", "stop"], ["ensemble", "heal"], ["ensemble", "add"],
                      ["ensemble", "partition", "1"], ["ensemble", "restart", "2"], ["ensemble", "remove", "2"]] {
            output.reset()
            #expect(await runner.execute(words) == .failure, "\(words)")
            #expect(output.errorText == "zksh: ensemble: no local ensemble (start one with 'ensemble start' or 'zksh --ensemble 3')\n")
        }
        output.reset()
        #expect(await runner.execute(["ensemble", "--json"]) == .failure)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.outputText.utf8)) as? [String: Any])
        let members = try #require(document["members"] as? [[String: Any]])
        #expect(members.count == 1 && members[0]["role"] as? String == "down" && members[0]["status"] as? String == "down")
        #expect(output.errorText == "zksh: no member answered\n")
        try await group.shutdownGracefully()
    }
}

// MARK: Parsing and completion

@Suite("ensemble: parsing and completion")
struct EnsembleParsingTests {
    @Test func actionsAndTheirArguments() throws {
        let status = try parse(["ensemble"], as: EnsembleCommand.self)
        #expect(status.action == .status && status.ids.isEmpty && status.timeout == 30)
        #expect(try parse(["ensemble", "kill", "1", "2"], as: EnsembleCommand.self).ids == [1, 2])
        #expect(try parse(["ensemble", "start"], as: EnsembleCommand.self).ids.isEmpty)
        let start = try parse(["ensemble", "start", "5", "--data-dir", "/tmp/e", "--timeout", "60"], as: EnsembleCommand.self)
        #expect(start.action == .start && start.ids == [5] && start.dataDirectory == "/tmp/e" && start.timeout == 60)
        #expect(try parse(["ensemble", "stop"], as: EnsembleCommand.self).ids.isEmpty)
        #expect(try parse(["ensemble", "status", "--json"], as: EnsembleCommand.self).ensemble.output.json)

        #expect(usageError(["ensemble", "start", "4"])?.message == "the number of members must be odd, from 1 to 9 (not 4)")
        #expect(usageError(["ensemble", "start", "11"]) != nil)
        #expect(usageError(["ensemble", "start", "3", "5"])?.message == "'ensemble start' takes one number of members")
        #expect(usageError(["ensemble", "kill"])?.message == "'ensemble kill' needs member ids")
        #expect(usageError(["ensemble", "partition"])?.message == "'ensemble partition' needs member ids")
        #expect(usageError(["ensemble", "heal", "1"])?.message == "'ensemble heal' takes no member ids")
        #expect(usageError(["ensemble", "remove", "1", "2"])?.message == "'ensemble remove' takes one member id")
        #expect(usageError(["ensemble", "kill", "one"]) != nil)
        #expect(usageError(["ensemble", "explode"]) != nil)
        #expect(usageError(["ensemble", "kill", "1", "--data-dir", "/x"])?.message == "--data-dir is for 'ensemble start'")
        #expect(usageError(["ensemble", "kill", "1", "--timeout", "0"]) != nil)
    }

    func completer(members: [Int]) -> ShellCompleter {
        ShellCompleter(registry: .standard, currentDirectory: { "/" }, fetchChildren: { _ in [] },
                       fetchChildCounts: { _ in [:] }, memberIDs: { members })
    }

    @Test func completesActionsAndMemberIDs() async {
        let completer = completer(members: [1, 2, 3])
        #expect(await completer.complete(line: "ensemble ki", cursor: 11).candidates == ["kill"])
        #expect(await completer.complete(line: "ensemble re", cursor: 11).candidates == ["restart", "remove"])
        #expect(await completer.complete(line: "ensemble kill ", cursor: 14) == .init(replaceFrom: 14, candidates: ["1", "2", "3"]))
        #expect(await completer.complete(line: "ensemble stop 2", cursor: 15).candidates == ["2"])
        // Ids already typed are not offered again.
        #expect(await completer.complete(line: "ensemble partition 1 ", cursor: 21).candidates == ["2", "3"])
        #expect(await completer.complete(line: "ensemble --timeout 5 restart ", cursor: 29).candidates == ["1", "2", "3"])
        #expect(await completer.complete(line: "ensemble remove 3 ", cursor: 18).candidates == ["1", "2"])
        // start takes a number of members and heal nothing: no member ids.
        #expect(await completer.complete(line: "ensemble start ", cursor: 15).candidates.isEmpty)
        #expect(await completer.complete(line: "ensemble heal ", cursor: 14).candidates.isEmpty)
        // Without a local ensemble there is nothing to offer.
        #expect(await self.completer(members: []).complete(line: "ensemble kill ", cursor: 14).candidates.isEmpty)
        #expect(await completer.complete(line: "ensemble kill -", cursor: 15).candidates.contains("--timeout"))
    }
}
