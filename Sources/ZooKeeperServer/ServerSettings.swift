import ZooKeeperServerCore

/// Everything `zksh serve` needs to run: the core's configuration plus what only the driver uses
/// (addresses, directories, the four-letter-word whitelist, purge settings).
public struct ServerSettings: Sendable {
    public var core: ServerConfiguration
    /// The address to listen on (`clientPortAddress`); "0.0.0.0" listens on all IPv4 addresses.
    public var host: String
    public var port: Int
    /// Where snapshots go (`dataDir`).
    public var dataDirectory: String
    /// Where the transaction log goes (`dataLogDir`, default `dataDir`).
    public var dataLogDirectory: String
    public var fourLetterWords: FourLetterWordWhitelist
    /// Snapshots (and the logs they need) kept by autopurge.
    public var snapRetainCount: Int
    /// Hours between purges; 0 disables autopurge.
    public var purgeIntervalHours: Int
    public var listenBacklog: Int
    /// Connections that have not sent a ConnectRequest are closed after this many milliseconds.
    public var sessionlessConnectionTimeout: Int = 10_000
    /// fdatasync the log (ZooKeeper's `forceSync`); only tests turn it off.
    public var forceSync = true
    /// The ensemble this server is a member of; nil for a standalone server.
    public var quorum: QuorumSettings?
    /// Stop when the process that started this one exits (members started by the shell).
    public var exitWithParent = false

    public init(host: String = "0.0.0.0", port: Int = 2181, dataDirectory: String, dataLogDirectory: String? = nil, core: ServerConfiguration = .init()) {
        self.core = core
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.dataLogDirectory = dataLogDirectory ?? dataDirectory
        self.fourLetterWords = FourLetterWordWhitelist(nil)
        self.snapRetainCount = 3
        self.purgeIntervalHours = 0
        self.listenBacklog = 128
    }
}

/// What a member of an ensemble needs beyond a standalone server's settings.
public struct QuorumSettings: Sendable, Hashable {
    /// One `server.N` line.
    public typealias Member = DynamicConfiguration.Server

    /// This member's id (`myid`).
    public var myid: Int64
    public var members: [Member]
    /// The membership's version (0 until a reconfig changes it).
    public var configurationVersion: Int64 = 0
    /// The zoo.cfg this member was started from; a reconfig rewrites it to point at the new
    /// dynamic configuration file, as ZooKeeper does.
    public var configurationFile: String?

    /// The membership as `/zookeeper/config` shows it.
    public var dynamicConfiguration: DynamicConfiguration {
        DynamicConfiguration(servers: members, version: configurationVersion)
    }
    /// Ticks a learner may take to connect and sync.
    public var initLimit: Int
    /// Ticks a learner may be silent.
    public var syncLimit: Int
    /// `readonlymode.enabled`: serve reads to read-only clients while cut off from the quorum.
    public var readOnlyModeEnabled: Bool
    public var reconfigEnabled: Bool
    /// ms an election waits for a better vote once a quorum agrees (ZooKeeper: 200).
    public var finalizeWait = 200

    public var me: Member { members.first { $0.id == myid }! }
}

