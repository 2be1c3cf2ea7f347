import Foundation
import NIOCore
import ZooKeeperServerCore

/// A four-letter word a client may send instead of a ConnectRequest's length prefix (§12).
public enum FourLetterWord: String, Sendable, CaseIterable {
    case ruok, isro, srvr, stat, cons, conf, envi, mntr, wchs, wchc, wchp, dump, crst, srst, dirs, gtmk, stmk, hash

    /// The word whose bytes are these four, if any.
    init?(bytes: ByteBufferView) {
        guard bytes.count == 4, let text = String(bytes: bytes, encoding: .ascii) else { return nil }
        self.init(rawValue: text)
    }
}

/// The version this server reports, in ZooKeeper's format.
let zookeeperVersionString = "3.9.4-zksh, built on 01/01/2025 00:00 GMT"

/// What a four-letter word needs besides the core's statistics.
struct FourLetterWordContext {
    var settings: ServerSettings
    var statistics: ServerStatistics
    var now: NIODeadline
    var wallClockMilliseconds: Int64
    var startedAt: NIODeadline
    /// connection -> wall-clock milliseconds when it was accepted.
    var establishedAt: [ConnectionID: Int64]
    /// connection -> `ip:port` of the client.
    var remoteAddresses: [ConnectionID: String]
    var traceMask: Int64
    /// Subtracted from the core's packet counters (`srst`).
    var packetsReceivedBaseline: Int
    var packetsSentBaseline: Int
    /// `Mode:` of srvr and `zk_server_state` of mntr: standalone, leader, follower, observer, read-only.
    var mode = "standalone"
    /// False while an ensemble member elects or syncs: most words answer ``notServing``.
    var serving = true
    /// mntr lines only a member has (a leader's learner figures).
    var quorumFigures: [(String, String)] = []
}

/// Renders four-letter-word replies in Apache ZooKeeper's formats (standalone mode).
enum FourLetterWordResponder {
    static func notWhitelisted(_ word: FourLetterWord) -> String {
        "\(word.rawValue) is not executed because it is not in the whitelist.\n"
    }

    /// ZooKeeper's answer while the server is not running (an election or a sync).
    static let notServing = "This ZooKeeper instance is not currently serving requests\n"

