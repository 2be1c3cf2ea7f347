import ZooKeeperProtocol

/// Identifies one watch registration made by a caller.
public struct WatchID: Hashable, Sendable, Comparable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: WatchID, rhs: WatchID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The kind of a client-side watch registration.
public enum WatchKind: Hashable, Sendable, CaseIterable {
    /// Set by getData, or by exists on an existing node. One-shot.
    case data
    /// Set by exists on a missing node. One-shot.
    case exist
    /// Set by getChildren. One-shot.
    case child
    /// Set by addWatch(persistent). Stays until removed.
    case persistent
    /// Set by addWatch(persistentRecursive). Stays until removed.
    case persistentRecursive

    public var isOneShot: Bool {
        switch self {
        case .data, .exist, .child: return true
        case .persistent, .persistentRecursive: return false
        }
    }
}

/// The client's table of watches, keyed by server path (chroot included), as ZooKeeper's
/// `ZKWatchManager` keeps it. IO-free; the session state machine owns it.
struct WatchRegistry: Sendable {
    private var tables: [WatchKind: [String: [WatchID]]] = [:]
    private var index: [WatchID: (kind: WatchKind, path: String)] = [:]

    var isEmpty: Bool { index.isEmpty }
    var count: Int { index.count }

    mutating func add(_ id: WatchID, kind: WatchKind, path: String) {
        tables[kind, default: [:]][path, default: []].append(id)
        index[id] = (kind, path)
    }

    /// Removes one registration (the caller stopped listening). Returns whether it existed.
    @discardableResult
    mutating func remove(_ id: WatchID) -> Bool {
        guard let (kind, path) = index.removeValue(forKey: id) else { return false }
        tables[kind]?[path]?.removeAll { $0 == id }
        if tables[kind]?[path]?.isEmpty == true { tables[kind]?[path] = nil }
        return true
    }

    /// Removes and returns every registration of `kinds` on `path`.
    mutating func removeAll(path: String, kinds: [WatchKind]) -> [WatchID] {
        var removed: [WatchID] = []
        for kind in kinds {
            guard let ids = tables[kind]?.removeValue(forKey: path) else { continue }
            for id in ids { index[id] = nil }
            removed += ids
        }
        return removed.sorted()
    }

    /// Removes and returns every registration.
    mutating func removeEverything() -> [WatchID] {
        let all = index.keys.sorted()
        tables = [:]
        index = [:]
        return all
    }

    /// The kind of a registration, or nil when it is not (or no longer) registered.
    func kind(of id: WatchID) -> WatchKind? { index[id]?.kind }

    /// Whether `path` has a registration of `kind`.
    func contains(path: String, kind: WatchKind) -> Bool { tables[kind]?[path]?.isEmpty == false }

    /// The registrations an event reaches, removing the one-shot ones, as the Java client routes them.
    mutating func materialize(_ type: EventType, path: String) -> [WatchID] {
        var fired: [WatchID] = []
        switch type {
        case .nodeCreated, .nodeDataChanged:
            fired += removeAll(path: path, kinds: [.data, .exist])
        case .nodeChildrenChanged:
            fired += removeAll(path: path, kinds: [.child])
        case .nodeDeleted:
            fired += removeAll(path: path, kinds: [.data, .exist, .child])
        default:
            break
        }
        fired += tables[.persistent]?[path] ?? []
        if type != .nodeChildrenChanged {
            var ancestor: String? = path
            while let current = ancestor {
                fired += tables[.persistentRecursive]?[current] ?? []
                ancestor = current == "/" ? nil : ZooKeeperPath.parent(of: current)
            }
        }
        return fired.sorted()
    }

    /// The watches to re-register after a reconnect, by SetWatches list.
    struct Snapshot: Equatable {
        var data: [String] = []
        var exist: [String] = []
        var child: [String] = []
        var persistent: [String] = []
        var persistentRecursive: [String] = []
        var isEmpty: Bool { data.isEmpty && exist.isEmpty && child.isEmpty && persistent.isEmpty && persistentRecursive.isEmpty }
    }

    func snapshot() -> Snapshot {
        func paths(_ kind: WatchKind) -> [String] { (tables[kind] ?? [:]).keys.sorted() }
        return Snapshot(
            data: paths(.data), exist: paths(.exist), child: paths(.child),
            persistent: paths(.persistent), persistentRecursive: paths(.persistentRecursive)
        )
    }
}
