import Dispatch

/// Group commit: takes appends from the server's event loop and makes them durable in batches on
/// its own serial queue, so one fdatasync covers every transaction that arrived while the
/// previous one ran.
///
/// `append` is cheap (it buffers in the log and, if no flush is queued, queues one). Each flush
/// calls `TransactionLog.sync()` and then `completion`:
/// - `.success(durableUpTo)` after each flush that made new entries durable. Values strictly
///   increase; every entry with `zxid <= durableUpTo` is on stable storage, so the server may
///   acknowledge those clients (hop back to the event loop first: the completion runs on the
///   committer's queue, one call at a time).
/// - `.failure(error)` once, for the first write or fsync error (disk full, EIO). No completion
///   follows it and later `append`s throw. The server should stop: ZooKeeper exits on a log write
///   failure, and the durable state of the failed batch is unknown until the log is reopened.
///
/// Appends must arrive in zxid order (one event loop does that naturally). The completion may
/// call `append`, but not `close()` (that waits for the queue the completion runs on).
public final class GroupCommitter: @unchecked Sendable {
    /// Called on the committer's queue with the new durable zxid, or the write error.
    public typealias Completion = @Sendable (Result<Int64, StorageError>) -> Void

    /// The log this committer writes; do not call its `sync`, `truncate` or `close` while the
    /// committer is open.
    public let log: TransactionLog

    private let queue: DispatchQueue
    private let completion: Completion
    /// Test hook: runs on the queue after each `sync()`, before the completion.
    private let afterSync: (@Sendable () -> Void)?

    private let lock = StorageLock()
    private var flushQueued = false
    private var isClosed = false
    /// Only touched on `queue`.
    private var reportedZxid: Int64
    private var reportedFailure = false

    /// - Parameters:
    ///   - log: an open log; the committer reports progress beyond its current `durableZxid`.
    ///   - label: the dispatch queue's label, for debuggers.
    ///   - completion: see the type's documentation.
    public convenience init(
        log: TransactionLog, label: String = "zksh.storage.group-commit", completion: @escaping Completion
    ) {
        self.init(log: log, label: label, afterSync: nil, completion: completion)
    }

    init(
        log: TransactionLog, label: String, afterSync: (@Sendable () -> Void)?, completion: @escaping Completion
    ) {
        self.log = log
        self.queue = DispatchQueue(label: label, qos: .userInitiated)
        self.completion = completion
        self.afterSync = afterSync
        self.reportedZxid = log.durableZxid
    }

    /// Buffers a transaction and makes sure a flush will pick it up. Never waits for disk IO.
    ///
    /// - Throws: what `TransactionLog.append` throws (`.nonIncreasingZxid`, `.logFailed` after a
    ///   failure), or `.closed` after `close()`.
    public func append(zxid: Int64, bytes: [UInt8]) throws {
        let queueFlush: Bool = try lock.withLock {
            guard !isClosed else {
                throw StorageError(code: .closed, message: "the group committer is closed", path: log.directory)
            }
            try log.append(zxid: zxid, bytes: bytes)
            defer { flushQueued = true }
            return !flushQueued
        }
        if queueFlush { queue.async { self.flush() } }
    }

    /// Drops every entry after `zxid` (a Zab TRUNC, or the divergent tail below an installed
    /// snapshot), first making the entries before it durable. Runs on the committer's queue and
    /// waits for it, so no flush races the cut; progress reports restart from the cut.
    /// - Throws: what `TransactionLog.truncate(after:)` throws.
    public func truncate(after zxid: Int64) throws {
        try queue.sync {
            try log.truncate(after: zxid)
            reportedZxid = log.durableZxid
        }
    }

    /// Stops accepting appends, makes everything appended so far durable (its completion fires
    /// before this returns) and waits for the queue to go idle. Does not close the log.
    public func close() {
        lock.withLock { isClosed = true }
        queue.sync { self.flush() }
    }

    /// Runs on `queue`. Appends arriving after `flushQueued` is cleared queue the next flush, so
    /// nothing appended is ever left unflushed.
    private func flush() {
        lock.withLock { flushQueued = false }
        guard !reportedFailure else { return }
        let result: Result<Int64, StorageError>
        do {
            result = .success(try log.sync())
        } catch {
            result = .failure(error as? StorageError ?? StorageError(code: .io, message: "\(error)"))
        }
        afterSync?()
        switch result {
        case .success(let durable):
            guard durable > reportedZxid else { return }
            reportedZxid = durable
        case .failure:
            reportedFailure = true
        }
        completion(result)
    }
}
