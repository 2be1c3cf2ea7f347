import ArgumentParser
import Foundation
import ZooKeeperClient

/// ACLs as `zkCli.sh` reads and prints them.
public enum ACLText {
    /// Parses `scheme:id:perms[,scheme:id:perms…]` (`world:anyone:cdrwa`,
    /// `digest:bob:HASH=:rw`, `ip:10.0.0.0/8:r`, `auth::cdrwa`).
    ///
    /// Each entry is split at its first colon (the scheme) and its last colon (the permission
    /// letters), so ids may contain colons (digest hashes, IPv6 addresses).
    ///
    /// - Throws: ``UsageError`` naming the bad entry: no two colons, an empty scheme, or a letter
    ///   other than `c d r w a`.
    public static func parse(_ text: String) throws(UsageError) -> [ACL] {
        var acl: [ACL] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let first = entry.firstIndex(of: ":"), let last = entry.lastIndex(of: ":"), first != last else {
                throw UsageError(message: "'\(entry)' is not a valid ACL entry (expected scheme:id:perms)")
            }
            let scheme = entry[..<first]
            guard !scheme.isEmpty else { throw UsageError(message: "'\(entry)' has no scheme") }
            let letters = entry[entry.index(after: last)...]
            guard let permissions = Permissions(letters: letters) else {
                throw UsageError(message: "'\(letters)' in '\(entry)' are not permissions (use the letters c, d, r, w, a)")
            }
            acl.append(ACL(permissions: permissions, id: Id(scheme: String(scheme), id: String(entry[entry.index(after: first)..<last]))))
        }
        return acl
    }

    /// zkCli.sh's two lines per entry: `'world,'anyone` and `: cdrwa`, each ending in a newline.
    public static func text(_ acl: [ACL]) -> String {
        acl.map { "'\($0.id.scheme),'\($0.id.id)\n: \($0.permissions.letters)\n" }.joined()
    }

    /// `[{"scheme":…,"id":…,"perms":"cdrwa"}, …]`.
    public static func json(_ acl: [ACL]) -> JSONValue {
        .array(acl.map { ["scheme": .string($0.id.scheme), "id": .string($0.id.id), "perms": .string($0.permissions.letters)] })
    }
}

/// The quota data `zkCli.sh` keeps in `/zookeeper/quota/<path>/zookeeper_limits` and
/// `zookeeper_stats` (Java's `StatsTrack`).
///
/// The text is `count=N,bytes=N` and, when any other field is set, an extra `=` followed by the
/// other fields sorted by name and separated by `;`:
///
///     count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2
///
/// That shape keeps ZooKeeper 3.4's parser working. An unset field reads as -1.
public struct QuotaStats: Equatable, Sendable {
    /// Fields in the order they were read or set; `count` and `bytes` are always written first.
    public private(set) var fields: [String: Int64] = [:]

    public static let count = "count"
    public static let bytes = "bytes"
    public static let countHardLimit = "countHardLimit"
    public static let byteHardLimit = "byteHardLimit"

    /// The root of quota nodes.
    public static let quotaRoot = "/zookeeper/quota"
    /// The node holding the limits, under the quota node of a path.
    public static let limitNode = "zookeeper_limits"
    /// The node holding the usage the server tracks.
    public static let statNode = "zookeeper_stats"

    public init() {}

    /// Parses `key=value` pairs separated by `,` or `;` (empty text: no fields).
    ///
    /// - Throws: ``ShellError`` for a pair without `=` or with a value that is not a number.
    public init(parsing text: String) throws(ShellError) {
        for pair in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count >= 2, !parts[0].isEmpty else { throw ShellError("malformed quota data '\(text)'") }
            if parts[1].isEmpty {
                fields[String(parts[0])] = -1
            } else if let value = Int64(parts[1]) {
                fields[String(parts[0])] = value
            } else {
                throw ShellError("malformed quota data '\(text)'")
            }
        }
    }

    /// The value of a field, -1 when unset.
    public subscript(key: String) -> Int64 {
        get { fields[key] ?? -1 }
        set { fields[key] = newValue }
    }

    /// Whether the field is present in the data.
    public func has(_ key: String) -> Bool { fields[key] != nil }

    /// The text zkCli.sh writes (see the type's documentation).
    public var text: String {
        var text = "count=\(self[Self.count]),bytes=\(self[Self.bytes])"
        let others = fields.keys.filter { $0 != Self.count && $0 != Self.bytes }.sorted()
        if !others.isEmpty {
            text += "="
            for key in others { text += ";\(key)=\(fields[key]!)" }
        }
        return text
    }

    /// Every field as a JSON object (unset `count`/`bytes` as -1).
    public var json: JSONValue {
        var object: [String: JSONValue] = [Self.count: .integer(self[Self.count]), Self.bytes: .integer(self[Self.bytes])]
        for (key, value) in fields { object[key] = .integer(value) }
        return .object(object)
    }

    /// `/zookeeper/quota<path>` (the quota node of the root is the quota root).
    public static func quotaPath(for path: String) -> String {
        path == "/" ? quotaRoot : quotaRoot + path
    }
}

