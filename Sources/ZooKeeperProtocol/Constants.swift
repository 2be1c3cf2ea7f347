/// The kind of a watch notification (`Watcher.Event.EventType`).
public struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let none = EventType(rawValue: -1)
    public static let nodeCreated = EventType(rawValue: 1)
    public static let nodeDeleted = EventType(rawValue: 2)
    public static let nodeDataChanged = EventType(rawValue: 3)
    public static let nodeChildrenChanged = EventType(rawValue: 4)
    public static let dataWatchRemoved = EventType(rawValue: 5)
    public static let childWatchRemoved = EventType(rawValue: 6)
    public static let persistentWatchRemoved = EventType(rawValue: 7)

    /// ZooKeeper's name (`NodeDataChanged`).
    public var name: String {
        switch self.rawValue {
        case -1: return "None"
        case 1: return "NodeCreated"
        case 2: return "NodeDeleted"
        case 3: return "NodeDataChanged"
        case 4: return "NodeChildrenChanged"
        case 5: return "DataWatchRemoved"
        case 6: return "ChildWatchRemoved"
        case 7: return "PersistentWatchRemoved"
        default: return "Unknown(\(self.rawValue))"
        }
    }

    public var description: String { self.name }
}

/// A session state as carried in watch events (`Watcher.Event.KeeperState`).
public struct KeeperState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let unknown = KeeperState(rawValue: -1)
    public static let disconnected = KeeperState(rawValue: 0)
    public static let noSyncConnected = KeeperState(rawValue: 1)
    public static let syncConnected = KeeperState(rawValue: 3)
    public static let authFailed = KeeperState(rawValue: 4)
    public static let connectedReadOnly = KeeperState(rawValue: 5)
    public static let saslAuthenticated = KeeperState(rawValue: 6)
    public static let closed = KeeperState(rawValue: 7)
    public static let expired = KeeperState(rawValue: -112)

    public var name: String {
        switch self.rawValue {
        case -1: return "Unknown"
        case 0: return "Disconnected"
        case 1: return "NoSyncConnected"
        case 3: return "SyncConnected"
        case 4: return "AuthFailed"
        case 5: return "ConnectedReadOnly"
        case 6: return "SaslAuthenticated"
        case 7: return "Closed"
        case -112: return "Expired"
        default: return "Unknown(\(self.rawValue))"
        }
    }

    public var description: String { self.name }
}

/// Which watches checkWatches and removeWatches act on (`Watcher.WatcherType`).
public enum WatcherType: Int32, Hashable, Sendable, CaseIterable {
    case children = 1
    case data = 2
    case any = 3
    /// ZooKeeper 3.9+ only.
    case persistent = 4
    /// ZooKeeper 3.9+ only.
    case persistentRecursive = 5
}

/// The mode of a watch added with addWatch.
public enum AddWatchMode: Int32, Hashable, Sendable, CaseIterable {
    /// Fires for every change of the node and its children list, and stays.
    case persistent = 0
    /// Fires for created, deleted and changed events on the node and every descendant, and stays.
    case persistentRecursive = 1
}

/// How a node is created (`CreateMode`); the raw value is the wire `flags` field.
public enum CreateMode: Int32, Hashable, Sendable, CaseIterable {
    case persistent = 0
    case ephemeral = 1
    case persistentSequential = 2
    case ephemeralSequential = 3
    case container = 4
    case persistentWithTTL = 5
    case persistentSequentialWithTTL = 6

    public var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
    public var isSequential: Bool {
        self == .persistentSequential || self == .ephemeralSequential || self == .persistentSequentialWithTTL
    }
    public var isContainer: Bool { self == .container }
    public var isTTL: Bool { self == .persistentWithTTL || self == .persistentSequentialWithTTL }

    /// Builds a mode from its properties. Returns nil for impossible combinations.
    public init?(ephemeral: Bool, sequential: Bool, container: Bool, ttl: Bool) {
        switch (ephemeral, sequential, container, ttl) {
        case (false, false, false, false): self = .persistent
        case (true, false, false, false): self = .ephemeral
        case (false, true, false, false): self = .persistentSequential
        case (true, true, false, false): self = .ephemeralSequential
        case (false, false, true, false): self = .container
        case (false, false, false, true): self = .persistentWithTTL
        case (false, true, false, true): self = .persistentSequentialWithTTL
        default: return nil
        }
    }
}
