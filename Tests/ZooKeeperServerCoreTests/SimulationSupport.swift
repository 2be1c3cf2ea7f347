import Foundation
@testable import ZooKeeperServerCore

/// A seeded generator for the ensemble simulation (SplitMix64).
struct SimulationRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed &* 0x2545_F491_4F6C_DD1D &+ 1 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int64(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// The state a simulated member applies: the delivered entries themselves, so a snapshot is
/// simply their encoding.
final class SimulatedStateMachine: ZabSnapshotSource, @unchecked Sendable {
    var entries: [ZabLogEntry] = []

    func currentSnapshot() -> ZabSnapshot {
        ZabSnapshot(zxid: entries.last?.zxid ?? 0, bytes: Self.encode(entries))
    }

    static func encode(_ entries: [ZabLogEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            withUnsafeBytes(of: entry.zxid.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(entry.bytes.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: entry.bytes)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> [ZabLogEntry] {
        var entries: [ZabLogEntry] = []
        var index = 0
        while index < bytes.count {
            let zxid = bytes[index..<(index + 8)].reduce(Int64(0)) { ($0 << 8) | Int64($1) }
            let count = Int(bytes[(index + 8)..<(index + 12)].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) })
            entries.append(ZabLogEntry(zxid: zxid, bytes: Array(bytes[(index + 12)..<(index + 12 + count)])))
            index += 12 + count
        }
        return entries
    }

    /// FNV-1a over zxids and bytes.
    static func digest(_ entries: [ZabLogEntry]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        for entry in entries {
            withUnsafeBytes(of: entry.zxid) { $0.forEach(mix) }
            entry.bytes.forEach(mix)
        }
        return hash
    }
}

struct SimulationFailure: Error, CustomStringConvertible {
    var description: String
}

/// Parameters of one simulated run.
struct SimulationParameters {
    var voters = 3
    var observers = 0
    var steps = 300
    var maxStepMillis: Int64 = 20
    var minDelay: Int64 = 1
    var maxDelay: Int64 = 15
    var dropRate = 0.02
    var duplicateRate = 0.02
    var reorderRate = 0.02
    var crashRate = 0.012
    var restartRate = 0.06
    var partitionRate = 0.01
    var healRate = 0.04
    var writeRate = 0.35
    var compactRate = 0.01
    var flushDelay: ClosedRange<Int64> = 0...15
    /// Virtual ms allowed for convergence after healing.
    var quiescenceMillis: Int64 = 60_000
}

/// N members, a simulated network (delay, drop, duplicate, reorder, partitions) and disks
/// (fsync delay, crash losing unsynced writes with a torn tail), a client writing to whoever
/// leads, and the invariants checked after every step.
struct EnsembleSimulation {
    struct Member {
        var peer: ZabPeer?
        var storage = InMemoryZabStorage()
        var state = SimulatedStateMachine()
        var flushScheduled = false
        var incarnation = 0
    }

    enum EventKind {
        case message(from: PeerID, to: PeerID, QuorumMessage)
        case flush(PeerID, incarnation: Int)
        /// The member's connection to `peer` broke (the peer crashed, or a partition reset it).
        case linkLost(PeerID, peer: PeerID, incarnation: Int)
    }

    struct Event {
        var time: Int64
        var order: Int
        var kind: EventKind
    }

    let seed: UInt64
    var parameters: SimulationParameters
    var rng: SimulationRandom
    let configurationTemplate: ZabConfiguration
    let ids: [PeerID]
    let members: QuorumMembers
    var member: [PeerID: Member] = [:]
    var now: Int64 = 0
    var events: [Event] = []  // binary min-heap on (time, order)
    var eventOrder = 0
    var linkClock: [Int64: Int64] = [:]
    var group: [PeerID: Int] = [:]
    var faultsEnabled = true
    var tracing: Bool
    final class TraceBuffer {
        var lines: [String] = []
    }
    let traceBuffer = TraceBuffer()
    var trace: [String] { traceBuffer.lines }

    /// The one sequence every member's delivered sequence must be a prefix of.
    var history: [ZabLogEntry] = []
    /// Established leader per epoch.
    var leaderOfEpoch: [Int64: PeerID] = [:]
    /// Client writes accepted by a leader, not yet acknowledged: zxid → (leader, bytes).
    var inFlight: [Int64: (PeerID, [UInt8])] = [:]
    /// Acknowledged (committed) client writes.
    var acknowledged: [ZabLogEntry] = []
    var writesProposed = 0
    var nextWrite = 0
    var statistics = (elections: 0, crashes: 0, partitions: 0, snapshotsSent: 0, truncs: 0)

    init(seed: UInt64, parameters: SimulationParameters, tracing: Bool = false) {
        self.seed = seed
        self.parameters = parameters
        self.rng = SimulationRandom(seed: seed)
        self.tracing = tracing
        let voters = (1...parameters.voters).map { PeerID($0) }
        let observers = (0..<parameters.observers).map { PeerID(parameters.voters + 1 + $0) }
        self.ids = voters + observers
        self.members = QuorumMembers(voters: Set(voters), observers: Set(observers))
        self.configurationTemplate = ZabConfiguration(
            id: 1, members: members, tickTime: 100, initLimit: 10, syncLimit: 5, finalizeWait: 50,
            maxNotificationInterval: 800)
        for id in ids {
            member[id] = Member()
            group[id] = 0
        }
    }

    func log(_ text: @autoclosure () -> String) {
        guard tracing else { return }
        traceBuffer.lines.append("[\(now)] \(text())")
        if traceBuffer.lines.count > 200_000 { traceBuffer.lines.removeFirst(50_000) }
    }

    // MARK: Running

    mutating func run() throws {
        for id in ids { try restart(id) }
        for _ in 0..<parameters.steps { try step() }
        try quiesce()
    }

    mutating func step() throws {
        if faultsEnabled { try injectFault() }
        if rng.chance(parameters.writeRate) { try clientWrite() }
        if rng.chance(parameters.compactRate) { compact(rng.pick(ids)) }
        try advance(by: rng.int64(1...parameters.maxStepMillis))
        try checkInvariants()
    }

    mutating func advance(by millis: Int64) throws {
        let until = now + millis
        while let first = events.first, first.time <= until {
            popEvent()
            now = max(now, first.time)
            switch first.kind {
            case .message(let from, let to, let message):
                guard member[to]?.peer != nil, group[from] == group[to] else { continue }
                if tracing { log("\(from)->\(to) \(describe(message))") }
                let actions = member[to]!.peer!.received(message, from: from, now: now)
                try execute(actions, at: to)
            case .flush(let id, let incarnation):
                guard member[id]?.peer != nil, member[id]!.incarnation == incarnation else { continue }
                member[id]!.flushScheduled = false
                if let zxid = member[id]!.storage.flush() {
                    log("\(id) fsync through \(Zxid.describe(zxid))")
                    let actions = member[id]!.peer!.logSynced(through: zxid, now: now)
                    try execute(actions, at: id)
                }
            case .linkLost(let id, let peer, let incarnation):
                guard member[id]?.peer != nil, member[id]!.incarnation == incarnation else { continue }
                log("\(id) lost its link to \(peer)")
                let actions = member[id]!.peer!.linkLost(peer, now: now)
                try execute(actions, at: id)
            }
        }
        now = until
        for id in ids where member[id]?.peer != nil {
            let actions = member[id]!.peer!.tick(now: now)
            try execute(actions, at: id)
        }
    }

    mutating func execute(_ actions: [ZabAction], at id: PeerID) throws {
        for action in actions {
            member[id]!.storage.apply(action)
            switch action {
            case .send(let to, let message):
                send(from: id, to: to, message)
            case .appendLog(let entries):
                log("\(id) append \(entries)")
                if !member[id]!.flushScheduled {
                    member[id]!.flushScheduled = true
                    schedule(
                        .flush(id, incarnation: member[id]!.incarnation),
                        at: now + rng.int64(parameters.flushDelay))
                }
            case .deliver(let entry):
                member[id]!.state.entries.append(entry)
                try checkDelivered(id, from: member[id]!.state.entries.count - 1)
                if let (leader, bytes) = inFlight[entry.zxid], leader == id {
                    guard bytes == entry.bytes else {
                        throw SimulationFailure(description: "leader \(id) delivered other bytes at its zxid")
                    }
                    inFlight[entry.zxid] = nil
                    acknowledged.append(entry)
                    log("client: write \(Zxid.describe(entry.zxid)) acknowledged by \(id)")
                }
            case .installSnapshot(let snapshot):
                statistics.snapshotsSent += 1
                log("\(id) install snapshot at \(Zxid.describe(snapshot.zxid))")
                member[id]!.state.entries = SimulatedStateMachine.decode(snapshot.bytes)
                try checkDelivered(id, from: 0)
            case .truncateLog(let zxid):
                statistics.truncs += 1
                log("\(id) truncate after \(Zxid.describe(zxid))")
            case .persistEpochs(let accepted, let current):
                log("\(id) epochs accepted=\(accepted) current=\(current)")
            case .roleChanged(let role):
                log("\(id) role \(role)")
                if case .leading(let epoch, true) = role {
                    statistics.elections += 1
                    if let other = leaderOfEpoch[epoch], other != id {
                        throw SimulationFailure(description: "two leaders of epoch \(epoch): \(other) and \(id)")
                    }
                    leaderOfEpoch[epoch] = id
                }
            }
        }
    }

    // MARK: Network

    mutating func send(from: PeerID, to: PeerID, _ message: QuorumMessage) {
        guard group[from] == group[to] else { return }
        if faultsEnabled && rng.chance(parameters.dropRate) {
            log("drop \(from)->\(to) \(describe(message))")
            return
        }
        var time = now + rng.int64(parameters.minDelay...parameters.maxDelay)
        let link = from << 32 | to
        if !(faultsEnabled && rng.chance(parameters.reorderRate)) {
            time = max(time, linkClock[link] ?? 0)
            linkClock[link] = time
        }
        schedule(.message(from: from, to: to, message), at: time)
        if faultsEnabled && rng.chance(parameters.duplicateRate) {
            schedule(.message(from: from, to: to, message), at: time + rng.int64(0...10))
        }
    }

    mutating func schedule(_ kind: EventKind, at time: Int64) {
        eventOrder += 1
        events.append(Event(time: time, order: eventOrder, kind: kind))
        var child = events.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(events[child], events[parent]) else { break }
            events.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popEvent() {
        events.swapAt(0, events.count - 1)
        events.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < events.count, Self.before(events[left], events[smallest]) { smallest = left }
            if right < events.count, Self.before(events[right], events[smallest]) { smallest = right }
            if smallest == parent { break }
            events.swapAt(parent, smallest)
            parent = smallest
        }
    }

    static func before(_ a: Event, _ b: Event) -> Bool { (a.time, a.order) < (b.time, b.order) }

    // MARK: Faults and clients

    mutating func injectFault() throws {
        let up = ids.filter { member[$0]!.peer != nil }
        let down = ids.filter { member[$0]!.peer == nil }
        if !up.isEmpty, rng.chance(parameters.crashRate) { crash(rng.pick(up)) }
        if !down.isEmpty, rng.chance(parameters.restartRate) { try restart(rng.pick(down)) }
        if rng.chance(parameters.partitionRate) {
            statistics.partitions += 1
            for id in ids { group[id] = rng.int(0...1) }
            log("partition \(ids.map { "\($0):\(group[$0]!)" })")
            // Most connections across the cut reset soon; the others are noticed by timeouts.
            for a in ids where member[a]!.peer != nil {
                for b in ids where b != a && group[a] != group[b] && rng.chance(0.8) {
                    schedule(.linkLost(a, peer: b, incarnation: member[a]!.incarnation), at: now + rng.int64(0...20))
                }
            }
        }
        if rng.chance(parameters.healRate) { heal() }
    }

    mutating func heal() {
        for id in ids { group[id] = 0 }
        log("heal")
    }

    /// Power cut on `id`: a random prefix (or `keep`) of its unsynced writes survives.
    mutating func crash(_ id: PeerID, keep: Int? = nil) {
        statistics.crashes += 1
        let unsynced = member[id]!.storage.unsynced.count
        let kept = keep ?? rng.int(0...unsynced)
        log("crash \(id) (kept \(kept) of \(unsynced) unsynced entries)")
        member[id]!.storage.crash(keepingUnsynced: kept)
        member[id]!.peer = nil
        member[id]!.state = SimulatedStateMachine()
        member[id]!.flushScheduled = false
        member[id]!.incarnation += 1
        // A dead process's connections close at once; most peers notice within milliseconds.
        for other in ids where other != id && member[other]!.peer != nil && rng.chance(0.8) {
            schedule(.linkLost(other, peer: id, incarnation: member[other]!.incarnation), at: now + rng.int64(0...20))
        }
        // Its clients' unacknowledged writes are simply unknown now.
        inFlight = inFlight.filter { $0.value.0 != id }
    }

    mutating func restart(_ id: PeerID) throws {
        let storage = member[id]!.storage
        let state = SimulatedStateMachine()
        state.entries = storage.snapshot.map { SimulatedStateMachine.decode($0.bytes) } ?? []
        member[id]!.state = state
        var configuration = configurationTemplate
        configuration.id = id
        var peer = ZabPeer(
            configuration: configuration, persisted: storage.persistentState, snapshots: state,
            randomSeed: rng.next())
        log("start \(id) epochs \(storage.acceptedEpoch)/\(storage.currentEpoch) log to \(Zxid.describe(peer.lastLoggedZxid))")
        let actions = peer.start(now: now)
        member[id]!.peer = peer
        try checkDelivered(id, from: 0)
        try execute(actions, at: id)
    }

    mutating func clientWrite() throws {
        let leaders = ids.filter {
            if case .leading(_, true)? = member[$0]!.peer?.role { return true }
            return false
        }
        guard !leaders.isEmpty else { return }
        let id = rng.pick(leaders)
        nextWrite += 1
        let bytes = Array("w\(nextWrite)".utf8)
        switch member[id]!.peer!.propose(bytes, now: now) {
        case .proposed(let zxid, let actions):
            writesProposed += 1
            inFlight[zxid] = (id, bytes)
            log("client: w\(nextWrite) proposed at \(Zxid.describe(zxid)) on \(id)")
            try execute(actions, at: id)
        case .notLeader:
            throw SimulationFailure(description: "an established leader refused a write")
        }
    }

    /// The member snapshots its applied state; the core and the disk forget what it covers.
    mutating func compact(_ id: PeerID) {
        guard member[id]!.peer != nil else { return }
        let snapshot = member[id]!.state.currentSnapshot()
        guard snapshot.zxid == member[id]!.peer!.deliveredZxid else { return }
        member[id]!.storage.saveSnapshot(snapshot, purgeLog: true)
        member[id]!.peer!.compactLog(through: snapshot.zxid)
        log("\(id) snapshot+compact at \(Zxid.describe(snapshot.zxid))")
    }

    // MARK: Invariants

    /// Every delivered sequence is a prefix of the one common history.
    mutating func checkDelivered(_ id: PeerID, from start: Int) throws {
        let entries = member[id]!.state.entries
        for index in start..<entries.count {
            if index < history.count {
                guard history[index] == entries[index] else {
                    throw SimulationFailure(
                        description: "member \(id) delivered \(entries[index]) at position \(index), "
                            + "the common history has \(history[index])")
                }
            } else {
                guard index == history.count else { preconditionFailure() }
                history.append(entries[index])
            }
        }
    }

    mutating func checkInvariants() throws {
        for id in ids {
            if let anomaly = member[id]!.peer?.anomalies.first {
                throw SimulationFailure(description: "protocol anomaly: \(anomaly)")
            }
        }
        // No acknowledged write lost: each is durable on a quorum of voters (in the log or in
        // the snapshot), crashed members included.
        for entry in acknowledged.suffix(20) {
            var holders: [PeerID] = []
            for id in members.voters {
                let storage = member[id]!.storage
                if let snapshot = storage.snapshot, snapshot.zxid >= entry.zxid {
                    holders.append(id)
                } else if Self.sortedLog(storage.durable, contains: entry) {
                    holders.append(id)
                }
            }
            guard members.isQuorum(holders) else {
                throw SimulationFailure(
                    description: "acknowledged write \(entry) is durable only on \(holders.sorted())")
            }
        }
    }

    /// Binary search in a log sorted by zxid.
    static func sortedLog(_ log: [ZabLogEntry], contains entry: ZabLogEntry) -> Bool {
        var low = 0
        var high = log.count
        while low < high {
            let mid = (low + high) / 2
            if log[mid].zxid < entry.zxid { low = mid + 1 } else { high = mid }
        }
        return low < log.count && log[low] == entry
    }

    /// Heal, restart everyone, stop injecting faults and wait until every member delivered the
    /// same sequence, which must hold every acknowledged write.
    mutating func quiesce() throws {
        faultsEnabled = false
        heal()
        for id in ids where member[id]!.peer == nil { try restart(id) }
        let deadline = now + parameters.quiescenceMillis
        while now < deadline {
            try advance(by: 10)
            try checkInvariants()
            if converged() { break }
        }
        guard converged() else {
            let roles = ids.map { "\($0): \(String(describing: member[$0]!.peer!.role)) delivered \(member[$0]!.state.entries.count)" }
            throw SimulationFailure(description: "no convergence after healing: \(roles)")
        }
        let final = member[ids[0]]!.state.entries
        let delivered = Set(final.map(\.zxid))
        for entry in acknowledged where !delivered.contains(entry.zxid) {
            throw SimulationFailure(description: "acknowledged write \(entry) lost")
        }
        let digests = Set(ids.map { SimulatedStateMachine.digest(member[$0]!.state.entries) })
        guard digests.count == 1 else { throw SimulationFailure(description: "digests differ: \(digests)") }
    }

    func converged() -> Bool {
        var leaders: [PeerID] = []
        for id in ids {
            guard let peer = member[id]!.peer else { return false }
            switch peer.role {
            case .leading(_, true):
                leaders.append(id)
                if peer.lastLoggedZxid != peer.deliveredZxid { return false }
            case .following(_, true), .observing(_, true):
                break
            case .looking, .leading, .following, .observing:
                return false
            }
        }
        guard leaders.count == 1 else { return false }
        let reference = member[leaders[0]]!.state.entries
        return ids.allSatisfy { member[$0]!.state.entries == reference }
    }

    func describe(_ message: QuorumMessage) -> String {
        switch message {
        case .notification(let n): return n.description
        case .zab(let envelope):
            let text: String
            switch envelope.message {
            case .sync(let mode, let entries):
                switch mode {
                case .diff: text = "sync DIFF \(entries)"
                case .trunc(let zxid): text = "sync TRUNC \(Zxid.describe(zxid)) \(entries)"
                case .snap(let snapshot): text = "sync SNAP \(Zxid.describe(snapshot.zxid)) \(entries)"
                }
            default: text = "\(envelope.message)"
            }
            return "#\(envelope.session % 1000)/\(envelope.seq) \(text)"
        }
    }
}
