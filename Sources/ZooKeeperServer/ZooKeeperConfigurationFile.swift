import Foundation

/// A `zoo.cfg`, read the way Apache ZooKeeper's `QuorumPeerConfig` reads it.
///
/// The file is a Java properties file: `key=value` (or `key: value`, or `key value`) per line,
/// `#` and `!` start comments, a trailing `\` continues a line. Values are trimmed.
///
/// Every setting the standalone server needs is understood; keys ZooKeeper turns into system
/// properties (`jute.maxbuffer`, `DigestAuthenticationProvider.superDigest`, …) are accepted both
/// with and without the `zookeeper.` prefix. Keys this server does not use are collected in
/// ``ignoredKeys`` (the caller logs them once), never fatal. A value that cannot be used throws a
/// ``ConfigurationFileError`` naming the key and the line.
public struct ZooKeeperConfigurationFile: Sendable {
    /// One `server.N` line: `host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`.
    public struct QuorumServer: Sendable, Equatable {
        /// One `host:quorumPort:electionPort` address (3.6+ allows several, separated by `|`).
        public struct Address: Sendable, Equatable {
            public var host: String
            public var quorumPort: Int
            public var electionPort: Int

            public init(host: String, quorumPort: Int, electionPort: Int) {
                self.host = host
                self.quorumPort = quorumPort
                self.electionPort = electionPort
            }
        }
        public enum Role: String, Sendable, Equatable { case participant, observer }

        public var id: Int64
        public var addresses: [Address]
        public var role: Role
        /// The client address from after the `;`, if given (nil host = all addresses).
        public var clientHost: String?
        public var clientPort: Int?
        /// The 1-based line number in the file.
        public var line: Int
    }

    /// Where the file came from (used in error messages).
    public var path: String

    public var tickTime = 3000
    public var dataDir: String?
    public var dataLogDir: String?
    public var clientPort: Int?
    public var clientPortAddress: String?
    public var clientPortListenBacklog: Int?
    public var maxClientCnxns = 60
    public var minSessionTimeout: Int?
    public var maxSessionTimeout: Int?
    public var initLimit: Int?
    public var syncLimit: Int?
    public var snapCount = 100_000
    public var snapRetainCount = 3
    /// Hours between purges; 0 disables autopurge.
    public var purgeInterval = 0
    /// nil = ZooKeeper's default (`srvr` only).
    public var fourLetterWordWhitelist: String?
    public var extendedTypesEnabled = false
    /// `enforceQuota` (ZooKeeper's `zookeeper.enforceQuota`): refuse writes beyond hard quotas.
    public var enforceQuota = false
    /// `znode.container.checkIntervalMs`: how often containers and TTL nodes are checked.
    public var containerCheckIntervalMs = 60_000
    /// `znode.container.maxPerMinute`: at most this many container/TTL deletions a minute.
    public var containerMaxPerMinute = 10_000
    /// `znode.container.maxNeverUsedIntervalMs`: how long a container that never had a child is
    /// kept; 0 = forever.
    public var containerMaxNeverUsedIntervalMs = 0
    public var superDigest: String?
    public var digestAuthenticationEnabled = true
    public var skipACL = false
    public var maxBuffer = 0xfffff
    public var jaasConfigurationFile: String?
    public var saslServerSection = "Server"
    /// user -> password from the JAAS file's server section (DigestLoginModule `user_NAME="…"`).
    public var saslDigestUsers: [String: String] = [:]
    public var reconfigEnabled = false
    public var readOnlyModeEnabled = false
    public var standaloneEnabled = true
    public var servers: [QuorumServer] = []
    /// `dynamicConfigFile`: where the membership lives once reconfiguration is in use (ZooKeeper
    /// 3.5+); its server lines replace any in this file.
    public var dynamicConfigFile: String?
    /// The membership's version (`version=` in the dynamic file); 0 for a static one.
    public var configurationVersion: Int64 = 0
    /// `electionFinalizeWait` (a zksh key; ZooKeeper's is a fixed 200): ms an election waits
    /// for a better vote once a quorum agrees, while a voter that could still send one has not
    /// voted (a voter whose link broke is not waited for). Shorter elects faster when members
    /// start together.
    public var electionFinalizeWait = 200
    /// The contents of `dataDir/myid`, when the file exists.
    public var myid: Int64?
    /// Keys this server does not use, with their line numbers, in file order.
    public var ignoredKeys: [(key: String, line: Int)] = []

