/// An ensemble's membership as ZooKeeper keeps it in `/zookeeper/config` and in its dynamic
/// configuration file: one `server.N=host:quorumPort:electionPort:role;clientHost:clientPort`
/// line per member and `version=<hex zxid of the reconfig that made it>`.
public struct DynamicConfiguration: Hashable, Sendable {
    /// One member.
    public struct Server: Hashable, Sendable {
        public var id: Int64
        public var host: String
        public var quorumPort: Int
        public var electionPort: Int
        public var observer: Bool
        /// The client address after `;` (nil host: all addresses).
        public var clientHost: String?
        public var clientPort: Int?

        public init(
            id: Int64, host: String, quorumPort: Int, electionPort: Int, observer: Bool = false,
            clientHost: String? = nil, clientPort: Int? = nil
        ) {
            self.id = id
            self.host = host
            self.quorumPort = quorumPort
            self.electionPort = electionPort
            self.observer = observer
            self.clientHost = clientHost
            self.clientPort = clientPort
        }

        /// The value of its `server.N=` line, as ZooKeeper writes it.
        public var specification: String {
            var text = "\(Self.bracketed(host)):\(quorumPort):\(electionPort):\(observer ? "observer" : "participant")"
            if let clientPort { text += ";\(Self.bracketed(clientHost ?? "0.0.0.0")):\(clientPort)" }
            return text
        }

        static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

        /// Parses `host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]`.
        public init(id: Int64, specification: String) throws(DynamicConfigurationError) {
            func fail(_ why: String) -> DynamicConfigurationError {
                DynamicConfigurationError(description: "server.\(id)=\(specification): \(why)")
            }
            let halves = specification.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            let fields = Self.splitHostPorts(String(halves[0]))
            guard fields.count == 3 || fields.count == 4 else {
                throw fail("expected host:quorumPort:electionPort[:role]")
            }
            guard let quorumPort = Int(fields[1]), (1...65535).contains(quorumPort),
                let electionPort = Int(fields[2]), (1...65535).contains(electionPort)
            else { throw fail("ports must be numbers from 1 to 65535") }
            var observer = false
            if fields.count == 4 {
                switch fields[3] {
                case "participant": observer = false
                case "observer": observer = true
                default: throw fail("the role must be participant or observer")
                }
            }
            var clientHost: String?
            var clientPort: Int?
            if halves.count == 2 {
                let client = Self.splitHostPorts(String(halves[1]))
                guard let port = Int(client.last ?? ""), (1...65535).contains(port), client.count <= 2 else {
                    throw fail("the client address must be [host:]port")
                }
                clientPort = port
                clientHost = client.count == 2 ? client[0] : nil
            }
            self.init(
                id: id, host: fields[0], quorumPort: quorumPort, electionPort: electionPort, observer: observer,
                clientHost: clientHost, clientPort: clientPort)
        }

        /// Splits on `:` outside `[...]` (IPv6 literals), dropping the brackets.
        static func splitHostPorts(_ text: String) -> [String] {
            var fields: [String] = []
            var current = ""
            var inBrackets = false
            for character in text {
                switch character {
                case "[": inBrackets = true
                case "]": inBrackets = false
                case ":" where !inBrackets:
                    fields.append(current)
                    current = ""
                default: current.append(character)
                }
            }
            fields.append(current)
            return fields.map { $0.trimmingSpaces }
        }
    }

    public var servers: [Server]
    /// The zxid of the reconfig that made this membership; 0 for one from a static zoo.cfg.
    public var version: Int64

    public init(servers: [Server], version: Int64) {
        self.servers = servers.sorted { $0.id < $1.id }
        self.version = version
    }

    public var voters: Set<Int64> { Set(servers.filter { !$0.observer }.map(\.id)) }
    public var observers: Set<Int64> { Set(servers.filter(\.observer).map(\.id)) }

    /// The text of `/zookeeper/config` and of the dynamic configuration file.
    public var text: String {
        servers.map { "server.\($0.id)=\($0.specification)\n" }.joined() + "version=\(String(version, radix: 16))"
    }

    /// Parses the text of `/zookeeper/config` or a dynamic configuration file.
    public init(text: String) throws(DynamicConfigurationError) {
        var servers: [Server] = []
        var version: Int64 = 0
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw DynamicConfigurationError(description: "\"\(line)\" is not key=value")
            }
            let key = line[..<equals].trimmingSpaces
            let value = line[line.index(after: equals)...].trimmingSpaces
            if key == "version" {
                guard let parsed = Int64(value, radix: 16) else {
                    throw DynamicConfigurationError(description: "version=\(value) is not a hexadecimal zxid")
                }
                version = parsed
            } else if key.hasPrefix("server.") {
                servers.append(try Self.parseServer(key: key, value: value))
            } else {
                throw DynamicConfigurationError(description: "\(key) does not belong in a dynamic configuration")
            }
        }
        self.init(servers: servers, version: version)
    }

    static func parseServer(key: String, value: String) throws(DynamicConfigurationError) -> Server {
        guard let id = Int64(key.dropFirst("server.".count)), id >= 0 else {
            throw DynamicConfigurationError(description: "\(key): the server id must be a number")
        }
        return try Server(id: id, specification: value)
    }

    /// Parses a comma-separated list of `server.N=spec` entries (reconfig's joining servers and
    /// new members).
    public static func parseServerList(_ text: String) throws(DynamicConfigurationError) -> [Server] {
        var servers: [Server] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw DynamicConfigurationError(description: "\"\(trimmed)\" is not server.N=host:port:port")
            }
            servers.append(try parseServer(key: trimmed[..<equals].trimmingSpaces, value: trimmed[trimmed.index(after: equals)...].trimmingSpaces))
        }
        return servers
    }
}

/// Why a membership text or a reconfig argument could not be used.
public struct DynamicConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
