import Foundation
import ZooKeeperClient

/// What an ensemble member is doing, as its `srvr` reply shows it.
public enum MemberRole: String, Sendable, CaseIterable {
    case leader
    case follower
    case observer
    /// A server that runs alone (`Mode: standalone`).
    case standalone
    /// A member without quorum serving reads (`Mode: read-only`).
    case readOnly = "read-only"
    /// Electing a leader, or cut off from the quorum: the member answers `This ZooKeeper
    /// instance is not currently serving requests`.
    case looking
    /// No answer: connection refused or timed out.
    case down
    /// It answered, but not with a mode (the word is not in its whitelist, say).
    case unknown

    /// The role a reply shows: `down` without a reply, `looking` for a member that does not
    /// serve, else the `Mode:` of `srvr` (or `zk_server_state` of `mntr`).
    public init(_ reply: MemberReply) {
        switch reply.outcome {
        case .down:
            self = .down
        case .answered(let text):
            if FourLetterWordReply.isNotServing(text) {
                self = .looking
            } else if FourLetterWordReply.isNotAllowed(text) {
                self = .unknown
            } else {
                let mode = FourLetterWordReply.summary(text)["Mode"] ?? FourLetterWordReply.monitor(text)["zk_server_state"]
                self = mode.map(MemberRole.init(mode:)) ?? .unknown
            }
        }
    }

    /// The role of a `Mode:` value (`leader`, `follower`, `observer`, `standalone`, `read-only`).
    public init(mode: String) {
        switch mode.lowercased() {
        case "leader", "leading": self = .leader
        case "follower", "following": self = .follower
        case "observer", "observing": self = .observer
        case "standalone": self = .standalone
        case "read-only", "readonly": self = .readOnly
        case "looking": self = .looking
        default: self = .unknown
        }
    }

    /// Whether the member serves clients as part of a quorum (or alone).
    public var isServing: Bool {
        switch self {
        case .leader, .follower, .observer, .standalone: return true
        case .readOnly, .looking, .down, .unknown: return false
        }
    }
}

/// Something that happened to a local ensemble, printed as it happens (`member 3 killed (pid
/// 1234)`, `member 2 elected leader after 412 ms at zxid 0x200000000`, `member 1 following 2`).
public enum EnsembleEvent: Equatable, Sendable, CustomStringConvertible {
    /// The shell started the member's process.
    case started(member: Int, pid: Int32, clientPort: Int)
    /// The shell killed the member with SIGKILL.
    case killed(member: Int, pid: Int32)
    /// The shell stopped the member with SIGTERM (SIGKILL after the grace period).
    case stopped(member: Int, pid: Int32)
    /// The member's process ended by itself, with this exit status.
    case exited(member: Int, pid: Int32, status: Int32)
    /// The member stopped answering.
    case down(member: Int)
    /// The member has no leader: it is electing one, or cannot reach a quorum.
    case looking(member: Int)
    /// The member became the leader, `after` the action, at `zxid` (its new epoch).
    case elected(member: Int, after: Duration, zxid: Int64?)
    /// The member follows `leader` (nil: it serves as a follower, but no member of its side of
    /// the network shows itself as leader).
    case following(member: Int, leader: Int?)
    /// The member observes `leader`.
    case observing(member: Int, leader: Int?)
    /// The member answers in another role (`standalone`, `read-only`, `unknown`).
    case role(member: Int, MemberRole)
    /// Every member is where it should be, `after` the action: one leader with its followers on
    /// a side with a quorum, the members of a side without one looking, stopped members down.
    case settled(after: Duration, roles: [Int: MemberRole])
    /// Where the client connections went: each member whose count changed since the action
    /// (nil: the member was down).
    case clients([ConnectionChange])

    /// One member's client connections before and after an action.
    public struct ConnectionChange: Equatable, Sendable {
        public var member: Int
        public var before: Int?
        public var after: Int?
    }

    public var description: String {
        switch self {
        case .started(let member, let pid, let clientPort):
            return "member \(member) started (pid \(pid), client port \(clientPort))"
        case .killed(let member, let pid):
            return "member \(member) killed (pid \(pid))"
        case .stopped(let member, let pid):
            return "member \(member) stopped (pid \(pid))"
        case .exited(let member, let pid, let status):
            return "member \(member) exited with status \(status) (pid \(pid))"
        case .down(let member):
            return "member \(member) down"
        case .looking(let member):
            return "member \(member) looking for a leader"
        case .elected(let member, let after, let zxid):
            return "member \(member) elected leader after \(Self.milliseconds(after)) ms"
                + (zxid.map { " at zxid \(StatFormatter.hex($0))" } ?? "")
        case .following(let member, let leader):
            return "member \(member) following" + (leader.map { " \($0)" } ?? "")
        case .observing(let member, let leader):
            return "member \(member) observing" + (leader.map { " \($0)" } ?? "")
        case .role(let member, let role):
            return "member \(member) \(role == .unknown ? "answers in an unknown role" : role.rawValue)"
        case .settled(let after, let roles):
            return "settled after \(Self.milliseconds(after)) ms: " + Self.summary(roles)
        case .clients(let changes):
            let count = { (value: Int?) in value.map(String.init) ?? "down" }
            return "clients: " + changes.map { "member \($0.member) \(count($0.before)) → \(count($0.after))" }
                .joined(separator: ", ")
        }
    }

