/// ZooKeeper's FastLeaderElection as an IO-free state machine for one member.
///
/// The driver calls ``start(lastZxid:peerEpoch:now:)`` when the member becomes LOOKING,
/// ``notificationReceived(from:_:now:)`` for every notification from another member, and
/// ``tick(now:)`` regularly (at least every few tens of milliseconds while looking). Every call
/// returns the actions to run, in order: `.send` notifications (loss is tolerated: they are
/// re-sent on the notification timeout) and at most one `.decided`.
///
/// Rules, as in `FastLeaderElection.lookForLeader`:
/// - Votes are ordered by (peer epoch, last zxid, server id); the higher server id wins a tie.
/// - A LOOKING notification from a higher election epoch (logical clock) moves this member to
///   that epoch and discards the votes it had; one from a lower epoch is answered with this
///   member's vote and otherwise ignored.
/// - Once a strict majority of voters (this member included) agrees with this member's proposal
///   the member waits `finalizeWait` ms more; a better vote arriving in that time reopens the
///   round, otherwise the proposal is decided.
/// - Unlike ZooKeeper, the wait is skipped when every voter that can still send a vote has
///   already voted for the proposal in this round: voters whose link broke (the owner reports
///   ``peerUnreachable(_:now:)``) and that sent nothing since cannot bring a better vote in time.
///   A leader's crash is then decided in a few round trips instead of `finalizeWait`. This only
///   changes which quorum-backed vote wins, never safety: Zab's discovery and synchronization
///   bring whoever leads to the quorum's history, as after any FastLeaderElection decision.
/// - Notifications from FOLLOWING/LEADING members let a member join an established leader: a
///   quorum of them naming the same leader, and the leader itself saying LEADING.
/// - Observers (and unknown members) never count towards a quorum and cannot be elected; a
///   voter answers an observer's notification with its current vote.
/// - With no notification for a while, the member re-sends its vote with an exponentially
///   growing timeout (200 ms doubling up to `maxNotificationInterval`).
///
/// FastLeaderElection itself uses no randomness, so none is injected here; time comes only
/// through `now` (monotonic milliseconds).
public struct LeaderElection: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var id: PeerID
        public var members: QuorumMembers
        /// ZooKeeper's `finalizeWait`: ms to wait for a better vote once a quorum agrees.
        public var finalizeWait: Int64
        /// The first notification timeout (ZooKeeper starts at `finalizeWait`).
        public var minNotificationInterval: Int64
        /// ZooKeeper's `maxNotificationInterval`.
        public var maxNotificationInterval: Int64

        public init(
            id: PeerID, members: QuorumMembers, finalizeWait: Int64 = 200, minNotificationInterval: Int64 = 200,
            maxNotificationInterval: Int64 = 60_000
        ) {
            precondition(members.all.contains(id), "member \(id) is not in the ensemble")
            self.id = id
            self.members = members
            self.finalizeWait = finalizeWait
            self.minNotificationInterval = minNotificationInterval
            self.maxNotificationInterval = maxNotificationInterval
        }
    }

    public enum Action: Hashable, Sendable {
        /// Send this notification to that member.
        case send(to: PeerID, Notification)
        /// The election is over: follow, lead or observe `leader`. `electionEpoch` is the round
        /// it was decided in; `vote` is the decided vote.
        case decided(leader: PeerID, state: PeerState, vote: Vote, electionEpoch: Int64)
    }

    public internal(set) var configuration: Configuration
    /// The logical clock (election epoch).
    public private(set) var logicalClock: Int64 = 0
    /// `.looking` while electing; afterwards the state it decided (or that the owner set).
    public private(set) var state: PeerState = .looking
    /// The current proposal while looking; the decided vote afterwards.
    public private(set) var proposal: Vote
    /// Whether ``start(lastZxid:peerEpoch:now:)`` has been called since the last decision.
    public private(set) var isRunning = false

    private var initialVote: Vote
    private var received: [PeerID: Notification] = [:]
    private var outOfElection: [PeerID: Notification] = [:]
    private var notificationTimeout: Int64
    private var notificationDeadline: Int64 = .max
    private var finalizeDeadline: Int64?
    /// Voters whose link broke and that sent nothing since.
    private var unreachable: Set<PeerID> = []

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.initialVote = Vote(leader: .min, zxid: .min, peerEpoch: .min)
        self.proposal = self.initialVote
        self.notificationTimeout = configuration.minNotificationInterval
    }

    private var isVoter: Bool { configuration.members.isVoter(configuration.id) }

    /// Starts a new round: bumps the logical clock, votes for itself (an observer votes for
    /// nobody and adopts the first voter's vote) and sends the vote to every voter.
    public mutating func start(lastZxid: Int64, peerEpoch: Int64, now: Int64) -> [Action] {
        logicalClock += 1
        state = .looking
        isRunning = true
        initialVote =
            isVoter
            ? Vote(leader: configuration.id, zxid: lastZxid, peerEpoch: peerEpoch)
            : Vote(leader: .min, zxid: .min, peerEpoch: .min)
        proposal = initialVote
        received = [:]
        outOfElection = [:]
        finalizeDeadline = nil
        notificationTimeout = configuration.minNotificationInterval
        notificationDeadline = now + notificationTimeout
        recordOwnVote()
        if hasQuorum(for: proposal, epoch: logicalClock, in: received) {
            // A lone voter is its own quorum.
            finalizeDeadline = now + configuration.finalizeWait
        }
        return broadcast()
    }

    /// The owner left the state it decided (or never ran an election, e.g. after a restart into
    /// a known role): record what it is now so LOOKING members get a truthful answer.
    public mutating func setState(_ newState: PeerState) {
        state = newState
        if newState != .looking { isRunning = false }
    }

    /// What this member tells others now.
    public var currentNotification: Notification {
        Notification(
            leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.peerEpoch,
            state: state)
    }

    public mutating func notificationReceived(from sender: PeerID, _ n: Notification, now: Int64) -> [Action] {
        let members = configuration.members
        guard sender != configuration.id, members.all.contains(sender) else { return [] }
        unreachable.remove(sender)
        if state == .looking && !isRunning { return [] }  // not started yet
        // From a non-voter: answer with our vote, never record it (ZooKeeper's WorkerReceiver).
        guard members.isVoter(sender) else { return [.send(to: sender, currentNotification)] }
        guard state == .looking else {
            // Not electing: tell a LOOKING member whom we follow/lead.
            return n.state == .looking ? [.send(to: sender, currentNotification)] : []
        }
        notificationDeadline = now + notificationTimeout
        var actions: [Action] = []
        switch n.state {
        case .looking:
            if n.electionEpoch < logicalClock {
                // An older round: help the sender catch up, ignore the vote. (Not from an
                // observer: voters answer every observer notification, so the two would
                // ping-pong forever.)
                return isVoter ? [.send(to: sender, currentNotification)] : []
            }
            if n.electionEpoch > logicalClock {
                logicalClock = n.electionEpoch
                received = [:]
                proposal = Vote.totalOrder(n.vote, isBetterThan: initialVote, members: members) ? n.vote : initialVote
                finalizeDeadline = nil
                recordOwnVote()
                actions += broadcast()
            } else if Vote.totalOrder(n.vote, isBetterThan: proposal, members: members) {
                proposal = n.vote
                finalizeDeadline = nil
                recordOwnVote()
                actions += broadcast()
            } else if Vote.totalOrder(proposal, isBetterThan: n.vote, members: members) {
                // The sender has not seen our better vote (it reached the sender before the
                // sender started this round, and was answered and dropped there): send it again
                // now rather than after a notification timeout. The sender adopts it and stops.
                actions.append(.send(to: sender, currentNotification))
            }
            received[sender] = n
            if hasQuorum(for: proposal, epoch: logicalClock, in: received) {
                if everyReachableVoterAgrees { return actions + decide(proposal) }
                if finalizeDeadline == nil { finalizeDeadline = now + configuration.finalizeWait }
            } else {
                finalizeDeadline = nil
            }
        case .observing:
            break
        case .following, .leading:
            // Join an established leader. The decided vote is the leader's own (the member
            // that triggered the decision may report a stale vote for the same leader), so every
            // joiner answers later LOOKING members exactly as the leader does.
            if n.electionEpoch == logicalClock {
                received[sender] = n
                if hasQuorum(for: n.vote, epoch: nil, in: received),
                    checkLeader(received, leader: n.leader, electionEpoch: n.electionEpoch)
                {
                    return actions + decide(received[n.leader]?.vote ?? n.vote)
                }
            }
            outOfElection[sender] = n
            if hasQuorum(for: n.vote, epoch: nil, in: outOfElection),
                checkLeader(outOfElection, leader: n.leader, electionEpoch: n.electionEpoch)
            {
                let leaderNotification = outOfElection[n.leader] ?? n
                logicalClock = leaderNotification.electionEpoch
                return actions + decide(leaderNotification.vote)
            }
        }
        return actions
    }

    /// The link to `peer` broke (its process died, or the network cut it). Until it sends again,
    /// its vote is not waited for; if that leaves nothing to wait for, the proposal is decided.
    public mutating func peerUnreachable(_ peer: PeerID, now: Int64) -> [Action] {
        guard peer != configuration.id, configuration.members.isVoter(peer) else { return [] }
        unreachable.insert(peer)
        guard state == .looking, isRunning, finalizeDeadline != nil, everyReachableVoterAgrees else { return [] }
        return decide(proposal)
    }

    /// Time passes: decide after the finalize wait, re-send the vote on the notification timeout.
    public mutating func tick(now: Int64) -> [Action] {
        guard state == .looking, isRunning else { return [] }
        if let deadline = finalizeDeadline, now >= deadline {
            return decide(proposal)
        }
        if now >= notificationDeadline {
            notificationTimeout = min(notificationTimeout * 2, configuration.maxNotificationInterval)
            notificationDeadline = now + notificationTimeout
            return broadcast()
        }
        return []
    }

    /// The earliest time ``tick(now:)`` has something to do (for drivers that sleep).
    public var nextDeadline: Int64? {
        guard state == .looking, isRunning else { return nil }
        return min(finalizeDeadline ?? .max, notificationDeadline)
    }

    // MARK: Internals

    private mutating func recordOwnVote() {
        guard isVoter else { return }
        received[configuration.id] = currentNotification
    }

    private func broadcast() -> [Action] {
        let n = currentNotification
        return configuration.members.voters.sorted().filter { $0 != configuration.id }.map { .send(to: $0, n) }
    }

    /// Every voter but the unreachable ones voted for the proposal in this round.
    private var everyReachableVoterAgrees: Bool {
        configuration.members.voters.allSatisfy { voter in
            if unreachable.contains(voter) { return true }
            guard let n = received[voter] else { return false }
            return n.vote == proposal && n.electionEpoch == logicalClock
        }
    }

    /// A quorum of voters in `votes` names `vote` (and, for LOOKING rounds, in `epoch`).
    private func hasQuorum(for vote: Vote, epoch: Int64?, in votes: [PeerID: Notification]) -> Bool {
        let agreeing = votes.filter { _, n in
            if let epoch { return n.vote == vote && n.electionEpoch == epoch }
            // FOLLOWING/LEADING votes agree when they name the same leader. (ZooKeeper's
            // Vote.equals also compares the peer epoch; a member still following that leader
            // from an older round would then split the count and keep joiners out for good.)
            return n.leader == vote.leader
        }
        return configuration.members.isQuorum(agreeing.keys)
    }

    /// ZooKeeper's `checkLeader`: the leader we would join must itself say LEADING (or, if it is
    /// us, the round must be ours).
    private func checkLeader(_ votes: [PeerID: Notification], leader: PeerID, electionEpoch: Int64) -> Bool {
        if leader != configuration.id {
            return votes[leader]?.state == .leading
        }
        return logicalClock == electionEpoch
    }

    private mutating func decide(_ vote: Vote) -> [Action] {
        let newState: PeerState =
            vote.leader == configuration.id ? .leading : (isVoter ? .following : .observing)
        proposal = vote
        state = newState
        isRunning = false
        finalizeDeadline = nil
        received = [:]
        outOfElection = [:]
        return [.decided(leader: vote.leader, state: newState, vote: vote, electionEpoch: logicalClock)]
    }
}
