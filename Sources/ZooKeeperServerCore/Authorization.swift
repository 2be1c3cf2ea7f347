import Crypto
import ZooKeeperProtocol

/// ACL checks, fixup and the auth providers (world, auth, digest, ip, sasl, super).
public enum Authorization {
    /// `user:base64(sha1("user:password"))` as DigestAuthenticationProvider.generateDigest makes it.
    public static func digest(_ idPassword: String) -> String {
        let user = idPassword.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let hash = Insecure.SHA1.hash(data: Array(idPassword.utf8))
        return user + ":" + Base64.encode(Array(hash))
    }

    /// Java `String.split(":")` keeps inner empty parts but drops trailing ones.
    static func javaSplitCount(_ string: String, separator: Character) -> Int {
        var parts = string.split(separator: separator, omittingEmptySubsequences: false)
        while let last = parts.last, last.isEmpty { parts.removeLast() }
        return parts.count
    }

    /// The check of §11.4.
    public static func check(
        _ acl: [ACL], _ required: Permissions, ids: [Id], skipACL: Bool
    ) -> Bool {
        if skipACL || acl.isEmpty { return true }
        if ids.contains(where: { $0.scheme == "super" }) { return true }
        for entry in acl where entry.permissions.rawValue & required.rawValue != 0 {
            if entry.id.scheme == "world" && entry.id.id == "anyone" { return true }
            for id in ids where id.scheme == entry.id.scheme {
                if matches(scheme: id.scheme, held: id.id, aclExpression: entry.id.id) { return true }
            }
        }
        return false
    }

    static func matches(scheme: String, held: String, aclExpression: String) -> Bool {
        switch scheme {
        case "ip": return IPAddress.matches(address: held, expression: aclExpression)
        default: return held == aclExpression
        }
    }

    /// Whether an id is valid for its scheme's provider (`isValid`).
    static func isValidId(_ id: Id, saslEnabled: Bool, digestEnabled: Bool) -> Bool {
        switch id.scheme {
        case "digest": return digestEnabled && javaSplitCount(id.id, separator: ":") == 2
        case "ip": return IPAddress.parseExpression(id.id) != nil
        case "sasl": return true
        default: return false
        }
    }

    /// fixupACL: dedupe, validate, expand `auth`. nil = INVALIDACL.
    static func fixup(_ acl: [ACL], authIds: [Id], digestEnabled: Bool) -> [ACL]? {
        guard !acl.isEmpty else { return nil }
        var unique: [ACL] = []
        for entry in acl where !unique.contains(entry) { unique.append(entry) }
        var result: [ACL] = []
        for entry in unique {
            switch entry.id.scheme {
            case "world":
                guard entry.id.id == "anyone" else { return nil }
                result.append(entry)
            case "auth":
                var added = false
                for id in authIds where isAuthenticatedScheme(id.scheme) {
                    result.append(ACL(permissions: entry.permissions, id: id))
                    added = true
                }
                guard added else { return nil }
            default:
                guard isValidId(entry.id, saslEnabled: true, digestEnabled: digestEnabled) else { return nil }
                result.append(entry)
            }
        }
        var deduped: [ACL] = []
        for entry in result where !deduped.contains(entry) { deduped.append(entry) }
        return deduped
    }

    static func isAuthenticatedScheme(_ scheme: String) -> Bool {
        scheme == "digest" || scheme == "sasl" || scheme == "x509"
    }

    /// getACL without ADMIN: digest ids shown as `user:x`.
    static func masked(_ acl: [ACL]) -> [ACL] {
        acl.map { entry in
            guard entry.id.scheme == "digest" else { return entry }
            let user = entry.id.id.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return ACL(permissions: entry.permissions, id: Id(scheme: "digest", id: user + ":x"))
        }
    }

    /// whoAmI user names.
    static func clientInfo(_ ids: [Id]) -> [ClientInfo] {
        ids.map { id in
            switch id.scheme {
            case "digest":
                let user = id.id.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                return ClientInfo(authScheme: id.scheme, user: String(user))
            default:
                return ClientInfo(authScheme: id.scheme, user: id.id)
            }
        }
    }
}

/// IPv4 / IPv6 parsing and prefix matching for the `ip` scheme.
enum IPAddress {
    static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        return parseIPv4(text)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = Int(part), (0...255).contains(value)
            else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    static func parseIPv6(_ rawText: String) -> [UInt8]? {
        var text = Substring(rawText)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        var tail: [UInt8] = []
        // Embedded IPv4 at the end.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseIPv4(String(text[text.index(after: lastColon)...])) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix("::") == false { text = text.dropLast() }
        }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        let totalGroups = 8 - tail.count / 2
        var words: [UInt16]
        if let range = text.range(of: "::") {
            guard let head = groups(text[..<range.lowerBound]), let rest = groups(text[range.upperBound...]) else { return nil }
            guard head.count + rest.count < totalGroups else { return nil }
            words = head + [UInt16](repeating: 0, count: totalGroups - head.count - rest.count) + rest
        } else {
            guard let all = groups(text), all.count == totalGroups else { return nil }
            words = all
        }
        var bytes: [UInt8] = []
        for w in words { bytes.append(UInt8(w >> 8)); bytes.append(UInt8(w & 0xff)) }
        return bytes + tail
    }

    /// `addr` or `addr/bits`.
    static func parseExpression(_ expression: String) -> (bytes: [UInt8], bits: Int)? {
        let parts = expression.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = parse(String(parts[0])) else { return nil }
        var bits = bytes.count * 8
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= bytes.count * 8 else { return nil }
            bits = value
        }
        return (bytes, bits)
    }

    static func matches(address: String, expression: String) -> Bool {
        guard let (network, bits) = parseExpression(expression), let held = parse(address),
            held.count == network.count
        else { return false }
        var remaining = bits
        for index in 0..<held.count where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if held[index] & mask != network[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// Extracts the address from what a driver may pass: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:5678`,
    /// `::1`, or NIO's `[IPv4]1.2.3.4/1.2.3.4:5678`.
    static func hostPart(of remote: String) -> String {
        var text = Substring(remote)
        if text.hasPrefix("[IPv4]") || text.hasPrefix("[IPv6]") {
            text = text.dropFirst(6)
            if let slash = text.firstIndex(of: "/") { text = text[text.index(after: slash)...] }
            if let lastColon = text.lastIndex(of: ":") { text = text[..<lastColon] }
            return String(text)
        }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            return String(text[..<colon])
        }
        return String(text)
    }
}

/// Standard base64 with padding (no Foundation).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `java.util.Random`, enough for `nextBytes`: session passwords are
/// `Random(sessionId ^ 0xB3415C00).nextBytes(16)`, so any server can check them.
struct JavaRandom {
    private var seed: Int64

    init(seed: Int64) { self.seed = (seed ^ 0x5DEECE66D) & ((1 << 48) - 1) }

    mutating func next(_ bits: Int) -> Int32 {
        self.seed = (self.seed &* 0x5DEECE66D &+ 0xB) & ((1 << 48) - 1)
        return Int32(truncatingIfNeeded: self.seed >> (48 - bits))
    }

    mutating func nextBytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            var random = self.next(32)
            for _ in 0..<min(count - bytes.count, 4) {
                bytes.append(UInt8(truncatingIfNeeded: random))
                random >>= 8
            }
        }
        return bytes
    }

    static func sessionPassword(_ sessionId: Int64) -> [UInt8] {
        var random = JavaRandom(seed: sessionId ^ 0xB3415C00)
        return random.nextBytes(16)
    }
}
