import Crypto
import Foundation
import ZooKeeperClient

/// One member of a local ensemble as written to disk: its id, loopback ports and directory.
///
/// The directory holds `zoo.cfg`, `data/` (the member's `dataDir`, with `myid` and the
/// partition file) and `zksh.log` (the member's standard output and error).
public struct LocalEnsembleMember: Equatable, Sendable {
    /// The server id (`myid`, the N of `server.N`), from 1.
    public var id: Int
    /// The client port on 127.0.0.1.
    public var clientPort: Int
    /// The port followers connect to when this member leads.
    public var quorumPort: Int
    /// The leader-election port.
    public var electionPort: Int
    /// `<root>/member<ID>`.
    public var directory: String

    public init(id: Int, clientPort: Int, quorumPort: Int, electionPort: Int, directory: String) {
        self.id = id
        self.clientPort = clientPort
        self.quorumPort = quorumPort
        self.electionPort = electionPort
        self.directory = directory
    }

    /// `<directory>/zoo.cfg`.
    public var configurationFile: String { directory + "/zoo.cfg" }
    /// `<directory>/data`, the member's `dataDir`.
    public var dataDirectory: String { directory + "/data" }
    /// `<directory>/data/myid`.
    public var myidFile: String { dataDirectory + "/myid" }
    /// `<directory>/zksh.log`: the member's standard output and error, appended.
    public var logFile: String { directory + "/zksh.log" }
    /// `<directory>/data/zksh-partition`: the ids whose quorum and election traffic the member
    /// drops, which the member reads every 100 ms.
    public var partitionFile: String { dataDirectory + "/zksh-partition" }
    /// `127.0.0.1:<clientPort>`.
    public var clientAddress: HostAndPort { HostAndPort(host: LocalEnsembleLayout.loopback, port: clientPort) }

    /// The member as ZooKeeper writes it in a dynamic configuration and in `reconfig`:
    /// `server.<id>=127.0.0.1:<quorumPort>:<electionPort>:participant;127.0.0.1:<clientPort>`.
    public var serverLine: String {
        let host = LocalEnsembleLayout.loopback
        return "server.\(id)=\(host):\(quorumPort):\(electionPort):participant;\(host):\(clientPort)"
    }
}

/// The files of a local ensemble, as pure functions: each member's `zoo.cfg`, reading one back,
/// and what the partition files hold. ``LocalEnsemble`` writes what these return.
public enum LocalEnsembleLayout {
    /// Every address of a local ensemble: members listen on loopback only.
    public static let loopback = "127.0.0.1"

    /// The name of member `id`'s directory under the ensemble's root: `member<ID>`.
    public static func directoryName(of id: Int) -> String { "member\(id)" }

    /// Whether `size` is a valid number of members for `zksh --ensemble` and `ensemble start`:
    /// odd, from 1 to 9.
    public static func isValidSize(_ size: Int) -> Bool { (1...9).contains(size) && size % 2 == 1 }

