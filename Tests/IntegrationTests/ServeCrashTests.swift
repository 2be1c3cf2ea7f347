import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `zksh serve` killed with SIGKILL while writes are in flight, then restarted on the same data
/// directory: every acknowledged create is there with its data and czxid, nothing exists that was
/// never requested, and sequence numbers keep counting up. A last round also tears the newest log
/// file at a random offset: the server must still start, and what survives of that round is a
/// prefix (in zxid order) of what was acknowledged.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServeCrashTests {
    @Test func acknowledgedWritesSurviveKills() async throws {
        var rng = SeededGenerator(seed: 20_240_611)
        let server = try await ZkshServer.start()
        defer { server.stop() }
        let root = "/crash"
        do {
            let client = try await connectedClient(server.connectString)
            try await client.create(root)
            try await client.close()
        }
        let ledger = Ledger()
        for round in 0..<5 {
            let target = Int.random(in: 10...80, using: &rng)
            try await writeUntilKilled(server: server, root: root, round: round, killAfter: target, ledger: ledger)
            try await server.restart()
            try await verify(server: server, root: root, ledger: ledger, tornRound: nil)
        }

        // Torn tail: kill, cut the newest log segment at a random offset, restart.
        let round = 5
        try await writeUntilKilled(
            server: server, root: root, round: round, killAfter: Int.random(in: 30...80, using: &rng), ledger: ledger)
        let logDirectory = server.dataDirectory.appendingPathComponent("version-2").path
        let segments = try FileManager.default.contentsOfDirectory(atPath: logDirectory)
            .filter { $0.hasPrefix("log.") }
            .sorted { UInt64($0.dropFirst(4), radix: 16) ?? 0 < UInt64($1.dropFirst(4), radix: 16) ?? 0 }
        let newest = try #require(segments.last, "no log segment in \(logDirectory)")
        let path = logDirectory + "/" + newest
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let cut = Int.random(in: 0..<max(size, 1), using: &rng)
        #expect(truncate(path, off_t(cut)) == 0)
        try await server.restart()
        try await verify(server: server, root: root, ledger: ledger, tornRound: round)
    }
}

/// What the writers asked for and what the server acknowledged.
actor Ledger {
    struct Ack: Sendable {
        var path: String
        var data: String
        var czxid: Int64
        var round: Int
    }

    private(set) var requested: [String: String] = [:]  // plain path (or sequential prefix+index) -> data
    private(set) var acks: [Ack] = []
    private(set) var requestedSequentialData: Set<String> = []
    private var next = 0
    private var roundAcks = 0

    func startRound() { roundAcks = 0 }
    func ackCount() -> Int { roundAcks }

    /// The next index to write, or nil past the bound.
    func nextIndex() -> Int? {
        guard next < 5_000 else { return nil }
        next += 1
        return next
    }

    func request(path: String, data: String) { requested[path] = data }
    func requestSequential(data: String) { requestedSequentialData.insert(data) }

    func acknowledge(_ ack: Ack) {
        acks.append(ack)
        roundAcks += 1
    }
}

