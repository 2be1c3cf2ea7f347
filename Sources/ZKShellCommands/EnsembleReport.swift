import ArgumentParser
import Foundation
import NIOCore
import ZooKeeperClient

/// Key/value pairs in the order a server printed them.
public struct OrderedValues: Equatable, Sendable {
    public private(set) var pairs: [(key: String, value: String)] = []

    public init(_ pairs: [(key: String, value: String)] = []) {
        for pair in pairs { self[pair.key] = pair.value }
    }

    /// The value of a key; setting a new key appends it, setting an existing one replaces it.
    public subscript(key: String) -> String? {
        get { pairs.first { $0.key == key }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public var keys: [String] { pairs.map(\.key) }
    public var isEmpty: Bool { pairs.isEmpty }

    public static func == (lhs: OrderedValues, rhs: OrderedValues) -> Bool {
        lhs.pairs.map(\.key) == rhs.pairs.map(\.key) && lhs.pairs.map(\.value) == rhs.pairs.map(\.value)
    }

    /// A JSON object; values that are whole numbers become JSON integers.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        for (key, value) in pairs { object[key] = Int64(value).map(JSONValue.integer) ?? .string(value) }
        return .object(object)
    }
}

/// Parsers for the plain-text replies of ZooKeeper's four-letter words, in the formats of
/// Apache ZooKeeper 3.5–3.9 (which `zksh serve` reproduces).
public enum FourLetterWordReply {
    /// The reply of a server that refuses a word not in `4lw.commands.whitelist`.
    public static func isNotAllowed(_ reply: String) -> Bool {
        reply.contains("is not executed because it is not in the whitelist")
    }

    /// The reply of a member that has no quorum (or is still starting).
    public static func isNotServing(_ reply: String) -> Bool {
        reply.hasPrefix("This ZooKeeper instance is not currently serving requests")
    }