/// The replicated-mode refusal and other reasons a configuration cannot be served.
public struct ServerSettingsError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension ZooKeeperConfigurationFile {
    /// The settings for a standalone server.
    ///
    /// - Throws: ``ServerSettingsError`` when `dataDir` or `clientPort` is missing, or when the
    ///   file describes an ensemble (more than one `server.N`): replicated mode is not supported yet.
    public func serverSettings() throws -> ServerSettings {
        guard let dataDir else {
            throw ServerSettingsError(description: "\(path): dataDir is not set")
        }
        var clientHost = clientPortAddress
        var clientPort = self.clientPort
        var quorum: QuorumSettings?
        if servers.count > 1 || !standaloneEnabled && !servers.isEmpty {
            guard let myid else {
                throw ServerSettingsError(description: "\(dataDir)/myid is missing: a member of an ensemble needs its id there")
            }
            guard let me = servers.first(where: { $0.id == myid }) else {
                throw ServerSettingsError(description: "\(path): myid is \(myid) but no server.\(myid) line is listed")
            }
            if !servers.contains(where: { $0.role == .participant }) {
                throw ServerSettingsError(description: "\(path): every server is an observer; an ensemble needs voters")
            }
            if clientPort == nil { clientPort = me.clientPort }
            if clientHost == nil { clientHost = me.clientHost }
            quorum = QuorumSettings(
                myid: myid,
                members: servers.map { server in
                    let address = server.addresses[0]
                    return QuorumSettings.Member(
                        id: server.id, host: address.host, quorumPort: address.quorumPort,
                        electionPort: address.electionPort, observer: server.role == .observer,
                        clientHost: server.clientHost, clientPort: server.clientPort)
                },
                initLimit: initLimit ?? 10, syncLimit: syncLimit ?? 5, readOnlyModeEnabled: readOnlyModeEnabled,
                reconfigEnabled: reconfigEnabled)
            quorum?.configurationVersion = configurationVersion
            quorum?.finalizeWait = electionFinalizeWait
            quorum?.configurationFile = path
        } else if let only = servers.first {
            if let myid, myid != only.id {
                throw ServerSettingsError(description: "\(path): myid is \(myid) but the only server listed is server.\(only.id)")
            }
            if clientPort == nil { clientPort = only.clientPort }
            if clientHost == nil { clientHost = only.clientHost }
        }
        guard let clientPort else {
            throw ServerSettingsError(description: "\(path): clientPort is not set")
        }
        var core = ServerConfiguration()
        // A standalone ZooKeeper always uses 1 for session ids; a member its myid.
        core.serverId = quorum?.myid ?? 1
        core.tickTime = tickTime
        core.minSessionTimeout = minSessionTimeout.flatMap { $0 > 0 ? $0 : nil }
        core.maxSessionTimeout = maxSessionTimeout.flatMap { $0 > 0 ? $0 : nil }
        core.maxClientConnectionsPerHost = maxClientCnxns
        core.maxBuffer = maxBuffer
        core.extendedTypesEnabled = extendedTypesEnabled
        core.enforceQuota = enforceQuota
        core.containerCheckInterval = containerCheckIntervalMs
        core.containerMaxPerMinute = containerMaxPerMinute
        core.containerMaxNeverUsedInterval = containerMaxNeverUsedIntervalMs
        core.superDigest = superDigest
        core.digestAuthenticationEnabled = digestAuthenticationEnabled
        core.skipACL = skipACL
        core.saslDigestUsers = saslDigestUsers
        core.snapCount = snapCount
        core.reconfigEnabled = reconfigEnabled
        var settings = ServerSettings(
            host: clientHost ?? "0.0.0.0", port: clientPort, dataDirectory: dataDir, dataLogDirectory: dataLogDir, core: core)
        settings.fourLetterWords = FourLetterWordWhitelist(fourLetterWordWhitelist, readOnlyModeEnabled: readOnlyModeEnabled)
        settings.snapRetainCount = snapRetainCount
        settings.purgeIntervalHours = max(0, purgeInterval)
        if let backlog = clientPortListenBacklog, backlog > 0 { settings.listenBacklog = backlog }
        settings.quorum = quorum
        return settings
    }
}

/// Which four-letter words may run (`4lw.commands.whitelist`).
public struct FourLetterWordWhitelist: Sendable, Hashable {
    public var allowsAll: Bool
    public var words: Set<String>

    /// Parses the comma-separated setting; `nil` means ZooKeeper's default, `srvr` only. `srvr` is
    /// always allowed, `isro` too when read-only mode is enabled; `*` allows everything.
    public init(_ setting: String?, readOnlyModeEnabled: Bool = false) {
        let listed = (setting ?? "srvr").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        allowsAll = listed.contains("*")
        words = Set(listed.filter { FourLetterWord(rawValue: $0) != nil })
        words.insert("srvr")
        if readOnlyModeEnabled { words.insert("isro") }
    }

    public func allows(_ word: FourLetterWord) -> Bool {
        allowsAll || words.contains(word.rawValue)
    }
}

import Foundation
