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
        if servers.count > 1 || !standaloneEnabled && !servers.isEmpty {
            let ids = servers.map { "server.\($0.id)" }.joined(separator: ", ")
            throw ServerSettingsError(description: "\(path): replicated mode is not supported yet (\(ids) listed); list only this server or none to run standalone")
        }
        if let only = servers.first {
            if let myid, myid != only.id {
                throw ServerSettingsError(description: "\(path): myid is \(myid) but the only server listed is server.\(only.id); replicated mode is not supported yet")
            }
            if clientPort == nil { clientPort = only.clientPort }
            if clientHost == nil { clientHost = only.clientHost }
        }
        guard let clientPort else {
            throw ServerSettingsError(description: "\(path): clientPort is not set")
        }
        var core = ServerConfiguration()
        core.serverId = 1  // A standalone ZooKeeper always uses 1 for session ids.
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
        var settings = ServerSettings(
            host: clientHost ?? "0.0.0.0", port: clientPort, dataDirectory: dataDir, dataLogDirectory: dataLogDir, core: core)
        settings.fourLetterWords = FourLetterWordWhitelist(fourLetterWordWhitelist, readOnlyModeEnabled: readOnlyModeEnabled)
        settings.snapRetainCount = snapRetainCount
        settings.purgeIntervalHours = max(0, purgeInterval)
        if let backlog = clientPortListenBacklog, backlog > 0 { settings.listenBacklog = backlog }
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
