/// The server's durable state in ZooKeeper's layout: snapshots in `<dataDirectory>/version-2/`,
/// log segments in `<dataLogDirectory>/version-2/` (the same folder when no separate log
/// directory is given), each directory guarded by a `DataDirectoryLock`.
///
/// Start-up order: `init` (locks, opens the log and repairs a torn tail), `recover()` (load the
/// snapshot, replay the transactions after it), then append new transactions above
/// `Recovery.lastZxid` through `log` or a `GroupCommitter`, write snapshots with `snapshots`,
/// and call `purge(retain:)` now and then. `close()` releases the locks.
public final class Storage: Sendable {
    /// Tuning knobs; the defaults are ZooKeeper's.
    public struct Options: Sendable, Hashable {
        /// See `TransactionLog.segmentSizeLimit`.
        public var segmentSizeLimit: Int
        /// See `TransactionLog.forceSync`; `false` only for tests.
        public var forceSync: Bool

        /// Options; the defaults are 64 MiB segments and fsync on.
        public init(segmentSizeLimit: Int = TransactionLog.defaultSegmentSizeLimit, forceSync: Bool = true) {
            self.segmentSizeLimit = segmentSizeLimit
            self.forceSync = forceSync
        }
    }

    /// What to load at start-up.
    public struct Recovery: Sendable, Hashable {
        /// The newest valid snapshot, or `nil` on a fresh server (start from an empty tree).
        public var snapshot: SnapshotStore.Snapshot?
        /// The logged transactions after the snapshot (all of them without one), in zxid order.
        public var transactions: [TransactionLog.Entry]
        /// What was repaired or skipped, one sentence each: torn log tails, damaged snapshots.
        public var notes: [String]

        /// A recovery result (for in-memory stand-ins in tests).
        public init(snapshot: SnapshotStore.Snapshot?, transactions: [TransactionLog.Entry], notes: [String]) {
            self.snapshot = snapshot
            self.transactions = transactions
            self.notes = notes
        }

        /// The zxid the recovered state is at: the last transaction's, else the snapshot's, else 0.
        /// New transactions must be larger.
        public var lastZxid: Int64 { transactions.last?.zxid ?? snapshot?.zxid ?? 0 }
    }

    /// ZooKeeper's name for the subdirectory holding the files.
    public static let versionDirectoryName = "version-2"

    /// The snapshot store in `<dataDirectory>/version-2`.
    public let snapshots: SnapshotStore
    /// The transaction log in `<dataLogDirectory>/version-2`.
    public let log: TransactionLog
    private let locks: [DataDirectoryLock]

    /// Locks the directories (creating them as needed) and opens the log, repairing a torn tail.
    /// - Parameters:
    ///   - dataDirectory: ZooKeeper's `dataDir`.
    ///   - dataLogDirectory: ZooKeeper's `dataLogDir`; `nil` means `dataDirectory`.
    /// - Throws: `.directoryLocked` if another server uses either directory, the log's
    ///   corruption errors, `.io`.
    public init(dataDirectory: String, dataLogDirectory: String? = nil, options: Options = Options()) throws {
        let snapshotDirectory = POSIXFile.join(dataDirectory, Self.versionDirectoryName)
        let logDirectory = POSIXFile.join(dataLogDirectory ?? dataDirectory, Self.versionDirectoryName)
        var locks = [try DataDirectoryLock(directory: snapshotDirectory)]
        try POSIXFile.createDirectory(logDirectory)
        if POSIXFile.canonicalPath(logDirectory) != POSIXFile.canonicalPath(snapshotDirectory) {
            locks.append(try DataDirectoryLock(directory: logDirectory))
        }
        self.locks = locks
        snapshots = try SnapshotStore(directory: snapshotDirectory, forceSync: options.forceSync)
        log = try TransactionLog(
            directory: logDirectory, segmentSizeLimit: options.segmentSizeLimit, forceSync: options.forceSync)
    }

    /// Loads the newest valid snapshot and the logged transactions after it. Call once, before
    /// appending.
    ///
    /// - Throws: `.noValidSnapshot` if snapshot files exist but none is valid: the log may have
    ///   been purged up to them, so replaying it alone could silently lose data (move the damaged
    ///   files away to start from the log anyway). The log's `.corruptLog` /
    ///   `.nonIncreasingZxid` for damage that is not a torn tail, `.io`.
    public func recover() throws -> Recovery {
        let (snapshot, notes) = try recoverSnapshot()
        let transactions = try log.readEntries(after: snapshot?.zxid ?? 0)
        return Recovery(snapshot: snapshot, transactions: transactions, notes: notes)
    }

    /// The first half of ``recover()``: the newest valid snapshot and the notes, without reading
    /// the log. Replay the transactions after the snapshot with
    /// `log.forEachEntry(after: snapshot?.zxid ?? 0)`, one at a time.
    ///
    /// - Throws: `.noValidSnapshot`, as ``recover()``.
    public func recoverSnapshot() throws -> (snapshot: SnapshotStore.Snapshot?, notes: [String]) {
        var notes = log.recoveryNotes
        let snapshot = try snapshots.latest(notes: &notes)
        if snapshot == nil {
            let present = try snapshots.zxids()
            if !present.isEmpty {
                throw StorageError(
                    code: .noValidSnapshot,
                    message: "none of the \(present.count) snapshot files is valid ("
                        + notes.joined(separator: "; ") + "); the log alone may not hold every transaction",
                    path: snapshots.directory)
            }
        }
        return (snapshot, notes)
    }

    /// ZooKeeper's autopurge; see `SnapshotStore.purge(retain:log:)`.
    @discardableResult
    public func purge(retain count: Int = 3) throws -> PurgeReport {
        try snapshots.purge(retain: count, log: log)
    }

    /// Closes the log (flushing anything pending) and releases the directory locks, even if
    /// flushing fails.
    public func close() throws {
        defer { locks.forEach { $0.unlock() } }
        try log.close()
    }
}