    public init(path: String = "zoo.cfg") {
        self.path = path
    }

    /// Reads and parses the file at `path`; also reads `myid` from the data directory and the JAAS file.
    public static func load(path: String) throws -> ZooKeeperConfigurationFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationFileError(path: path, line: nil, key: nil, message: "cannot read the configuration file: \(error.localizedDescription)")
        }
        var file = try parse(text, path: path)
        try file.loadExternalFiles()
        return file
    }

    /// Parses the text of a zoo.cfg without touching the file system.
    public static func parse(_ text: String, path: String = "zoo.cfg") throws -> ZooKeeperConfigurationFile {
        var file = ZooKeeperConfigurationFile(path: path)
        for property in try JavaProperties.parse(text, path: path) {
            try file.apply(key: property.key, value: property.value, line: property.line)
        }
        try file.validate()
        return file
    }

    /// Reads `dataDir/myid` (if present) and the JAAS file (if configured).
    public mutating func loadExternalFiles() throws {
        if let dataDir {
            let myidPath = (dataDir as NSString).appendingPathComponent("myid")
            if let text = try? String(contentsOfFile: myidPath, encoding: .utf8) {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let id = Int64(trimmed) else {
                    throw ConfigurationFileError(path: myidPath, line: nil, key: nil, message: "serverid \(trimmed) is not a number")
                }
                myid = id
            }
        }
        if let dynamic = dynamicConfigFile {
            let resolved = dynamic.hasPrefix("/") ? dynamic : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dynamic)
            let text: String
            do {
                text = try String(contentsOfFile: resolved, encoding: .utf8)
            } catch {
                throw ConfigurationFileError(path: path, line: nil, key: "dynamicConfigFile", message: "cannot read \(resolved): \(error.localizedDescription)")
            }
            var dynamicServers: [QuorumServer] = []
            for property in try JavaProperties.parse(text, path: resolved) {
                if property.key == "version" {
                    guard let version = Int64(property.value, radix: 16) else {
                        throw ConfigurationFileError(path: resolved, line: property.line, key: "version", message: "\(property.value) is not a hexadecimal zxid")
                    }
                    configurationVersion = version
                } else if property.key.hasPrefix("server.") {
                    dynamicServers.append(try Self.parseServer(
                        key: property.key, id: String(property.key.dropFirst("server.".count)), value: property.value,
                        line: property.line, path: resolved))
                }
            }
            servers = dynamicServers
        }
        if let jaas = jaasConfigurationFile {
            let text: String
            do {
                text = try String(contentsOfFile: jaas, encoding: .utf8)
            } catch {
                throw ConfigurationFileError(path: path, line: nil, key: "java.security.auth.login.config", message: "cannot read the JAAS file \(jaas): \(error.localizedDescription)")
            }
            saslDigestUsers = try JAASConfiguration.digestUsers(in: text, section: saslServerSection, path: jaas)
        }
    }

    // MARK: - Keys

    private mutating func apply(key rawKey: String, value: String, line: Int) throws {
        func integer(minimum: Int = Int.min) throws -> Int {
            guard let number = Int(value) else {
                throw ConfigurationFileError(path: path, line: line, key: rawKey, message: "\"\(value)\" is not an integer")
            }
            guard number >= minimum else {
                throw ConfigurationFileError(path: path, line: line, key: rawKey, message: "\(number) is out of range (must be at least \(minimum))")
            }
            return number
        }
        func boolean() throws -> Bool {
            switch value.lowercased() {
            case "true", "yes": return true
            case "false", "no": return false
            default:
                throw ConfigurationFileError(path: path, line: line, key: rawKey, message: "invalid option \"\(value)\"; choose 'true' or 'false'")
            }
        }
        func port() throws -> Int {
            let number = try integer()
            guard (0...65535).contains(number) else {
                throw ConfigurationFileError(path: path, line: line, key: rawKey, message: "\(number) is not a valid port")
            }
            return number
        }

        // System properties may be written with or without their `zookeeper.` prefix.
        let key = rawKey.hasPrefix("zookeeper.") ? String(rawKey.dropFirst("zookeeper.".count)) : rawKey
        switch key {
        case "tickTime": tickTime = try integer(minimum: 1)
        case "dataDir": dataDir = value
        case "dataLogDir": dataLogDir = value
        case "clientPort": clientPort = try port()
        case "clientPortAddress": clientPortAddress = value
        case "clientPortListenBacklog": clientPortListenBacklog = try integer()
        case "maxClientCnxns": maxClientCnxns = try integer(minimum: 0)
        case "minSessionTimeout": minSessionTimeout = try integer()
        case "maxSessionTimeout": maxSessionTimeout = try integer()
        case "initLimit": initLimit = try integer(minimum: 1)
        case "syncLimit": syncLimit = try integer(minimum: 1)
        case "snapCount": snapCount = try integer(minimum: 2)
        case "autopurge.snapRetainCount": snapRetainCount = max(3, try integer())
        case "autopurge.purgeInterval": purgeInterval = try integer()
        case "4lw.commands.whitelist": fourLetterWordWhitelist = value
        case "extendedTypesEnabled": extendedTypesEnabled = try boolean()
        case "enforceQuota": enforceQuota = try boolean()
        // ZooKeeper reads these three as JVM system properties only (they have no `zookeeper.`
        // prefix, so in its zoo.cfg they would be ignored); here the file may set them too.
        case "znode.container.checkIntervalMs": containerCheckIntervalMs = try integer(minimum: 1)
        case "znode.container.maxPerMinute": containerMaxPerMinute = try integer(minimum: 1)
        case "znode.container.maxNeverUsedIntervalMs": containerMaxNeverUsedIntervalMs = try integer()
        case "DigestAuthenticationProvider.superDigest":
            guard value.contains(":") else {
                throw ConfigurationFileError(path: path, line: line, key: rawKey, message: "expected user:base64digest")
            }
            superDigest = value
        case "DigestAuthenticationProvider.enabled": digestAuthenticationEnabled = try boolean()
        case "skipACL": skipACL = try boolean()
        case "jute.maxbuffer":
            let number = try integer(minimum: 1)
            maxBuffer = number
        case "java.security.auth.login.config": jaasConfigurationFile = value
        case "sasl.serverconfig": saslServerSection = value
        case "reconfigEnabled": reconfigEnabled = try boolean()
        case "readonlymode.enabled": readOnlyModeEnabled = try boolean()
        case "standaloneEnabled": standaloneEnabled = try boolean()
        case "dynamicConfigFile": dynamicConfigFile = value
        case "electionFinalizeWait": electionFinalizeWait = try integer(minimum: 1)
        case _ where key.hasPrefix("server."):
            servers.append(try Self.parseServer(key: rawKey, id: String(key.dropFirst("server.".count)), value: value, line: line, path: path))
        case _ where key.hasPrefix("admin."):
            break  // The AdminServer is not implemented; its settings are accepted silently.
        default:
            ignoredKeys.append((rawKey, line))
        }
    }

    private func validate() throws {
        if let minimum = minSessionTimeout, let maximum = maxSessionTimeout, minimum > maximum {
            throw ConfigurationFileError(path: path, line: nil, key: "minSessionTimeout", message: "minSessionTimeout (\(minimum)) must not be larger than maxSessionTimeout (\(maximum))")
        }
        var seen = Set<Int64>()
        for server in servers where !seen.insert(server.id).inserted {
            throw ConfigurationFileError(path: path, line: server.line, key: "server.\(server.id)", message: "server \(server.id) is listed twice")
        }
    }

    /// Parses `host:port:port[:role][|host:port:port[:role]…][;[clientHost:]clientPort]`.
    static func parseServer(key: String, id idText: String, value: String, line: Int, path: String) throws -> QuorumServer {
        func fail(_ message: String) -> ConfigurationFileError {
            ConfigurationFileError(path: path, line: line, key: key, message: message)
        }
        guard let id = Int64(idText) else { throw fail("\"\(idText)\" is not a server id") }
        let halves = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var role = QuorumServer.Role.participant
        var addresses: [QuorumServer.Address] = []
        for part in halves[0].split(separator: "|").map(String.init) {
            var fields = splitHostAndPorts(part.trimmingCharacters(in: .whitespaces))
            guard fields.count == 3 || fields.count == 4 else {
                throw fail("\"\(value)\" does not have the form host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]")
            }
            if fields.count == 4 {
                guard let parsed = QuorumServer.Role(rawValue: fields[3].lowercased()) else {
                    throw fail("unknown peer type \"\(fields[3])\" (expected participant or observer)")
                }
                role = parsed
                fields.removeLast()
            }
            guard let quorumPort = Int(fields[1]), (1...65535).contains(quorumPort),
                  let electionPort = Int(fields[2]), (1...65535).contains(electionPort) else {
                throw fail("\"\(part)\" has an invalid port")
            }
            addresses.append(.init(host: fields[0], quorumPort: quorumPort, electionPort: electionPort))
        }
        guard !addresses.isEmpty else { throw fail("no address") }
        var clientHost: String?
        var clientPort: Int?
        if halves.count == 2 {
            let client = halves[1].trimmingCharacters(in: .whitespaces)
            let fields = splitHostAndPorts(client)
            let portText: String
            switch fields.count {
            case 1: portText = fields[0]
            case 2: clientHost = fields[0]; portText = fields[1]
            default: throw fail("\"\(client)\" is not [clientAddress:]clientPort")
            }
            guard let port = Int(portText), (1...65535).contains(port) else { throw fail("\"\(portText)\" is not a valid client port") }
            clientPort = port
        }
        return QuorumServer(id: id, addresses: addresses, role: role, clientHost: clientHost, clientPort: clientPort, line: line)
    }

    /// Splits on `:`, keeping a bracketed IPv6 address (`[::1]`) whole and without its brackets.
    static func splitHostAndPorts(_ text: String) -> [String] {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            let tail = rest.hasPrefix(":") ? rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init) : []
            return [host] + tail
        }
        return text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }
}