/// Eight writers pipeline creates (every fifth one sequential) until the server is SIGKILLed
/// after `killAfter` acknowledgements in this round.
private func writeUntilKilled(server: ZkshServer, root: String, round: Int, killAfter: Int, ledger: Ledger) async throws {
    let client = try await connectedClient(server.connectString, sessionTimeout: .seconds(20))
    await ledger.startRound()
    let killed = Killed()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<8 {
            group.addTask {
                while !killed.value, let index = await ledger.nextIndex() {
                    let data = "r\(round)-d\(index)"
                    do {
                        if index % 5 == 0 {
                            await ledger.requestSequential(data: data)
                            let made = try await client.create(root + "/seq-", data: bytes(data), mode: .persistentSequential)
                            await ledger.acknowledge(.init(path: made.path, data: data, czxid: made.stat.czxid, round: round))
                        } else {
                            let path = "\(root)/n\(index)"
                            await ledger.request(path: path, data: data)
                            let made = try await client.create(path, data: bytes(data))
                            await ledger.acknowledge(.init(path: made.path, data: data, czxid: made.stat.czxid, round: round))
                        }
                    } catch {
                        // Unknown outcome (the server died under it): may or may not exist.
                        if !killed.value {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return
                    }
                }
            }
        }
        group.addTask {
            let deadline = ContinuousClock.now + .seconds(30)
            while await ledger.ackCount() < killAfter && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            try await blocking { server.kill() }
            killed.set()
        }
        try await group.waitForAll()
    }
    let acknowledged = await ledger.ackCount()
    #expect(acknowledged >= killAfter, "round \(round): only \(acknowledged) writes acknowledged")
    try? await client.close()
}

private func verify(server: ZkshServer, root: String, ledger: Ledger, tornRound: Int?) async throws {
    let client = try await connectedClient(server.connectString)
    let children = try await client.getChildren(root).children
    var present: [String: (data: String, czxid: Int64)] = [:]
    for child in children {
        let (data, stat) = try await client.getData(root + "/" + child)
        present[root + "/" + child] = (data.text, stat.czxid)
    }
    let requested = await ledger.requested
    let sequentialData = await ledger.requestedSequentialData
    let acks = await ledger.acks

    // Nothing that was never requested.
    for (path, value) in present {
        if ZooKeeperPath.name(of: path).hasPrefix("seq-") {
            #expect(sequentialData.contains(value.data) || value.data == "probe", "\(path) holds \(value.data), which no writer sent")
        } else {
            #expect(requested[path] == value.data, "\(path) holds \(value.data), never requested as such")
        }
    }
    // Every acknowledged write (all of them; for a torn round, the earlier rounds' and a zxid
    // prefix of this round's).
    var survivingCut = Int64.max
    if let tornRound {
        let thisRound = acks.filter { $0.round == tornRound }.sorted { $0.czxid < $1.czxid }
        if let firstLost = thisRound.first(where: { present[$0.path] == nil }) {
            survivingCut = firstLost.czxid
            let after = thisRound.filter { $0.czxid > firstLost.czxid && present[$0.path] != nil }
            #expect(after.isEmpty, "torn tail: \(firstLost.path) (czxid \(firstLost.czxid)) is lost but later \(after.map(\.path)) survived")
        }
    }
    for ack in acks where ack.round != tornRound || ack.czxid < survivingCut {
        let found = present[ack.path]
        #expect(found?.data == ack.data, "acknowledged \(ack.path) (\(ack.data)) is \(found.map { "\($0.data)" } ?? "missing")")
        #expect(found?.czxid == ack.czxid, "\(ack.path): czxid \(found?.czxid ?? -1), acknowledged \(ack.czxid)")
    }
    // Sequence numbers continue above every existing one.
    let highest = children.filter { $0.hasPrefix("seq-") }.compactMap { Int($0.dropFirst(4)) }.max() ?? -1
    let lastRound = acks.map(\.round).max() ?? -1
    print(
        "ServeCrashTests: after round \(lastRound)\(tornRound == nil ? "" : " (torn tail)"): \(acks.filter { $0.round == lastRound }.count) acknowledged this round, "
            + "\(acks.count) in all, \(present.count) nodes present, \(requested.count + sequentialData.count) requested")
    let next = try await client.create(root + "/seq-", data: bytes("probe"), mode: .persistentSequential)
    let number = try #require(Int(ZooKeeperPath.name(of: next.path).dropFirst(4)))
    #expect(number > highest, "sequence went back: \(next.path) after seq-\(highest)")
    try await client.delete(next.path)
    try await client.close()
}

/// A flag shared by the writer tasks.
private final class Killed: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}

/// SplitMix64, so every run kills at the same points.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