    static func respond(to word: FourLetterWord, context c: FourLetterWordContext) -> String {
        let s = c.statistics
        if !c.serving {
            switch word {
            case .srvr, .stat, .cons, .mntr, .dump, .wchs, .wchc, .wchp, .crst, .srst, .hash:
                return notServing
            case .ruok, .isro, .conf, .envi, .dirs, .gtmk, .stmk:
                break
            }
        }
        switch word {
        case .ruok: return "imok"
        case .isro: return c.mode == "read-only" ? "ro" : "rw"
        case .srvr: return "Zookeeper version: \(zookeeperVersionString)\n" + serverSummary(c)
        case .stat:
            var text = "Zookeeper version: \(zookeeperVersionString)\nClients:\n"
            for connection in s.connections.sorted(by: { $0.id < $1.id }) {
                text += " /\(c.remoteAddresses[connection.id] ?? connection.remoteAddress)[1](queued=\(connection.outstandingRequests),recved=\(connection.packetsReceived),sent=\(connection.packetsSent))\n"
            }
            return text + "\n" + serverSummary(c)
        case .cons:
            var text = ""
            for connection in s.connections.sorted(by: { $0.id < $1.id }) {
                text += " /\(c.remoteAddresses[connection.id] ?? connection.remoteAddress)[1](queued=\(connection.outstandingRequests),recved=\(connection.packetsReceived),sent=\(connection.packetsSent)"
                if let sessionId = connection.sessionId {
                    let established = c.establishedAt[connection.id] ?? c.wallClockMilliseconds
                    text += ",sid=0x\(hex(sessionId)),lop=\(shortOperation(connection.lastOperation)),est=\(established),to=\(connection.sessionTimeout ?? 0)"
                    text += ",lcxid=0x\(hex(Int64(connection.lastCxid))),lzxid=0x\(hex(connection.lastZxid)),lresp=\(c.wallClockMilliseconds),llat=\(connection.maxLatency)"
                    text += ",minlat=\(connection.minLatency),avglat=\(decimal(connection.averageLatency)),maxlat=\(connection.maxLatency)"
                }
                text += ")\n"
            }
            return text + "\n"
        case .conf:
            let core = c.settings.core
            return """
                clientPort=\(c.settings.port)
                secureClientPort=-1
                dataDir=\(versionDirectory(c.settings.dataDirectory))
                dataDirSize=\(directorySize(versionDirectory(c.settings.dataDirectory)))
                dataLogDir=\(versionDirectory(c.settings.dataLogDirectory))
                dataLogSize=\(directorySize(versionDirectory(c.settings.dataLogDirectory)))
                tickTime=\(core.tickTime)
                maxClientCnxns=\(core.maxClientConnectionsPerHost)
                minSessionTimeout=\(core.effectiveMinSessionTimeout)
                maxSessionTimeout=\(core.effectiveMaxSessionTimeout)
                clientPortListenBacklog=\(c.settings.listenBacklog)
                serverId=0

                """
        case .envi:
            let info = ProcessInfo.processInfo
            var lines = ["Environment:"]
            lines.append("zookeeper.version=\(zookeeperVersionString)")
            lines.append("host.name=\(info.hostName)")
            lines.append("os.name=\(osName())")
            lines.append("os.version=\(info.operatingSystemVersionString)")
            lines.append("user.name=\(info.environment["USER"] ?? "")")
            lines.append("user.home=\(info.environment["HOME"] ?? "")")
            lines.append("user.dir=\(FileManager.default.currentDirectoryPath)")
            lines.append("os.memory.total=\(info.physicalMemory / 1_048_576)MB")
            return lines.joined(separator: "\n") + "\n"
        case .mntr:
            let uptime = (c.now - c.startedAt).nanoseconds / 1_000_000
            let pairs: [(String, String)] = [
                ("zk_version", zookeeperVersionString),
                ("zk_server_state", c.mode),
                ("zk_avg_latency", decimal(s.averageLatency)),
                ("zk_max_latency", "\(s.maxLatency)"),
                ("zk_min_latency", "\(s.minLatency)"),
                ("zk_packets_received", "\(s.packetsReceived - c.packetsReceivedBaseline)"),
                ("zk_packets_sent", "\(s.packetsSent - c.packetsSentBaseline)"),
                ("zk_num_alive_connections", "\(s.connections.count)"),
                ("zk_outstanding_requests", "\(s.outstandingRequests)"),
                ("zk_znode_count", "\(s.nodeCount)"),
                ("zk_watch_count", "\(s.watchCount)"),
                ("zk_ephemerals_count", "\(s.ephemeralsCount)"),
                ("zk_approximate_data_size", "\(s.approximateDataSize)"),
                ("zk_open_file_descriptor_count", "\(openFileDescriptorCount())"),
                ("zk_max_file_descriptor_count", "\(maxFileDescriptorCount())"),
                ("zk_uptime", "\(uptime)"),
                ("zk_global_sessions", "\(s.sessions.count)"),
                ("zk_local_sessions", "0"),
                ("zk_last_zxid", "0x\(hex(s.lastZxid))"),
            ] + c.quorumFigures
            return pairs.map { "\($0.0)\t\($0.1)\n" }.joined()
        case .wchs:
            return "\(s.watchingConnectionCount) connections watching \(s.watchedPathCount) paths\nTotal watches:\(s.watchCount)\n"
        case .wchc:
            let sessions = sessionIds(s)
            var text = ""
            for (connection, paths) in s.watchesByConnection.sorted(by: { $0.key < $1.key }) {
                text += "0x\(hex(sessions[connection] ?? 0))\n"
                for path in paths.sorted() { text += "\t\(path)\n" }
            }
            return text + "\n"
        case .wchp:
            let sessions = sessionIds(s)
            var text = ""
            for (path, connections) in s.watchesByPath.sorted(by: { $0.key < $1.key }) {
                text += "\(path)\n"
                for connection in connections.sorted() { text += "\t0x\(hex(sessions[connection] ?? 0))\n" }
            }
            return text + "\n"
        case .dump:
            let tick = Int64(max(1, c.settings.core.tickTime))
            var buckets: [Int64: [Int64]] = [:]
            for session in s.sessions {
                let remaining = (session.expiresAt - c.now).nanoseconds / 1_000_000
                let wall = c.wallClockMilliseconds + remaining
                buckets[(wall / tick + 1) * tick, default: []].append(session.sessionId)
            }
            var text = "SessionTracker dump:\nSession Sets (\(buckets.count))/(\(s.sessions.count)):\n"
            for (expiry, ids) in buckets.sorted(by: { $0.key < $1.key }) {
                text += "\(ids.count) expire at \(javaDate(expiry)):\n"
                for id in ids.sorted() { text += "\t0x\(hex(id))\n" }
            }
            let withEphemerals = s.sessions.filter { !$0.ephemeralPaths.isEmpty }.sorted { $0.sessionId < $1.sessionId }
            text += "ephemeral nodes dump:\nSessions with Ephemerals (\(withEphemerals.count)):\n"
            for session in withEphemerals {
                text += "0x\(hex(session.sessionId)):\n"
                for path in session.ephemeralPaths.sorted() { text += "\t\(path)\n" }
            }
            text += "Connections dump:\nConnections Sets (0)/(\(s.connections.count)):\n"
            return text
        case .crst: return "Connection stats reset.\n"
        case .srst: return "Server stats reset.\n"
        case .dirs:
            return "datadir_size: \(directorySize(versionDirectory(c.settings.dataDirectory)))\nlogdir_size: \(directorySize(versionDirectory(c.settings.dataLogDirectory)))\n"
        case .gtmk, .stmk: return "\(c.traceMask)"
        case .hash: return ""
        }
    }