    /// `mntr`: one `key<TAB>value` per line.
    public static func monitor(_ reply: String) -> OrderedValues {
        var values = OrderedValues()
        for line in reply.split(whereSeparator: \.isNewline) {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            values[String(line[..<tab])] = String(line[line.index(after: tab)...]).trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    /// `srvr` and the summary part of `stat`: `Key: value` lines (`Mode: leader`,
    /// `Zxid: 0x100000003`, `Latency min/avg/max: 0/0.1/3`). Lines without `: ` are skipped.
    public static func summary(_ reply: String) -> OrderedValues {
        var values = OrderedValues()
        for line in reply.split(whereSeparator: \.isNewline) {
            guard !line.hasPrefix(" "), let separator = line.range(of: ": ") else { continue }
            values[String(line[..<separator.lowerBound])] = String(line[separator.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    /// `envi`: `Environment:` then `key=value` lines.
    public static func environment(_ reply: String) -> OrderedValues {
        var values = OrderedValues()
        for line in reply.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// One client connection of `cons` or `stat`.
    public struct Connection: Equatable, Sendable {
        /// The client's `ip:port`.
        public var client: String
        /// `queued`, `recved`, `sent`, and with a session `sid`, `lop`, `est`, `to`, `lcxid`, …
        public var values: OrderedValues

        public var json: JSONValue {
            guard case .object(var object) = values.json else { return .null }
            object["client"] = .string(client)
            return .object(object)
        }
    }

    /// `cons` (and the `Clients:` lines of `stat`):
    /// ` /127.0.0.1:50000[1](queued=0,recved=5,sent=5,sid=0x1000…,lop=PING,…)`.
    public static func connections(_ reply: String) -> [Connection] {
        var connections: [Connection] = []
        for line in reply.split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("/"), let open = text.firstIndex(of: "(") else { continue }
            var client = String(text[text.index(after: text.startIndex)..<open])
            if let bracket = client.lastIndex(of: "["), client.hasSuffix("]") { client = String(client[..<bracket]) }
            var values = OrderedValues()
            let body = text[text.index(after: open)...].dropLast(text.hasSuffix(")") ? 1 : 0)
            for pair in body.split(separator: ",") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            connections.append(Connection(client: client, values: values))
        }
        return connections
    }

    /// A zxid as printed (`0x100000003`), or nil.
    public static func zxid(_ text: String) -> Int64? {
        let digits = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
        return UInt64(digits, radix: 16).map { Int64(bitPattern: $0) }
    }

    /// The epoch of a zxid: its high 32 bits.
    public static func epoch(ofZxid zxid: Int64) -> Int64 { zxid >> 32 }

    /// The short form of a version (`3.8.0` of `3.8.0-5a02a05e…, built on 2022-02-25 08:49 UTC`).
    public static func shortVersion(_ version: String) -> String {
        String(version.prefix { $0 != "-" && $0 != "," && $0 != " " })
    }
}

/// What one member of the connect string answered.
public struct MemberReply: Sendable {
    public enum Outcome: Sendable {
        /// The reply text.
        case answered(String)
        /// No reply: refused, timed out, reset (the reason).
        case down(String)
    }

    /// `host:port`.
    public var member: String
    public var outcome: Outcome

    public init(member: String, outcome: Outcome) {
        self.member = member
        self.outcome = outcome
    }

    /// The reply, unless the member is down or refused the word.
    public var reply: String? {
        guard case .answered(let text) = outcome, !FourLetterWordReply.isNotAllowed(text) else { return nil }
        return text
    }

    /// `up`, `down`, `not serving` (no quorum) or `not allowed` (not in the 4lw whitelist).
    public var status: String {
        switch outcome {
        case .down: return "down"
        case .answered(let text):
            if FourLetterWordReply.isNotAllowed(text) { return "not allowed" }
            if FourLetterWordReply.isNotServing(text) { return "not serving" }
            return "up"
        }
    }

    /// Why there is no reply (`connection refused`), or nil.
    public var problem: String? {
        switch outcome {
        case .down(let reason): return reason
        case .answered(let text):
            return FourLetterWordReply.isNotAllowed(text) ? text.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }
    }

    /// Whether the member answered with something useful (serving or not).
    public var isUp: Bool { reply != nil }
}

/// The options of the ensemble commands: how long to wait for each member.
struct EnsembleOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("wait"), help: ArgumentHelp("Seconds to wait for each member's answer.", valueName: "seconds"))
    var wait: Double = 5

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !(wait > 0) { throw ValidationError("--wait must be a positive number of seconds") }
    }
}

/// Sends four-letter words to every member of the connect string.
enum EnsemblePoll {
    /// The members of the shell's connect string, in its order (duplicates once).
    static func members(_ context: ShellContext) throws -> [HostAndPort] {
        let parsed: ConnectString
        do {
            parsed = try ConnectString(parsing: context.connectString)
        } catch {
            throw ShellError("invalid connect string '\(context.connectString)': \(error)")
        }
        var seen = Set<HostAndPort>()
        return parsed.hosts.filter { seen.insert($0).inserted }
    }

    /// Sends `word` to every member at once and returns the replies in member order. A member
    /// that does not answer within `wait` is down; the others are not affected.
    static func send(_ word: String, context: ShellContext, wait: Double) async throws -> [MemberReply] {
        try await send(word, to: try members(context), eventLoopGroup: context.eventLoopGroup, wait: wait)
    }

    /// Sends `word` to each of `members` at once and returns the replies in their order; a
    /// member that does not answer within `wait` seconds is down.
    static func send(_ word: String, to members: [HostAndPort], eventLoopGroup group: any EventLoopGroup,
                     wait: Double) async throws -> [MemberReply] {
        let timeout = TimeAmount.milliseconds(Int64(wait * 1000))
        let replies = await withTaskGroup(of: (Int, MemberReply).self) { tasks in
            for (index, member) in members.enumerated() {
                tasks.addTask {
                    do {
                        let text = try await FourLetterWord.send(word, to: member, eventLoopGroup: group, timeout: timeout)
                        return (index, MemberReply(member: member.description, outcome: .answered(text)))
                    } catch {
                        return (index, MemberReply(member: member.description, outcome: .down(Self.reason(error))))
                    }
                }
            }
            var replies = [MemberReply?](repeating: nil, count: members.count)
            for await (index, reply) in tasks { replies[index] = reply }
            return replies.compactMap { $0 }
        }
        try Task.checkCancellation()
        return replies
    }

    /// A short reason: `connection refused`, `timed out`.
    static func reason(_ error: any Error) -> String {
        let text = (error as? ZooKeeperError)?.detail ?? "\(error)"
        if let range = text.range(of: #"errno: (\d+)"#, options: .regularExpression),
           let number = Int32(text[range].dropFirst("errno: ".count)), let message = strerror(number)
        {
            return String(cString: message).lowercased()
        }
        if text.localizedCaseInsensitiveContains("did not answer") || text.localizedCaseInsensitiveContains("timeout")
            || text.localizedCaseInsensitiveContains("timed out")
        {
            return "timed out"
        }
        return text
    }

    /// Fails with status 1 when no member answered (after the output was printed).
    static func requireAnyAnswer(_ replies: [MemberReply]) throws {
        if !replies.contains(where: \.isUp) {
            throw ShellError("no member answered")
        }
    }

    /// `{"server":…,"status":…,"error":…}` plus `extra`.
    static func json(_ reply: MemberReply, _ extra: [String: JSONValue]) -> JSONValue {
        var object: [String: JSONValue] = ["server": .string(reply.member), "status": .string(reply.status)]
        if let problem = reply.problem { object["error"] = .string(problem) }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    /// The heading of a per-member section: `== 127.0.0.1:2181 (up) ==`.
    static func heading(_ reply: MemberReply) -> String {
        var status = reply.status
        if let problem = reply.problem, reply.status == "down" { status += ": " + problem }
        return "== \(reply.member) (\(status)) =="
    }
}

/// A plain-text table: a header row, then one row per item, columns padded to their widest
/// cell and separated by two spaces. Missing cells print as `-`.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    /// The table as lines (each ending in a newline), without trailing spaces.
    public func rendered() -> String {
        let all = [headers] + rows.map { row in
            (0..<headers.count).map { $0 < row.count && !row[$0].isEmpty ? row[$0] : "-" }
        }
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}

extension EnsemblePoll {
    /// Whether any member answered.
    static func anyUp(_ replies: [MemberReply]) -> Bool { replies.contains(where: \.isUp) }
}
