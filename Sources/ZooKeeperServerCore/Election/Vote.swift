/// A member's `myid` in the ensemble (ZooKeeper's server id / `sid`).
public typealias PeerID = Int64

/// What a member is doing, as carried in election notifications (ZooKeeper's `ServerState`).
public enum PeerState: Hashable, Sendable {
    case looking
    case following
    case leading
    case observing
}

/// The ensemble's membership: voters (participants) elect and form quorums; observers learn the
/// leader and receive committed transactions but neither vote nor ack.
public struct QuorumMembers: Hashable, Sendable {
    public var voters: Set<PeerID>
    public var observers: Set<PeerID>

    /// - Precondition: `voters` is not empty and does not overlap `observers`.
    public init(voters: Set<PeerID>, observers: Set<PeerID> = []) {
        precondition(!voters.isEmpty, "an ensemble needs at least one voter")
        precondition(voters.isDisjoint(with: observers), "a member is either a voter or an observer")
        self.voters = voters
        self.observers = observers
    }

    public var all: Set<PeerID> { voters.union(observers) }

    public func isVoter(_ id: PeerID) -> Bool { voters.contains(id) }

    /// ZooKeeper's `QuorumMaj.containsQuorum`: the voters among `ids` are a strict majority of
    /// all voters. Observers and unknown ids never count.
    public func isQuorum<S: Sequence>(_ ids: S) -> Bool where S.Element == PeerID {
        var seen = Set<PeerID>()
        for id in ids where voters.contains(id) { seen.insert(id) }
        return seen.count * 2 > voters.count
    }
}

/// A vote: who should lead, and the credentials that made it the choice (the candidate's last
/// logged zxid and its current epoch).
public struct Vote: Hashable, Sendable, CustomStringConvertible {
    public var leader: PeerID
    public var zxid: Int64
    public var peerEpoch: Int64

    public init(leader: PeerID, zxid: Int64, peerEpoch: Int64) {
        self.leader = leader
        self.zxid = zxid
        self.peerEpoch = peerEpoch
    }

    public var description: String { "(\(leader), 0x\(String(zxid, radix: 16)), e\(peerEpoch))" }

    /// ZooKeeper's `FastLeaderElection.totalOrderPredicate`: is `new` a better vote than
    /// `current`? Higher peer epoch wins, then higher zxid, then the HIGHER server id. A vote for
    /// a member that cannot lead (an observer or a stranger: weight 0) is never better.
    public static func totalOrder(_ new: Vote, isBetterThan current: Vote, members: QuorumMembers) -> Bool {
        guard members.isVoter(new.leader) else { return false }
        if new.peerEpoch != current.peerEpoch { return new.peerEpoch > current.peerEpoch }
        if new.zxid != current.zxid { return new.zxid > current.zxid }
        return new.leader > current.leader
    }
}

/// An election notification (ZooKeeper's `FastLeaderElection.Notification`).
public struct Notification: Hashable, Sendable, CustomStringConvertible {
    /// The proposed (or, from a FOLLOWING/LEADING member, the elected) leader.
    public var leader: PeerID
    /// The proposed leader's last zxid.
    public var zxid: Int64
    /// The sender's logical clock: which round of elections this vote belongs to.
    public var electionEpoch: Int64
    /// The proposed leader's current epoch.
    public var peerEpoch: Int64
    /// The sender's state.
    public var state: PeerState

    public init(leader: PeerID, zxid: Int64, electionEpoch: Int64, peerEpoch: Int64, state: PeerState) {
        self.leader = leader
        self.zxid = zxid
        self.electionEpoch = electionEpoch
        self.peerEpoch = peerEpoch
        self.state = state
    }

    public var vote: Vote { Vote(leader: leader, zxid: zxid, peerEpoch: peerEpoch) }

    public var description: String { "n\(vote)@\(electionEpoch) \(state)" }
}