/// A zoo.cfg that cannot be used. The description names the file, line and key.
public struct ConfigurationFileError: Error, Sendable, CustomStringConvertible, Equatable {
    public var path: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        var text = path
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}

/// Java `Properties.load` as far as zoo.cfg files use it.
enum JavaProperties {
    struct Property { var key: String; var value: String; var line: Int }

    static func parse(_ text: String, path: String) throws -> [Property] {
        var result: [Property] = []
        // "\r\n" is one Character in Swift; all three terminators end a line, as in Java.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map(String.init)
        var index = 0
        while index < lines.count {
            let startLine = index + 1
            var logical = lines[index].drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
            index += 1
            if logical.isEmpty || logical.first == "#" || logical.first == "!" { continue }
            var joined = String(logical)
            // An odd number of trailing backslashes continues the line.
            while joined.reversed().prefix(while: { $0 == "\\" }).count % 2 == 1 {
                joined.removeLast()
                guard index < lines.count else { break }
                logical = lines[index].drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
                joined += logical
                index += 1
            }
            let (key, value) = splitKeyValue(joined)
            result.append(Property(key: unescape(key), value: unescape(value).trimmingCharacters(in: .whitespaces), line: startLine))
        }
        return result
    }

    private static func splitKeyValue(_ line: String) -> (String, String) {
        var key = ""
        var iterator = Array(line)
        var position = 0
        while position < iterator.count {
            let character = iterator[position]
            if character == "\\", position + 1 < iterator.count {
                key.append(character)
                key.append(iterator[position + 1])
                position += 2
                continue
            }
            if character == "=" || character == ":" || character == " " || character == "\t" { break }
            key.append(character)
            position += 1
        }
        // Skip whitespace, then at most one '=' or ':', then whitespace.
        while position < iterator.count, iterator[position] == " " || iterator[position] == "\t" { position += 1 }
        if position < iterator.count, iterator[position] == "=" || iterator[position] == ":" { position += 1 }
        while position < iterator.count, iterator[position] == " " || iterator[position] == "\t" { position += 1 }
        iterator.removeFirst(position)
        return (key, String(iterator))
    }