    /// `leader 2; followers 1, 3; down 4`: the members grouped by role, leaders first.
    static func summary(_ roles: [Int: MemberRole]) -> String {
        let order: [MemberRole] = [.leader, .follower, .observer, .standalone, .readOnly, .looking, .unknown, .down]
        var parts: [String] = []
        for role in order {
            let ids = roles.filter { $0.value == role }.map(\.key).sorted()
            guard !ids.isEmpty else { continue }
            let name: String
            switch role {
            case .leader: name = ids.count == 1 ? "leader" : "leaders"
            case .follower: name = ids.count == 1 ? "follower" : "followers"
            case .observer: name = ids.count == 1 ? "observer" : "observers"
            case .standalone, .readOnly, .looking, .unknown, .down: name = role.rawValue
            }
            parts.append("\(name) " + ids.map(String.init).joined(separator: ", "))
        }
        return parts.isEmpty ? "no members" : parts.joined(separator: "; ")
    }

    /// Whole milliseconds of a duration.
    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The event as one JSON object: `{"event":"elected","member":2,"afterMs":412,"zxid":"0x…"}`.
    public var json: JSONValue {
        switch self {
        case .started(let member, let pid, let clientPort):
            return ["event": "started", "member": .integer(Int64(member)), "pid": .integer(Int64(pid)),
                    "clientPort": .integer(Int64(clientPort))]
        case .killed(let member, let pid):
            return ["event": "killed", "member": .integer(Int64(member)), "pid": .integer(Int64(pid))]
        case .stopped(let member, let pid):
            return ["event": "stopped", "member": .integer(Int64(member)), "pid": .integer(Int64(pid))]
        case .exited(let member, let pid, let status):
            return ["event": "exited", "member": .integer(Int64(member)), "pid": .integer(Int64(pid)),
                    "status": .integer(Int64(status))]
        case .down(let member):
            return ["event": "down", "member": .integer(Int64(member))]
        case .looking(let member):
            return ["event": "looking", "member": .integer(Int64(member))]
        case .elected(let member, let after, let zxid):
            return ["event": "elected", "member": .integer(Int64(member)), "afterMs": .integer(Self.milliseconds(after)),
                    "zxid": zxid.map { .string(StatFormatter.hex($0)) } ?? .null]
        case .following(let member, let leader):
            return ["event": "following", "member": .integer(Int64(member)), "leader": leader.map { .integer(Int64($0)) } ?? .null]
        case .observing(let member, let leader):
            return ["event": "observing", "member": .integer(Int64(member)), "leader": leader.map { .integer(Int64($0)) } ?? .null]
        case .role(let member, let role):
            return ["event": "role", "member": .integer(Int64(member)), "role": .string(role.rawValue)]
        case .settled(let after, let roles):
            var object: [String: JSONValue] = [:]
            for (id, role) in roles { object[String(id)] = .string(role.rawValue) }
            return ["event": "settled", "afterMs": .integer(Self.milliseconds(after)), "roles": .object(object)]
        case .clients(let changes):
            return ["event": "clients", "members": .array(changes.map { change in
                ["member": .integer(Int64(change.member)), "before": change.before.map { .integer(Int64($0)) } ?? .null,
                 "after": change.after.map { .integer(Int64($0)) } ?? .null]
            })]
        }
    }
}

/// Turns successive observations of an ensemble's members into events: a member that becomes
/// leader was elected, one that becomes a follower follows the leader of its side of the
/// network, and so on. Only changes are reported: a member doing what it did at the baseline
/// prints nothing.
///
/// A follower is reported with its leader. When no leader shows yet on its side (polls are
/// 50 ms apart, and the follower may answer first), the report waits for the next observation
/// that shows one, or for ``flush()``.
struct EnsembleTracker: Sendable {
    /// One member's role and last zxid in one observation.
    struct Observation: Equatable, Sendable {
        var role: MemberRole
        var zxid: Int64?
        /// Client connections (srvr's `Connections`), when the member answered.
        var connections: Int?

        init(role: MemberRole, zxid: Int64? = nil, connections: Int? = nil) {
            self.role = role
            self.zxid = zxid
            self.connections = connections
        }

