import ArgumentParser
import Foundation
import ZooKeeperClient

/// `ensemble [ACTION] [ID…]`: the members of any ensemble at a glance, and a local replicated
/// ensemble (`zksh serve` members started by this shell) to break on purpose: kill, stop and
/// restart members, cut the network, grow and shrink it, watching the elections as they happen.
struct EnsembleCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemble",
        abstract: "Show any ensemble's members; run a local one and break it.",
        discussion: """
            status (the default) sends srvr, mntr and conf to every server of the connect \
            string at once (of any ensemble, Apache ZooKeeper's too) and prints a row per \
            member: id, role (leader, follower, observer, standalone, looking, down), address, \
            pid (of members this shell started), epoch (the zxid's high 32 bits), last zxid, \
            client connections, znodes, and up or down. Connected to the local ensemble, it \
            shows every member of it.

            start [N] starts a local ensemble of N members (odd, 1 to 9, default 3): zksh serve \
            processes on free loopback ports, each with its zoo.cfg, myid and zksh.log in \
            DIR/memberID (a temporary directory, removed when the ensemble stops, unless \
            --data-dir names one, which is kept and reused). It waits until a leader is elected \
            and connects the shell to all members. zksh --ensemble N does the same at startup. \
            The members stop when the shell ends.

            The other actions need a local ensemble. After each, the shell polls the members \
            (srvr every 50 ms, up to --timeout) and prints what happens until the ensemble \
            settles: elections with their time and zxid, members following the new leader, \
            members looking for one, then which clients moved (connections per member before \
            and after). Ctrl-C stops the waiting, not the action.
              kill ID…        SIGKILL, like a crash
              stop [ID…]      SIGTERM (SIGKILL after 5 s); without ID the whole ensemble
              restart ID…     stop if running, then start again (same data and ports)
              partition ID…   cut these members off from the others
              heal            end the partition
              add             start a new member and add it with reconfig
              remove ID       remove a member with reconfig, then stop it

            Exit status: 1 when a member cannot be started, the ensemble does not settle in \
            time, reconfig fails, or (status) no member answers.

            Examples:
              ensemble
              ensemble start 5
              ensemble kill 2
              ensemble partition 1 2
              ensemble heal
              ensemble add
              ensemble status --json
            """)

    /// What to do.
    enum Action: String, ExpressibleByArgument, CaseIterable, Sendable {
        case status, start, kill, stop, restart, partition, heal, add, remove

        /// Whether the arguments after the action are member ids (completed from the local ensemble).
        var takesMemberIDs: Bool {
            switch self {
            case .kill, .stop, .restart, .partition, .remove: return true
            case .status, .start, .heal, .add: return false
            }
        }
    }

    @Argument(help: "status (the default), start, kill, stop, restart, partition, heal, add or remove.")
    var action: Action = .status

    @Argument(help: ArgumentHelp("Member ids; for start, the number of members (odd, 1 to 9, default 3).", valueName: "id"))
    var ids: [Int] = []

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("start: keep the members' directories in this directory (kept, and reused when it holds an ensemble).", valueName: "dir"))
    var dataDirectory: String?

    @Option(help: ArgumentHelp("Seconds to wait for the ensemble to settle after an action.", valueName: "seconds"))
    var timeout: Double = 30

    @OptionGroup var ensemble: EnsembleOptions

    /// The number of members `start` uses without N.
    static let defaultSize = 3

    func validate() throws {
        if !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if dataDirectory != nil && action != .start { throw ValidationError("--data-dir is for 'ensemble start'") }
        switch action {
        case .status, .heal, .add:
            if !ids.isEmpty { throw ValidationError("'ensemble \(action.rawValue)' takes no member ids") }
        case .start:
            if ids.count > 1 { throw ValidationError("'ensemble start' takes one number of members") }
            if let size = ids.first, !LocalEnsembleLayout.isValidSize(size) {
                throw ValidationError("the number of members must be odd, from 1 to 9 (not \(size))")
            }
        case .kill, .restart, .partition:
            if ids.isEmpty { throw ValidationError("'ensemble \(action.rawValue)' needs member ids") }
        case .remove:
            if ids.count != 1 { throw ValidationError("'ensemble remove' takes one member id") }
        case .stop:
            break
        }
    }

    func run(in context: ShellContext) async throws {
        let events = EventOutput(context: context, json: ensemble.output.wantsJSON(context), action: action.rawValue)
        switch action {
        case .status:
            try await status(context)
        case .start:
            try await Self.startLocalEnsemble(size: ids.first ?? Self.defaultSize, dataDirectory: dataDirectory,
                                              timeout: .seconds(timeout), context: context, events: events)
            events.finish()
        case .kill:
            let local = try Self.requireLocalEnsemble(context)
            try checkMembers(local, mustRun: true)
            try await act(on: local, context: context, events: events) { tracker in
                for id in ids {
                    if let pid = await local.kill(id) { events.report(.killed(member: id, pid: pid)) }
                    tracker.assume(id, is: .down)
                }
            }
        case .restart:
            let local = try Self.requireLocalEnsemble(context)
            try checkMembers(local, mustRun: false)
            try await act(on: local, context: context, events: events) { tracker in
                for id in ids {
                    if let pid = await local.stop(id) { events.report(.stopped(member: id, pid: pid)) }
                    tracker.assume(id, is: .down)
                }
                for id in ids {
                    events.report(.started(member: id, pid: try local.start(id), clientPort: local.member(id)?.clientPort ?? 0))
                }
            }
        case .stop:
            let local = try Self.requireLocalEnsemble(context)
            if ids.isEmpty {
                try await stopAll(local, context: context, events: events)
                return
            }
            try checkMembers(local, mustRun: true)
            try await act(on: local, context: context, events: events) { tracker in
                for id in ids {
                    if let pid = await local.stop(id) { events.report(.stopped(member: id, pid: pid)) }
                    tracker.assume(id, is: .down)
                }
            }
        case .partition:
            let local = try Self.requireLocalEnsemble(context)
            try checkMembers(local, mustRun: false)
            try await act(on: local, context: context, events: events) { _ in
                try local.partition(isolating: Set(ids))
                events.note("partitioned: members " + Self.describe(local.sides),
                            json: ["partition": .array(local.sides.map { .array($0.sorted().map { .integer(Int64($0)) }) })])
            }
        case .heal:
            let local = try Self.requireLocalEnsemble(context)
            try await act(on: local, context: context, events: events) { _ in
                try local.heal()
                events.note("partition healed")
            }
        case .add:
            try await add(context, events: events)
        case .remove:
            try await remove(context, events: events)
        }
    }

    // MARK: Local ensemble

    /// The shell's local ensemble, or the error that there is none.
    static func requireLocalEnsemble(_ context: ShellContext) throws -> LocalEnsemble {
        guard let local = context.localEnsemble else {
            throw ShellError("ensemble: no local ensemble (start one with 'ensemble start' or 'zksh --ensemble 3')")
        }
        return local
    }

    /// `1, 2 | 3, 4, 5`: the sides of a partition.
    static func describe(_ sides: [Set<Int>]) -> String {
        sides.map { $0.sorted().map(String.init).joined(separator: ", ") }.joined(separator: " | ")
    }

    /// Fails unless every id is a member (and, with `mustRun`, a running one).
    private func checkMembers(_ local: LocalEnsemble, mustRun: Bool) throws {
        for id in ids {
            guard local.member(id) != nil else {
                throw ShellError("ensemble: no member \(id) (members: \(local.memberIDs.map(String.init).joined(separator: ", ")))")
            }
            if mustRun && local.pid(of: id) == nil { throw ShellError("ensemble: member \(id) is not running") }
        }
    }

    /// Observes the members, runs `action`, then follows the ensemble until it settles.
    private func act(on local: LocalEnsemble, context: ShellContext, events: EventOutput,
                     _ action: (inout EnsembleTracker) async throws -> Void) async throws {
        let monitor = EnsembleMonitor(ensemble: local, eventLoopGroup: context.eventLoopGroup)
        var tracker = EnsembleTracker(baseline: try await monitor.observe(), sides: local.sides)
        let start = ContinuousClock.now
        defer { events.finish() }
        try await action(&tracker)
        _ = try await monitor.follow(&tracker, since: start, timeout: .seconds(timeout), report: events.report)
    }

    /// Starts a local ensemble of `size` members, reports each member's start and the election,
    /// and connects the shell to it. Used by `ensemble start` and `zksh --ensemble`.
    ///
    /// On failure or Ctrl-C the members are stopped again and the temporary data removed.
    static func startLocalEnsemble(size: Int, dataDirectory: String?, timeout: Duration, context: ShellContext,
                                   events: EventOutput) async throws {
        if let running = context.localEnsemble {
            throw ShellError("ensemble: a local ensemble is already running (\(running.connectString); stop it with 'ensemble stop')")
        }
        let local = try LocalEnsemble.create(size: size, dataDirectory: dataDirectory)
        context.localEnsemble = local
        let outcome: EnsembleMonitor.Outcome
        do {
            let start = ContinuousClock.now
            for member in local.members {
                events.report(.started(member: member.id, pid: try local.start(member.id), clientPort: member.clientPort))
            }
            var tracker = EnsembleTracker(baseline: [:], sides: local.sides)
            let monitor = EnsembleMonitor(ensemble: local, eventLoopGroup: context.eventLoopGroup)
            outcome = try await monitor.follow(&tracker, since: start, timeout: timeout, failOnExit: true, report: events.report)
        } catch {
            context.localEnsemble = nil
            await local.shutdown()
            throw error
        }
        guard outcome != .cancelled else {
            context.localEnsemble = nil
            await local.shutdown()
            throw CancellationError()
        }
        let data = local.keepsData ? "data kept in \(local.root)" : "data in \(local.root), removed when it stops"
        events.note("ensemble of \(size) ready on \(local.connectString) (\(data))", json: [
            "connectString": .string(local.connectString), "dataDirectory": .string(local.root), "kept": .bool(local.keepsData),
        ])
        try await context.connect(to: local.connectString)
    }

    /// `ensemble stop`: closes the shell's session on the ensemble, stops every member and
    /// forgets the ensemble.
    private func stopAll(_ local: LocalEnsemble, context: ShellContext, events: EventOutput) async throws {
        if Self.isConnected(to: local, context) { try? await context.disconnect() }
        context.localEnsemble = nil
        for stopped in await local.shutdown() { events.report(.stopped(member: stopped.member, pid: stopped.pid)) }
        events.note(local.keepsData ? "ensemble stopped; data kept in \(local.root)" : "ensemble stopped; data removed",
                    json: ["dataDirectory": .string(local.root), "kept": .bool(local.keepsData)])
        events.finish()
    }

    /// Whether the shell's connect string names only members of `local`.
    static func isConnected(to local: LocalEnsemble, _ context: ShellContext) -> Bool {
        guard let hosts = try? EnsemblePoll.members(context), !hosts.isEmpty else { return false }
        // Any member in common: the ensemble may have gained or lost members since the shell
        // connected (ensemble add/remove).
        let addresses = Set(local.members.map(\.clientAddress))
        return hosts.contains { addresses.contains($0) }
    }

    /// `ensemble add`: starts a new member configured with the current members and itself,
    /// waits until it has joined as a (non-voting) follower (see ``waitUntilJoining``), then
    /// makes it a voter with an incremental reconfig. When reconfig fails, the new member is
    /// stopped and removed again.
    private func add(_ context: ShellContext, events: EventOutput) async throws {
        let local = try Self.requireLocalEnsemble(context)
        _ = try await context.client()
        let monitor = EnsembleMonitor(ensemble: local, eventLoopGroup: context.eventLoopGroup)
        var tracker = EnsembleTracker(baseline: try await monitor.observe(), sides: local.sides)
        let start = ContinuousClock.now
        defer { events.finish() }
        let (member, pid) = try local.launchNewMember()
        events.report(.started(member: member.id, pid: pid, clientPort: member.clientPort))
        do {
            try await waitUntilJoining(member, local: local, context: context, since: start)
            do {
                _ = try await Self.asSuperuser(local, context) { admin in
                    try await admin.reconfig(joining: member.serverLine, leaving: nil, newMembers: nil)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw ShellError("reconfig: \(error)")
            }
        } catch {
            if let stopped = await local.discard(member) { events.report(.stopped(member: member.id, pid: stopped)) }
            throw error
        }
        try local.admit(member)
        events.note("member \(member.id) added: \(member.serverLine)", json: ["serverLine": .string(member.serverLine)])
        if !((try? EnsemblePoll.members(context)) ?? []).contains(member.clientAddress) {
            events.note("('connect \(local.connectString)' to include it in this shell's servers)")
        }
        _ = try await monitor.follow(&tracker, since: start, timeout: .seconds(timeout), report: events.report)
    }

    /// Runs `body` on a session of the ensemble's superuser (only it may reconfigure), through
    /// the members other than any being removed. The user's own session is left as it is.
    static func asSuperuser<T: Sendable>(
        _ local: LocalEnsemble, _ context: ShellContext, excluding leaving: Int? = nil,
        _ body: @Sendable (ZooKeeperClient) async throws -> T
    ) async throws -> T {
        let hosts = local.members.filter { $0.id != leaving }.map { $0.clientAddress.description }.joined(separator: ",")
        var configuration = try ZooKeeperClient.Configuration(connectString: hosts)
        configuration.credentials = [("digest", Array("super:\(try local.adminPassword())".utf8))]
        let admin = ZooKeeperClient(configuration: configuration, eventLoopGroup: context.eventLoopGroup)
        try await admin.connect()
        do {
            let result = try await body(admin)
            try? await admin.close()
            return result
        } catch {
            try? await admin.close()
            throw error
        }
    }

    /// How long a new member that answers may take to sync with the leader (and show as a
    /// follower) before reconfig is sent anyway: a server may also admit it only with reconfig.
    static let joinGracePeriod: Duration = .milliseconds(500)

    /// Waits until a new member answers, and then until it follows the leader (it synced as a
    /// non-voting member) or ``joinGracePeriod`` passed.
    private func waitUntilJoining(_ member: LocalEnsembleMember, local: LocalEnsemble, context: ShellContext,
                                  since start: ContinuousClock.Instant) async throws {
        let deadline = start + .seconds(timeout)
        var answeredAt: ContinuousClock.Instant?
        while true {
            if let exit = local.takeUnexpectedExits().first(where: { $0.member == member.id }) {
                let tail = (try? String(contentsOfFile: member.logFile, encoding: .utf8))?
                    .split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
                throw ShellError("ensemble: member \(member.id) exited with status \(exit.status) (log: \(member.logFile))"
                    + (tail.isEmpty ? "" : ":\n" + tail))
            }
            let reply = try await EnsemblePoll.send("srvr", to: [member.clientAddress], eventLoopGroup: context.eventLoopGroup,
                                                    wait: EnsembleMonitor.answerTimeout)
            let role = reply.first.map(MemberRole.init) ?? .down
            let now = ContinuousClock.now
            switch role {
            case .follower, .observer, .leader:
                return
            case .down:
                if now >= deadline {
                    throw ShellError("ensemble: member \(member.id) did not answer within \(EnsembleMonitor.seconds(.seconds(timeout))) s (log: \(member.logFile))")
                }
            case .looking, .standalone, .readOnly, .unknown:
                let since = answeredAt ?? now
                answeredAt = since
                if now - since >= Self.joinGracePeriod || now >= deadline { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// `ensemble remove ID`: removes the member with reconfig, then stops it.
    private func remove(_ context: ShellContext, events: EventOutput) async throws {
        let local = try Self.requireLocalEnsemble(context)
        try checkMembers(local, mustRun: false)
        let id = ids[0]
        guard local.memberIDs.count > 1 else { throw ShellError("ensemble: cannot remove the only member") }
        _ = try await context.client()
        let monitor = EnsembleMonitor(ensemble: local, eventLoopGroup: context.eventLoopGroup)
        var tracker = EnsembleTracker(baseline: try await monitor.observe(), sides: local.sides)
        let start = ContinuousClock.now
        defer { events.finish() }
        do {
            _ = try await Self.asSuperuser(local, context, excluding: id) { admin in
                try await admin.reconfig(joining: nil, leaving: String(id), newMembers: nil)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ShellError("reconfig: \(error)")
        }
        events.note("member \(id) removed from the configuration", json: ["removed": .integer(Int64(id))])
        if let pid = try await local.remove(id) { events.report(.stopped(member: id, pid: pid)) }
        tracker.forget(id)
        _ = try await monitor.follow(&tracker, since: start, timeout: .seconds(timeout), report: events.report)
    }

    // MARK: Status

    /// One member's row of `ensemble status`.
    struct StatusRow: Equatable {
        var id: Int?
        var address: String
        var role: MemberRole
        var pid: Int32?
        var zxid: Int64?
        var connections: Int64?
        var znodes: Int64?
        /// Why there is no answer (`connection refused`), or nil.
        var problem: String?
    }

    /// The members `ensemble status` asks: every member of the local ensemble when the shell
    /// is connected to it, else the servers of the connect string (with the ids and pids of
    /// those that are local members).
    static func statusTargets(_ context: ShellContext) throws -> [(address: HostAndPort, member: Int?)] {
        let hosts = try EnsemblePoll.members(context)
        guard let local = context.localEnsemble else { return hosts.map { ($0, nil) } }
        if isConnected(to: local, context) { return local.members.map { ($0.clientAddress, $0.id) } }
        let ids = Dictionary(local.members.map { ($0.clientAddress, $0.id) }, uniquingKeysWith: { first, _ in first })
        return hosts.map { ($0, ids[$0]) }
    }

    private func status(_ context: ShellContext) async throws {
        let targets = try Self.statusTargets(context)
        let addresses = targets.map(\.address)
        let group = context.eventLoopGroup
        let wait = ensemble.wait
        async let srvr = EnsemblePoll.send("srvr", to: addresses, eventLoopGroup: group, wait: wait)
        async let mntr = EnsemblePoll.send("mntr", to: addresses, eventLoopGroup: group, wait: wait)
        async let conf = EnsemblePoll.send("conf", to: addresses, eventLoopGroup: group, wait: wait)
        let (summaries, metrics, configurations) = try await (srvr, mntr, conf)
        let local = context.localEnsemble
        var rows: [StatusRow] = []
        for (index, target) in targets.enumerated() {
            var row = Self.row(srvr: summaries[index], mntr: metrics[index], conf: configurations[index])
            if let member = target.member {
                row.id = member
                row.pid = local?.pid(of: member)
            }
            rows.append(row)
        }
        let sides = local.map(\.sides).flatMap { $0.count > 1 ? $0 : nil }
        if ensemble.output.wantsJSON(context) {
            var document: [String: JSONValue] = [
                "members": .array(zip(rows, metrics).map { row, metrics in Self.json(row, metrics: metrics) }),
            ]
            if let local {
                document["local"] = ["dataDirectory": .string(local.root), "kept": .bool(local.keepsData),
                                     "connectString": .string(local.connectString)]
            }
            if let sides { document["partition"] = .array(sides.map { .array($0.sorted().map { .integer(Int64($0)) }) }) }
            context.printJSON(.object(document))
        } else {
            context.write(Array(Self.table(rows).utf8))
            if let sides { context.print("partitioned: members " + Self.describe(sides)) }
        }
        try EnsemblePoll.requireAnyAnswer(summaries)
    }

    /// A member's row from its `srvr`, `mntr` and `conf` replies (`conf` gives the server id
    /// of a member the shell did not start).
    static func row(srvr: MemberReply, mntr: MemberReply, conf: MemberReply) -> StatusRow {
        let summary = srvr.reply.map(FourLetterWordReply.summary) ?? OrderedValues()
        let metrics = mntr.reply.map(FourLetterWordReply.monitor) ?? OrderedValues()
        var role = MemberRole(srvr)
        if role == .unknown, let state = metrics["zk_server_state"] { role = MemberRole(mode: state) }
        let id = conf.reply.flatMap { FourLetterWordReply.environment($0)["serverId"] }.flatMap { Int($0) }
        return StatusRow(
            id: id, address: srvr.member, role: role, pid: nil,
            zxid: summary["Zxid"].flatMap(FourLetterWordReply.zxid),
            connections: (summary["Connections"] ?? metrics["zk_num_alive_connections"]).flatMap { Int64($0) },
            znodes: (summary["Node count"] ?? metrics["zk_znode_count"]).flatMap { Int64($0) },
            problem: srvr.problem)
    }

    /// ID, ROLE, ADDRESS, PID, EPOCH, LAST ZXID, CONNECTIONS, ZNODES, STATUS (`up` or `down`).
    static func table(_ rows: [StatusRow]) -> String {
        var table = TextTable(headers: ["ID", "ROLE", "ADDRESS", "PID", "EPOCH", "LAST ZXID", "CONNECTIONS", "ZNODES", "STATUS"])
        for row in rows {
            table.rows.append([
                row.id.map(String.init) ?? "", row.role.rawValue, row.address, row.pid.map(String.init) ?? "",
                row.zxid.map { String(FourLetterWordReply.epoch(ofZxid: $0)) } ?? "", row.zxid.map(StatFormatter.hex) ?? "",
                row.connections.map(String.init) ?? "", row.znodes.map(String.init) ?? "", row.role == .down ? "down" : "up",
            ])
        }
        return table.rendered()
    }

    /// A row as JSON, with the member's `mntr` metrics.
    static func json(_ row: StatusRow, metrics: MemberReply) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": row.id.map { .integer(Int64($0)) } ?? .null,
            "server": .string(row.address),
            "role": .string(row.role.rawValue),
            "pid": row.pid.map { .integer(Int64($0)) } ?? .null,
            "epoch": row.zxid.map { .integer(FourLetterWordReply.epoch(ofZxid: $0)) } ?? .null,
            "zxid": row.zxid.map { .string(StatFormatter.hex($0)) } ?? .null,
            "connections": row.connections.map(JSONValue.integer) ?? .null,
            "znodes": row.znodes.map(JSONValue.integer) ?? .null,
            "status": .string(row.role == .down ? "down" : "up"),
            "metrics": (metrics.reply.map(FourLetterWordReply.monitor) ?? OrderedValues()).json,
        ]
        if let problem = row.problem { object["error"] = .string(problem) }
        return .object(object)
    }
}

extension EnsembleCommand: MemberIDCompleting {
    /// Member ids follow `kill`, `stop`, `restart`, `partition` and `remove`.
    static func completesMemberIDs(after positionals: [String]) -> Bool {
        positionals.first.flatMap(Action.init(rawValue:))?.takesMemberIDs ?? false
    }
}

/// Where the events of an ensemble action go: printed line by line as they happen, or with
/// `--json` collected into one document printed when the action ends.
final class EventOutput: @unchecked Sendable {
    private let context: ShellContext
    private let json: Bool
    private let action: String
    private let lock = NSLock()
    private var events: [JSONValue] = []
    private var extra: [String: JSONValue] = [:]
    private var finished = false
    private let printer: (@Sendable (String) -> Void)?

    /// Events of `action` printed on the context's standard output: as lines, or with `json`
    /// as one document.
    convenience init(context: ShellContext, json: Bool, action: String) {
        self.init(context: context, json: json, action: action, lines: { [context] line in context.print(line) })
    }

    /// Events printed as lines through `lines`, or not at all when it is nil (`zksh
    /// --ensemble` in a script keeps standard output for the script's results).
    init(context: ShellContext, json: Bool, action: String, lines: (@Sendable (String) -> Void)?) {
        self.context = context
        self.json = json
        self.action = action
        self.printer = lines
    }

    /// Reports one event.
    func report(_ event: EnsembleEvent) {
        if json {
            lock.withLock { events.append(event.json) }
        } else {
            printer?(event.description)
        }
    }

    /// A line that is not an event (`partition healed`), with what it adds to the JSON document.
    func note(_ line: String, json extra: [String: JSONValue] = [:]) {
        if json {
            lock.withLock { self.extra.merge(extra) { _, new in new } }
        } else {
            printer?(line)
        }
    }

    /// Prints the JSON document, once: `{"action":…,"events":[…],…}`.
    func finish() {
        guard json else { return }
        let document = lock.withLock { () -> JSONValue? in
            guard !finished else { return nil }
            finished = true
            var object = extra
            object["action"] = .string(action)
            object["events"] = .array(events)
            return .object(object)
        }
        if let document { context.printJSON(document) }
    }
}
