import ZooKeeperProtocol

/// How one connection watches one path in one table. A connection can hold a one-shot watch and a
/// persistent one on the same path at once (ZooKeeper's `WatchStats`).
public struct WatchModes: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let standard = WatchModes(rawValue: 1)
    public static let persistent = WatchModes(rawValue: 2)
    public static let persistentRecursive = WatchModes(rawValue: 4)
}

public enum WatchTable: Hashable, Sendable {
    case data
    case child
}

/// The server's two watch tables (§8.6), keyed by exact path, per connection.
public struct WatchManager: Sendable {
    private(set) var dataWatches: [String: [ConnectionID: WatchModes]] = [:]
    private(set) var childWatches: [String: [ConnectionID: WatchModes]] = [:]
    private var dataPathsByConnection: [ConnectionID: Set<String>] = [:]
    private var childPathsByConnection: [ConnectionID: Set<String>] = [:]
    private var recursiveCount = 0

    public init() {}

    public mutating func add(_ table: WatchTable, path: String, connection: ConnectionID, mode: WatchModes) {
        switch table {
        case .data:
            let old = self.dataWatches[path]?[connection] ?? []
            if mode.contains(.persistentRecursive) && !old.contains(.persistentRecursive) { self.recursiveCount += 1 }
            self.dataWatches[path, default: [:]][connection] = old.union(mode)
            self.dataPathsByConnection[connection, default: []].insert(path)
        case .child:
            self.childWatches[path, default: [:]][connection, default: []].formUnion(mode)
            self.childPathsByConnection[connection, default: []].insert(path)
        }
    }

    public func modes(_ table: WatchTable, path: String, connection: ConnectionID) -> WatchModes {
        switch table {
        case .data: return self.dataWatches[path]?[connection] ?? []
        case .child: return self.childWatches[path]?[connection] ?? []
        }
    }

    /// Removes `modes` (all when nil); returns whether anything was removed.
    @discardableResult
    public mutating func remove(_ table: WatchTable, path: String, connection: ConnectionID, modes: WatchModes? = nil) -> Bool {
        let old = self.modes(table, path: path, connection: connection)
        let removing = modes.map { old.intersection($0) } ?? old
        guard !removing.isEmpty else { return false }
        self.set(table, path: path, connection: connection, modes: old.subtracting(removing))
        return true
    }

    private mutating func set(_ table: WatchTable, path: String, connection: ConnectionID, modes: WatchModes) {
        switch table {
        case .data:
            let old = self.dataWatches[path]?[connection] ?? []
            if old.contains(.persistentRecursive) && !modes.contains(.persistentRecursive) { self.recursiveCount -= 1 }
            if modes.contains(.persistentRecursive) && !old.contains(.persistentRecursive) { self.recursiveCount += 1 }
            if modes.isEmpty {
                self.dataWatches[path]?[connection] = nil
                if self.dataWatches[path]?.isEmpty == true { self.dataWatches[path] = nil }
                self.dataPathsByConnection[connection]?.remove(path)
                if self.dataPathsByConnection[connection]?.isEmpty == true { self.dataPathsByConnection[connection] = nil }
            } else {
                self.dataWatches[path, default: [:]][connection] = modes
                self.dataPathsByConnection[connection, default: []].insert(path)
            }
        case .child:
            if modes.isEmpty {
                self.childWatches[path]?[connection] = nil
                if self.childWatches[path]?.isEmpty == true { self.childWatches[path] = nil }
                self.childPathsByConnection[connection]?.remove(path)
                if self.childPathsByConnection[connection]?.isEmpty == true { self.childPathsByConnection[connection] = nil }
            } else {
                self.childWatches[path, default: [:]][connection] = modes
                self.childPathsByConnection[connection, default: []].insert(path)
            }
        }
    }

    /// Fires the table for a change at `path`: exact-path watches, and recursive watches on every
    /// ancestor (data table only). One-shot watches are consumed. Returns the connections to notify.
    public mutating func trigger(_ table: WatchTable, path: String, suppress: Set<ConnectionID> = []) -> Set<ConnectionID> {
        var fired: Set<ConnectionID> = []
        let exact: [ConnectionID: WatchModes]
        switch table {
        case .data: exact = self.dataWatches[path] ?? [:]
        case .child: exact = self.childWatches[path] ?? [:]
        }
        for (connection, modes) in exact {
            // Suppressed watchers are still consumed, only not notified again (ZooKeeper does the same).
            if !suppress.contains(connection) { fired.insert(connection) }
            if modes.contains(.standard) {
                self.set(table, path: path, connection: connection, modes: modes.subtracting(.standard))
            }
        }
        if table == .data && self.recursiveCount > 0 && path != "/" {
            var ancestor = path
            repeat {
                ancestor = ZooKeeperPath.parent(of: ancestor)
                for (connection, modes) in self.dataWatches[ancestor] ?? [:]
                where modes.contains(.persistentRecursive) && !suppress.contains(connection) {
                    fired.insert(connection)
                }
            } while ancestor != "/"
        }
        return fired
    }

    public mutating func removeConnection(_ connection: ConnectionID) {
        for path in self.dataPathsByConnection[connection] ?? [] {
            self.set(.data, path: path, connection: connection, modes: [])
        }
        for path in self.childPathsByConnection[connection] ?? [] {
            self.set(.child, path: path, connection: connection, modes: [])
        }
    }

    public func paths(of connection: ConnectionID) -> Set<String> {
        (self.dataPathsByConnection[connection] ?? []).union(self.childPathsByConnection[connection] ?? [])
    }

    /// (connection, path) pairs over both tables.
    public var watchCount: Int {
        self.dataWatches.values.reduce(0) { $0 + $1.count } + self.childWatches.values.reduce(0) { $0 + $1.count }
    }

    public var watchesByPath: [String: [ConnectionID]] {
        var result: [String: Set<ConnectionID>] = [:]
        for (path, watchers) in self.dataWatches { result[path, default: []].formUnion(watchers.keys) }
        for (path, watchers) in self.childWatches { result[path, default: []].formUnion(watchers.keys) }
        return result.mapValues { $0.sorted() }
    }

    public var watchingConnections: Set<ConnectionID> {
        Set(self.dataPathsByConnection.keys).union(self.childPathsByConnection.keys)
    }
}
