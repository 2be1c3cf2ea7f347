import Foundation
import NIOCore
import ZooKeeperClient

/// Polls a local ensemble's members with `srvr` and reports what happens (elections, members
/// following, going down) until the ensemble settles.
struct EnsembleMonitor: Sendable {
    let ensemble: LocalEnsemble
    let eventLoopGroup: any EventLoopGroup

    /// Time between two polls: short at first (an election takes a few milliseconds, and the
    /// times reported are when a poll saw the change), then longer.
    static func interval(after elapsed: Duration) -> Duration {
        elapsed < .milliseconds(500) ? .milliseconds(5) : .milliseconds(50)
    }
    /// How long one member may take to answer one poll, in seconds.
    static let answerTimeout = 1.0

    /// How following ended.
    enum Outcome: Equatable {
        /// The ensemble settled, with these roles.
        case settled([Int: MemberRole])
        /// Ctrl-C stopped the waiting.
        case cancelled
    }

    /// Every member's role and zxid now, from one `srvr` to each at once.
    func observe() async throws -> [Int: EnsembleTracker.Observation] {
        let members = ensemble.members
        let replies = try await EnsemblePoll.send(
            "srvr", to: members.map(\.clientAddress), eventLoopGroup: eventLoopGroup, wait: Self.answerTimeout)
        var observations: [Int: EnsembleTracker.Observation] = [:]
        for (member, reply) in zip(members, replies) { observations[member.id] = EnsembleTracker.Observation(reply) }
        return observations
    }

    /// Polls every ``interval(after:)`` and reports each change, then the settled state, until the
    /// ensemble settles (``EnsembleTracker/isSettled(_:running:voters:sides:)``).
    ///
    /// - Parameters:
    ///   - tracker: what the members did before the action.
    ///   - start: when the action happened (event times are measured from it).
    ///   - timeout: how long to wait at most, from `start`.
    ///   - failOnExit: fail at once when a member's process ends by itself (while starting).
    ///   - report: called with each event as it happens.
    /// - Returns: ``Outcome/cancelled`` after Ctrl-C, else the settled roles.
    /// - Throws: ``ShellError`` when the ensemble did not settle within `timeout`, or (with
    ///   `failOnExit`) a member exited; the message names each member's role, or ends with the
    ///   end of the log of the member that exited.
    func follow(_ tracker: inout EnsembleTracker, since start: ContinuousClock.Instant, timeout: Duration,
                failOnExit: Bool = false, report: (EnsembleEvent) -> Void) async throws -> Outcome {
        let clock = ContinuousClock()
        let deadline = start + timeout
        do {
            while true {
                let observations = try await observe()
                // After the poll: a member that is gone by now is reported before it could
                // count as settled (down).
                for exit in ensemble.takeUnexpectedExits() {
                    report(.exited(member: exit.member, pid: exit.pid, status: exit.status))
                    if failOnExit {
                        let log = ensemble.member(exit.member)?.logFile
                        let tail = ensemble.logTail(of: exit.member)
                        throw ShellError("ensemble: member \(exit.member) exited with status \(exit.status)"
                            + (log.map { " (log: \($0))" } ?? "") + (tail.isEmpty ? "" : ":\n" + tail))
                    }
                }
                let sides = ensemble.sides
                for event in tracker.observed(observations, sides: sides, elapsed: clock.now - start) {
                    report(event)
                }
                let roles = tracker.roles
                if EnsembleTracker.isSettled(roles, running: ensemble.runningMembers, voters: Set(ensemble.memberIDs),
                                             sides: sides) {
                    for event in tracker.flush() { report(event) }
                    report(.settled(after: clock.now - start, roles: roles))
                    let moved = tracker.connectionChanges
                    if !moved.isEmpty { report(.clients(moved)) }
                    return .settled(roles)
                }
                if clock.now >= deadline {
                    for event in tracker.flush() { report(event) }
                    let states = roles.sorted { $0.key < $1.key }.map { "member \($0.key) \($0.value.rawValue)" }
                    throw ShellError("ensemble: did not settle within \(Self.seconds(timeout)) s ("
                        + states.joined(separator: ", ") + ")")
                }
                try await Task.sleep(for: Self.interval(after: clock.now - start))
            }
        } catch is CancellationError {
            for event in tracker.flush() { report(event) }
            return .cancelled
        }
    }

    /// `30`, `0.5`: a duration in seconds as typed.
    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int64(value)) : String(value)
    }
}
