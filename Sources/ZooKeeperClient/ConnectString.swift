/// A server address from a connect string.
public struct HostAndPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 literals in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A parsed ZooKeeper connect string: `host1:port1,host2:port2[/chroot]`.
///
/// Ports default to 2181. IPv6 literals are written in brackets (`[::1]:2181`).
/// The optional chroot applies to every path the client sends and receives.
public struct ConnectString: Hashable, Sendable, CustomStringConvertible {
    public var hosts: [HostAndPort]
    /// The chroot path, or nil for none.
    public var chroot: String?

    public init(hosts: [HostAndPort], chroot: String? = nil) {
        self.hosts = hosts
        self.chroot = chroot
    }

    /// Parses a connect string, throwing ``ZooKeeperError`` (BADARGUMENTS) with the reason.
    public init(parsing text: String) throws(ZooKeeperError) {
        var serverPart = Substring(text.trimmingCharactersInWhitespace())
        var chroot: String?
        if let slash = Self.chrootStart(in: serverPart) {
            let path = String(serverPart[slash...])
            serverPart = serverPart[..<slash]
            if path != "/" {
                if let reason = ZooKeeperPath.validationError(path) {
                    throw ZooKeeperError(.badArguments, detail: "invalid chroot '\(path)': \(reason)")
                }
                chroot = path
            }
        }
        var hosts: [HostAndPort] = []
        for entry in serverPart.split(separator: ",") {
            let entry = entry.trimmingCharactersInWhitespace()
            guard !entry.isEmpty else { continue }
            hosts.append(try Self.parseHost(entry))
        }
        guard !hosts.isEmpty else {
            throw ZooKeeperError(.badArguments, detail: "connect string '\(text)' names no server")
        }
        self.hosts = hosts
        self.chroot = chroot
    }

    private static func chrootStart(in text: Substring) -> Substring.Index? {
        // A '/' outside IPv6 brackets starts the chroot.
        var inBrackets = false
        for index in text.indices {
            switch text[index] {
            case "[": inBrackets = true
            case "]": inBrackets = false
            case "/" where !inBrackets: return index
            default: break
            }
        }
        return nil
    }

    private static func parseHost(_ entry: String) throws(ZooKeeperError) -> HostAndPort {
        var host = entry
        var portText: String?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else {
                throw ZooKeeperError(.badArguments, detail: "unterminated IPv6 address in '\(entry)'")
            }
            host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if rest.hasPrefix(":") { portText = String(rest.dropFirst()) } else if !rest.isEmpty {
                throw ZooKeeperError(.badArguments, detail: "unexpected '\(rest)' after IPv6 address")
            }
        } else if let colon = entry.lastIndex(of: ":") {
            if entry.firstIndex(of: ":") != colon {
                // A bare IPv6 literal without a port.
                host = entry
            } else {
                host = String(entry[..<colon])
                portText = String(entry[entry.index(after: colon)...])
            }
        }
        guard !host.isEmpty else { throw ZooKeeperError(.badArguments, detail: "empty host in '\(entry)'") }
        var port = 2181
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw ZooKeeperError(.badArguments, detail: "invalid port '\(portText)' in '\(entry)'")
            }
            port = value
        }
        return HostAndPort(host: host, port: port)
    }

    public var description: String {
        hosts.map(\.description).joined(separator: ",") + (chroot ?? "")
    }
}

extension StringProtocol {
    func trimmingCharactersInWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