    private static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                switch character {
                case "t": result.append("\t")
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "f": result.append("\u{0C}")
                default: result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// The parts of a JAAS login configuration the server needs:
/// ```
/// Server {
///     org.apache.zookeeper.server.auth.DigestLoginModule required
///     user_super="adminsecret"
///     user_bob="bobsecret";
/// };
/// ```
enum JAASConfiguration {
    static func digestUsers(in text: String, section: String, path: String) throws -> [String: String] {
        let tokens = try tokenize(text, path: path)
        var users: [String: String] = [:]
        var position = 0
        func fail(_ message: String) -> ConfigurationFileError {
            ConfigurationFileError(path: path, line: nil, key: nil, message: message)
        }
        var foundSection = false
        while position < tokens.count {
            // name { entries } ;
            let name = tokens[position]
            guard position + 1 < tokens.count, tokens[position + 1] == "{" else { throw fail("expected '{' after \(name)") }
            position += 2
            // Entries: module flag key=value … ;
            while position < tokens.count, tokens[position] != "}" {
                let module = tokens[position]
                position += 2  // module name and control flag
                var options: [String: String] = [:]
                while position < tokens.count, tokens[position] != ";" {
                    let optionKey = tokens[position]
                    guard position + 2 < tokens.count, tokens[position + 1] == "=" else { throw fail("expected key=value in \(name)") }
                    options[optionKey] = tokens[position + 2]
                    position += 3
                }
                position += 1  // ;
                if name == section, module.hasSuffix("DigestLoginModule") {
                    for (optionKey, value) in options where optionKey.hasPrefix("user_") {
                        users[String(optionKey.dropFirst("user_".count))] = value
                    }
                }
            }
            if name == section { foundSection = true }
            position += 1  // }
            if position < tokens.count, tokens[position] == ";" { position += 1 }
        }
        if !foundSection {
            throw fail("no \(section) section")
        }
        return users
    }

    /// Words, quoted strings (without quotes), and the punctuation `{ } ; =`; comments removed.
    private static func tokenize(_ text: String, path: String) throws -> [String] {
        var tokens: [String] = []
        let characters = Array(text)
        var index = 0
        var word = ""
        func flush() { if !word.isEmpty { tokens.append(word); word = "" } }
        while index < characters.count {
            let character = characters[index]
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "/" {
                flush()
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            }
            if character == "/" && index + 1 < characters.count && characters[index + 1] == "*" {
                flush()
                index += 2
                while index + 1 < characters.count, !(characters[index] == "*" && characters[index + 1] == "/") { index += 1 }
                index += 2
                continue
            }
            if character == "\"" {
                flush()
                var quoted = ""
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    quoted.append(characters[index])
                    index += 1
                }
                guard index < characters.count else {
                    throw ConfigurationFileError(path: path, line: nil, key: nil, message: "unterminated quoted string")
                }
                tokens.append(quoted)
                index += 1
                continue
            }
            if "{};=".contains(character) {
                flush()
                tokens.append(String(character))
            } else if character.isWhitespace {
                flush()
            } else {
                word.append(character)
            }
            index += 1
        }
        flush()
        return tokens
    }
}