    /// The `zoo.cfg` of `member` in an ensemble whose voting members are `members` (which
    /// includes `member` itself for a member that votes, and lists every `server.N` line).
    ///
    /// Ticks are short (200 ms) and an election waits 50 ms for better votes once a quorum
    /// agrees (ZooKeeper waits 200), so that elections and failure detection take well under a
    /// second on one machine; every four-letter word is allowed (`ensemble status`
    /// needs `srvr`, `mntr` and `conf`), reconfiguration is on (`ensemble add`/`remove`),
    /// and a one-member ensemble still runs as a quorum (`standaloneEnabled=false`).
    ///
    /// `adminPassword` is the superuser's (`super:<password>`, ZooKeeper's
    /// `DigestAuthenticationProvider.superDigest`): only the superuser may reconfigure, so the
    /// shell authenticates as it for `ensemble add` and `ensemble remove`.
    public static func configuration(
        of member: LocalEnsembleMember, members: [LocalEnsembleMember], adminPassword: String
    ) -> String {
        var lines = [
            "# Written by zksh for a local ensemble (zksh --ensemble, 'ensemble start').",
            "tickTime=200",
            "initLimit=10",
            "syncLimit=5",
            "electionFinalizeWait=50",
            "dataDir=\(member.dataDirectory)",
            "clientPort=\(member.clientPort)",
            "clientPortAddress=\(loopback)",
            "4lw.commands.whitelist=*",
            "reconfigEnabled=true",
            "standaloneEnabled=false",
            "admin.enableServer=false",
            "DigestAuthenticationProvider.superDigest=\(superDigest(password: adminPassword))",
        ]
        lines += members.sorted { $0.id < $1.id }.map(\.serverLine)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `super:base64(sha1("super:<password>"))`, as ZooKeeper's DigestAuthenticationProvider
    /// expects the superuser's digest.
    public static func superDigest(password: String) -> String {
        let hash = Insecure.SHA1.hash(data: Array("super:\(password)".utf8))
        return "super:" + Data(hash).base64EncodedString()
    }

    /// The file in an ensemble's directory that holds the superuser's password.
    public static let adminPasswordFile = "admin-password"

    /// The member a `zoo.cfg` written by ``configuration(of:members:)`` describes, read back
    /// from the file's text and the member's directory.
    ///
    /// - Parameters:
    ///   - text: the contents of `zoo.cfg`.
    ///   - id: the member's id (from its directory's name).
    ///   - directory: the member's directory.
    /// - Returns: the member, or nil when the file has no `server.<id>` line with the ports
    ///   written in ZooKeeper's form.
    public static func member(fromConfiguration text: String, id: Int, directory: String) -> LocalEnsembleMember? {
        guard let spec = serverLines(in: text)[id] else { return nil }
        return member(fromServerSpec: spec, id: id, directory: directory)
    }

    /// The `dynamicConfigFile` a `zoo.cfg` names (a member writes one after a reconfig), if any.
    public static func dynamicConfigurationFile(in text: String) -> String? {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("dynamicConfigFile"), let equals = line.firstIndex(of: "=") else { continue }
            return String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The `server.N` entries of a `zoo.cfg`, by id (values as written after `=`).
    public static func serverLines(in text: String) -> [Int: String] {
        var servers: [Int: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("server."), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[line.index(line.startIndex, offsetBy: "server.".count)..<equals]
            guard let id = Int(key.trimmingCharacters(in: .whitespaces)) else { continue }
            servers[id] = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
        return servers
    }

    /// A member from the value of its `server.N` entry:
    /// `127.0.0.1:<quorumPort>:<electionPort>[:participant];127.0.0.1:<clientPort>`.
    static func member(fromServerSpec spec: String, id: Int, directory: String) -> LocalEnsembleMember? {
        let halves = spec.split(separator: ";", maxSplits: 1).map(String.init)
        guard halves.count == 2 else { return nil }
        let server = halves[0].split(separator: ":").map(String.init)
        let client = halves[1].split(separator: ":").map(String.init)
        guard server.count >= 3, let quorumPort = Int(server[1]), let electionPort = Int(server[2]),
              let clientPort = client.last.flatMap({ Int($0) })
        else { return nil }
        return LocalEnsembleMember(id: id, clientPort: clientPort, quorumPort: quorumPort, electionPort: electionPort,
                                   directory: directory)
    }

    /// The contents of each member's partition file when `isolated` is cut off from the other
    /// members: every member of `isolated` drops the traffic of every member outside it, and
    /// the other way round. Without members on both sides there is no partition (no files).
    ///
    /// `partitionFiles(isolating: [1, 2], members: [1, 2, 3, 4, 5])` gives 1 and 2 the ids
    /// 3 4 5, and 3, 4 and 5 the ids 1 2.
    public static func partitionFiles(isolating isolated: Set<Int>, members: [Int]) -> [Int: [Int]] {
        let all = Set(members)
        let inside = isolated.intersection(all)
        let outside = all.subtracting(inside)
        guard !inside.isEmpty, !outside.isEmpty else { return [:] }
        var files: [Int: [Int]] = [:]
        for id in inside { files[id] = outside.sorted() }
        for id in outside { files[id] = inside.sorted() }
        return files
    }

    /// The text of a partition file: the ids separated by spaces, then a newline.
    public static func partitionFileText(_ ids: [Int]) -> String {
        ids.map(String.init).joined(separator: " ") + "\n"
    }

    /// The ids a partition file holds (whitespace-separated; anything else is skipped).
    public static func partitionFileIDs(_ text: String) -> [Int] {
        text.split(whereSeparator: { $0.isWhitespace }).compactMap { Int($0) }
    }

    /// The sides of the network while `isolated` is cut off: `[isolated, the rest]`, or one
    /// side with every member when there is no partition.
    public static func sides(isolating isolated: Set<Int>?, members: [Int]) -> [Set<Int>] {
        let all = Set(members)
        guard let isolated else { return [all] }
        let inside = isolated.intersection(all)
        let outside = all.subtracting(inside)
        return [inside, outside].filter { !$0.isEmpty }
    }
}