/// Shell-style wildcard matching on node names: `*` any run, `?` one character, `[abc]`,
/// `[a-z]` and `[!a]` classes, `\` escapes the next character.
public struct GlobPattern: Sendable {
    private enum Element: Sendable {
        case literal(Character)
        case any
        case anyRun
        case set([ClosedRange<Character>], negated: Bool)
    }

    private let elements: [Element]
    private let caseInsensitive: Bool

    public init(_ pattern: String, caseInsensitive: Bool = false) {
        self.caseInsensitive = caseInsensitive
        let characters = Array(caseInsensitive ? pattern.lowercased() : pattern)
        var elements: [Element] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                if case .anyRun? = elements.last {} else { elements.append(.anyRun) }
            case "?":
                elements.append(.any)
            case "\\" where index + 1 < characters.count:
                index += 1
                elements.append(.literal(characters[index]))
            case "[":
                if let (set, end) = Self.parseSet(characters, from: index + 1) {
                    elements.append(set)
                    index = end
                } else {
                    elements.append(.literal("["))
                }
            default:
                elements.append(.literal(character))
            }
            index += 1
        }
        self.elements = elements
    }

    /// A class from just after `[` to its `]`: the element and the index of the `]`.
    private static func parseSet(_ characters: [Character], from start: Int) -> (Element, Int)? {
        var index = start
        var negated = false
        if index < characters.count, characters[index] == "!" || characters[index] == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<Character>] = []
        var first = true
        while index < characters.count {
            let character = characters[index]
            if character == "]" && !first { return (.set(ranges, negated: negated), index) }
            first = false
            if index + 2 < characters.count, characters[index + 1] == "-", characters[index + 2] != "]" {
                let upper = characters[index + 2]
                ranges.append(character <= upper ? character...upper : upper...character)
                index += 3
            } else {
                ranges.append(character...character)
                index += 1
            }
        }
        return nil
    }

    /// Whether the whole name matches.
    public func matches(_ name: String) -> Bool {
        let text = Array(caseInsensitive ? name.lowercased() : name)
        // Iterative matching with one backtrack point for the last `*`.
        var t = 0, p = 0
        var star: Int?
        var starText = 0
        while t < text.count {
            if p < elements.count, matchesOne(elements[p], text[t]) {
                t += 1
                p += 1
            } else if p < elements.count, case .anyRun = elements[p] {
                star = p
                starText = t
                p += 1
            } else if let star {
                p = star + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < elements.count, case .anyRun = elements[p] { p += 1 }
        return p == elements.count
    }

    private func matchesOne(_ element: Element, _ character: Character) -> Bool {
        switch element {
        case .literal(let literal): return literal == character
        case .any: return true
        case .anyRun: return false
        case .set(let ranges, let negated): return ranges.contains { $0.contains(character) } != negated
        }
    }
}

/// The `-i` and `--regex` flags of the commands that match a PATTERN (`find`, `grep`).
struct PatternOptions: ParsableArguments, Sendable {
    @Flag(name: .customShort("i"), help: "Ignore case.")
    var ignoreCase = false

    @Flag(name: .customLong("regex"), help: "PATTERN is a regular expression.")
    var regex = false

    /// The matcher for `pattern`; see ``TextPattern`` for `anchored`.
    func matcher(_ pattern: String, anchored: Bool) throws(UsageError) -> TextPattern {
        try TextPattern(pattern, regex: regex, caseInsensitive: ignoreCase, anchored: anchored)
    }

    /// Rejects an invalid pattern as a usage error while the command line is parsed.
    func validate(_ pattern: String, anchored: Bool) throws {
        do {
            _ = try matcher(pattern, anchored: anchored)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// A name or text pattern: a glob (by default) or a regular expression.
struct TextPattern: Sendable {
    private let glob: GlobPattern?
    private let regex: NSRegularExpression?

    /// - Parameter anchored: whether a glob must match the whole text (node names) rather than
    ///   any part of it (lines of data); a regular expression always matches anywhere.
    /// - Throws: ``UsageError`` for an invalid regular expression.
    init(_ pattern: String, regex: Bool, caseInsensitive: Bool, anchored: Bool) throws(UsageError) {
        if regex {
            do {
                self.regex = try NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
            } catch {
                throw UsageError(message: "invalid regular expression '\(pattern)'")
            }
            self.glob = nil
        } else {
            self.glob = GlobPattern(anchored ? pattern : "*" + pattern + "*", caseInsensitive: caseInsensitive)
            self.regex = nil
        }
    }

    func matches(_ text: String) -> Bool {
        if let glob { return glob.matches(text) }
        return regex!.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// Credentials given as `scheme:auth` (`digest:user:password`) with `--auth`.
public struct AuthOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("auth"),
            help: ArgumentHelp("Authenticate as scheme:credentials (digest:user:password) when the session opens; repeatable.",
                               valueName: "scheme:auth"))
    public var auth: [String] = []

    @Option(name: .customLong("sasl"),
            help: ArgumentHelp("Log in with SASL DIGEST-MD5 as user:password on every connection (as a JAAS Client section with DigestLoginModule).",
                               valueName: "user:password"))
    public var sasl: String?

    public init() {}

    public func validate() throws {
        for value in auth where Self.credential(value) == nil {
            throw ValidationError("--auth '\(value)' is not scheme:credentials (digest:user:password)")
        }
        if let sasl, Self.saslLogin(sasl) == nil {
            throw ValidationError("--sasl '\(sasl)' is not user:password")
        }
    }

    /// The parsed `--sasl` login (an invalid one was rejected by `validate`).
    public var saslCredential: ShellContext.SASLCredential? { sasl.flatMap(Self.saslLogin) }

    /// `user:password` split at its first colon; nil without a colon or with an empty user.
    static func saslLogin(_ text: String) -> ShellContext.SASLCredential? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        return ShellContext.SASLCredential(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// The parsed credentials, in order (the invalid ones were rejected by `validate`).
    public var credentials: [ShellContext.Credential] { auth.compactMap(Self.credential) }

    /// `scheme:auth` split at its first colon; nil without a colon or with an empty scheme.
    static func credential(_ text: String) -> ShellContext.Credential? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        return ShellContext.Credential(scheme: String(text[..<colon]), auth: Array(text[text.index(after: colon)...].utf8))
    }
}

/// `--tls`, `--tls-ca FILE`, `--tls-cert FILE`, `--tls-key FILE`: TLS to the servers'
/// `secureClientPort`, shared by `zksh` and `connect`.
public struct TLSOptions: ParsableArguments, Sendable {
    @Flag(name: .customLong("tls"), help: "Connect with TLS (to the servers' secureClientPort).")
    public var enabled = false

    @Option(name: .customLong("tls-ca"),
            help: ArgumentHelp("PEM file of the CAs trusted to sign the server's certificate (implies --tls; default: the system's).", valueName: "file"))
    public var caFile: String?

    @Option(name: .customLong("tls-cert"),
            help: ArgumentHelp("PEM file of the client certificate, for servers with ssl.clientAuth=need (implies --tls).", valueName: "file"))
    public var certificateFile: String?

    @Option(name: .customLong("tls-key"),
            help: ArgumentHelp("PEM file of the client certificate's private key (implies --tls).", valueName: "file"))
    public var keyFile: String?

    public init() {}

    public func validate() throws {
        if (certificateFile == nil) != (keyFile == nil) {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
    }

    /// Whether any TLS option was given.
    public var isSpecified: Bool { enabled || caFile != nil || certificateFile != nil || keyFile != nil }

    /// The client's TLS settings, or nil without any TLS option.
    public var clientOptions: ZooKeeperClient.TLSOptions? {
        guard isSpecified else { return nil }
        return ZooKeeperClient.TLSOptions(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile)
    }
}

/// Byte counts for people: `512 B`, `1.5 KiB`, `20 MiB`.
enum ByteCount {
    static func human(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() && rounded >= 10
            ? "\(Int(rounded)) \(units[unit])" : String(format: "%.1f %@", rounded, units[unit])
    }
}

extension ShellTokenizer {
    /// Words joined into one line that splits back into the same words (quoted where needed).
    public static func line(_ words: [String]) -> String {
        words.map { word in
            if word.isEmpty { return "''" }
            let special = word.contains { " \t\n\r;'\"\\#".contains($0) }
            if !special { return word }
            return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }.joined(separator: " ")
    }
}