        /// The role, zxid and connection count a `srvr` reply shows.
        init(_ reply: MemberReply) {
            self.role = MemberRole(reply)
            let summary = reply.reply.map { FourLetterWordReply.summary($0) }
            self.zxid = summary?["Zxid"].flatMap(FourLetterWordReply.zxid)
            self.connections = summary?["Connections"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    /// The latest observation of every member.
    private(set) var last: [Int: Observation]
    /// Client connections per member before the action.
    private let connectionsBefore: [Int: Int]
    /// The leader each follower or observer was last reported with.
    private var reportedLeader: [Int: Int] = [:]
    /// Followers and observers not reported yet because their leader did not show.
    private var pending: Set<Int> = []

    /// Starts from what the members were doing before the action (members missing from
    /// `baseline` are taken as down).
    init(baseline: [Int: Observation], sides: [Set<Int>]) {
        self.last = baseline
        self.connectionsBefore = baseline.compactMapValues(\.connections)
        for (id, observation) in baseline where observation.role == .follower || observation.role == .observer {
            if let leader = Self.leader(of: id, in: baseline, sides: sides) { reportedLeader[id] = leader }
        }
    }

    /// The one member of `id`'s side that shows itself as leader, or nil.
    static func leader(of id: Int, in observations: [Int: Observation], sides: [Set<Int>]) -> Int? {
        let side = sides.first { $0.contains(id) } ?? Set(observations.keys)
        let leaders = side.filter { observations[$0]?.role == .leader }
        return leaders.count == 1 ? leaders.first : nil
    }

    /// Records a new observation and returns what changed since the last one: elections and
    /// other role changes first, then followers and observers with their leader.
    mutating func observed(_ now: [Int: Observation], sides: [Set<Int>], elapsed: Duration) -> [EnsembleEvent] {
        var events: [EnsembleEvent] = []
        var joining: [Int] = []
        for id in now.keys.sorted() {
            let observation = now[id]!
            let previous = last[id]?.role ?? .down
            switch observation.role {
            case .leader:
                if previous != .leader { events.append(.elected(member: id, after: elapsed, zxid: observation.zxid)) }
            case .follower, .observer:
                joining.append(id)
            case .looking:
                if previous != .looking { events.append(.looking(member: id)) }
            case .down:
                if previous != .down { events.append(.down(member: id)) }
            case .standalone, .readOnly, .unknown:
                if previous != observation.role { events.append(.role(member: id, observation.role)) }
            }
            if observation.role != .follower && observation.role != .observer {
                reportedLeader[id] = nil
                pending.remove(id)
            }
        }
        for id in joining {
            let role = now[id]!.role
            let previous = last[id]?.role ?? .down
            let leader = Self.leader(of: id, in: now, sides: sides)
            if previous != role {
                reportedLeader[id] = nil
                pending.insert(id)
            }
            if let leader, reportedLeader[id] != leader { pending.insert(id) }
            guard pending.contains(id), let leader else { continue }
            events.append(role == .observer ? .observing(member: id, leader: leader) : .following(member: id, leader: leader))
            reportedLeader[id] = leader
            pending.remove(id)
        }
        for (id, observation) in now { last[id] = observation }
        return events
    }

    /// Takes member `id` to be in `role` from now on without reporting it (the shell just
    /// killed it: that it is down is no news).
    mutating func assume(_ id: Int, is role: MemberRole) {
        last[id] = Observation(role: role)
        reportedLeader[id] = nil
        pending.remove(id)
    }

    /// Forgets a member that left the ensemble.
    mutating func forget(_ id: Int) {
        last[id] = nil
        reportedLeader[id] = nil
        pending.remove(id)
    }

    /// Reports the followers and observers whose leader never showed, without a leader.
    mutating func flush() -> [EnsembleEvent] {
        let events: [EnsembleEvent] = pending.sorted().map { id in
            last[id]?.role == .observer ? .observing(member: id, leader: nil) : .following(member: id, leader: nil)
        }
        pending = []
        return events
    }

    /// The members whose client connections changed since the baseline (the clients that
    /// moved). A member that went down or came up without clients is no news.
    var connectionChanges: [EnsembleEvent.ConnectionChange] {
        let ids = Set(connectionsBefore.keys).union(last.keys).sorted()
        return ids.compactMap { id in
            let before = connectionsBefore[id]
            let after = last[id]?.connections
            return (before ?? 0) == (after ?? 0) ? nil : EnsembleEvent.ConnectionChange(member: id, before: before, after: after)
        }
    }

    /// The roles of the latest observation.
    var roles: [Int: MemberRole] { last.mapValues(\.role) }

    /// Whether the members are where they should end up: on every side of the network, if the
    /// running voters there are a majority of all voters, exactly one running member leads and
    /// the other running members follow or observe; otherwise every running member there is
    /// looking. Members that are not running are down.
    ///
    /// - Parameters:
    ///   - roles: each member's role now.
    ///   - running: the members whose processes run.
    ///   - voters: the voting members (the ensemble's configuration).
    ///   - sides: the sides of the network (one side with every member when there is no partition).
    static func isSettled(_ roles: [Int: MemberRole], running: Set<Int>, voters: Set<Int>, sides: [Set<Int>]) -> Bool {
        for side in sides {
            let up = side.intersection(running)
            for id in side.subtracting(running) where (roles[id] ?? .down) != .down { return false }
            if up.intersection(voters).count * 2 > voters.count {
                let leaders = up.filter { roles[$0] == .leader }
                guard leaders.count == 1 else { return false }
                for id in up where !leaders.contains(id) {
                    guard roles[id] == .follower || roles[id] == .observer else { return false }
                }
            } else {
                for id in up where roles[id] != .looking { return false }
            }
        }
        return true
    }
}