    /// The statistics lines `srvr` and `stat` share.
    private static func serverSummary(_ c: FourLetterWordContext) -> String {
        let s = c.statistics
        return """
            Latency min/avg/max: \(s.minLatency)/\(decimal(s.averageLatency))/\(s.maxLatency)
            Received: \(s.packetsReceived - c.packetsReceivedBaseline)
            Sent: \(s.packetsSent - c.packetsSentBaseline)
            Connections: \(s.connections.count)
            Outstanding: \(s.outstandingRequests)
            Zxid: 0x\(hex(s.lastZxid))
            Mode: \(c.mode)
            Node count: \(s.nodeCount)

            """
    }

    private static func sessionIds(_ s: ServerStatistics) -> [ConnectionID: Int64] {
        var result: [ConnectionID: Int64] = [:]
        for connection in s.connections { if let id = connection.sessionId { result[connection.id] = id } }
        return result
    }

    /// ZooKeeper's `cons` short codes for the last operation.
    private static func shortOperation(_ name: String?) -> String {
        guard let name else { return "NA" }
        let codes: [String: String] = [
            "ping": "PING", "getData": "GETD", "setData": "SETD", "create": "CREA", "create2": "CREA",
            "createContainer": "CREA", "createTTL": "CREA", "delete": "DELE", "exists": "EXIS",
            "getChildren": "GETC", "getChildren2": "GETC", "setWatches": "SETW", "setWatches2": "SETW",
            "multi": "MULT", "multiRead": "MLTR", "createSession": "SESS", "closeSession": "CLOS",
            "sync": "SYNC", "getACL": "GETA", "setACL": "SETA", "check": "CHEC", "auth": "AUTH",
            "addWatch": "ADDW", "removeWatches": "REMW", "checkWatches": "CHKW", "whoAmI": "HOMI",
            "getEphemerals": "GETE", "getAllChildrenNumber": "GETACN", "sasl": "SASL", "reconfig": "RECO",
        ]
        return codes[name] ?? (name.count <= 6 && name == name.uppercased() ? name : name.uppercased())
    }

    static func hex(_ value: Int64) -> String { String(UInt64(bitPattern: value), radix: 16) }

    private static func decimal(_ value: Double) -> String {
        let rounded = (value * 10000).rounded() / 10000
        return rounded == rounded.rounded() ? String(format: "%.1f", rounded) : "\(rounded)"
    }

    private static func versionDirectory(_ directory: String) -> String {
        (directory as NSString).appendingPathComponent("version-2")
    }

    private static func directorySize(_ directory: String) -> Int64 {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var total: Int64 = 0
        for file in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(file))
            total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return total
    }

    private static func javaDate(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    private static func osName() -> String {
        #if os(Linux)
        return "Linux"
        #elseif os(macOS)
        return "Mac OS X"
        #else
        return "unknown"
        #endif
    }

    private static func openFileDescriptorCount() -> Int {
        #if os(Linux)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 1) - 1
        #else
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/fd"))?.count ?? 1) - 1
        #endif
    }

    private static func maxFileDescriptorCount() -> Int {
        var limit = rlimit()
        #if os(Linux)
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        return Int(clamping: limit.rlim_cur)
    }
}
