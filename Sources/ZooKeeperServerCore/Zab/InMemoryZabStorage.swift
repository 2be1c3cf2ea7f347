/// A disk for ``ZabPeer`` in memory, for tests and simulations: the epochs files, a snapshot,
/// and a log whose appended entries stay volatile until ``flush()``.
///
/// ``crash(keepingUnsynced:)`` models a power cut: durable data survives; of the unsynced
/// entries only a prefix may have reached the disk, and the entry after it (a torn write) is
/// dropped by recovery.
public struct InMemoryZabStorage: Hashable, Sendable {
    public private(set) var acceptedEpoch: Int64 = 0
    public private(set) var currentEpoch: Int64 = 0
    public private(set) var snapshot: ZabSnapshot?
    public private(set) var durable: [ZabLogEntry] = []
    public private(set) var unsynced: [ZabLogEntry] = []

    public init() {}

    /// Runs the storage actions (`persistEpochs`, `truncateLog`, `installSnapshot`,
    /// `appendLog`); others are ignored.
    public mutating func apply(_ action: ZabAction) {
        switch action {
        case .persistEpochs(let accepted, let current):
            acceptedEpoch = accepted
            currentEpoch = current
        case .truncateLog(let zxid):
            durable.removeAll { $0.zxid > zxid }
            unsynced.removeAll { $0.zxid > zxid }
        case .installSnapshot(let snapshot):
            self.snapshot = snapshot
            durable = []
            unsynced = []
        case .appendLog(let entries):
            unsynced.append(contentsOf: entries)
        case .send, .deliver, .roleChanged:
            break
        }
    }

    /// Makes the appended entries durable; returns the last zxid made durable, if any.
    public mutating func flush() -> Int64? {
        guard let last = unsynced.last else { return nil }
        durable.append(contentsOf: unsynced)
        unsynced = []
        return last.zxid
    }

    public var hasUnsynced: Bool { !unsynced.isEmpty }

    /// A newer snapshot of the applied state was written: it becomes the one recovered, and log
    /// entries it covers may go (ZooKeeper's purge).
    public mutating func saveSnapshot(_ snapshot: ZabSnapshot, purgeLog: Bool) {
        self.snapshot = snapshot
        if purgeLog { durable.removeAll { $0.zxid <= snapshot.zxid } }
    }

    /// Power cut: the first `count` unsynced entries happened to reach the disk whole; the rest
    /// (starting with a torn one) are lost.
    public mutating func crash(keepingUnsynced count: Int) {
        durable.append(contentsOf: unsynced.prefix(max(0, count)))
        unsynced = []
    }

    /// What a restarted member loads.
    public var persistentState: ZabPersistentState {
        let base = snapshot?.zxid ?? 0
        return ZabPersistentState(
            acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch, appliedZxid: base,
            log: (durable + unsynced).filter { $0.zxid > base })
    }
}
