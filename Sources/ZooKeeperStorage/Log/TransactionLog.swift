#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The write-ahead log of transactions: opaque payloads tagged with strictly increasing zxids,
/// stored in checksummed segment files (`log.<first zxid in hex>`, format in `LogFormat`).
///
/// Life cycle:
/// 1. `init` opens the directory and repairs a torn tail left by a crash (see `recoveryNotes`).
/// 2. `forEachEntry(after:_:)` hands over what is on disk one segment at a time, to replay on
///    top of a snapshot (`readEntries(after:)` collects it in an array).
/// 3. `append(zxid:bytes:)` buffers in memory; `sync()` writes and fsyncs everything appended so
///    far. Acknowledge a transaction only once `durableZxid` (or `sync()`'s result) reaches it.
///    `GroupCommitter` runs `sync()` on its own queue and batches for you.
///
/// Thread safety: every method may be called from any thread. `append` only takes a short lock,
/// so it never waits for a `sync()` running on another thread; `sync`, `truncate`,
/// `readEntries`, `removeSegments` and `close` are serialised with each other. Appends must still
/// arrive in zxid order, so callers appending from several threads must order them themselves.
///
/// After a write or fsync fails, the log is *failed*: the failing call and every later `append`,
/// `sync` and `truncate` throw (`.logFailed` after the first). What reached the disk is unknown
/// (fsync errors are not retryable), so the process should stop and reopen the log, which repairs
/// the tail. ZooKeeper exits on a log write failure for the same reason.
public final class TransactionLog: @unchecked Sendable {
    /// One transaction as stored.
    public struct Entry: Sendable, Hashable {
        /// The transaction's zxid (`epoch << 32 | counter`).
        public var zxid: Int64
        /// The serialized transaction, opaque to storage.
        public var bytes: [UInt8]
        /// An entry; see `append(zxid:bytes:)` for the constraints on `zxid`.
        public init(zxid: Int64, bytes: [UInt8]) {
            self.zxid = zxid
            self.bytes = bytes
        }
    }

    /// One segment file, named after the zxid of its first entry.
    public struct Segment: Sendable, Hashable {
        /// The zxid of the segment's first entry, which names the file.
        public var firstZxid: Int64
        /// The file's path.
        public var path: String
    }

    /// Segment size at which the next entry starts a new segment: 64 MiB, as in ZooKeeper.
    public static let defaultSegmentSizeLimit = 64 << 20

    /// The directory holding the segment files.
    public let directory: String
    /// Once a segment reaches this many bytes, the next entry goes into a new segment.
    public let segmentSizeLimit: Int
    /// Whether `sync()` calls fdatasync (ZooKeeper's `forceSync`). Turning it off gives up
    /// durability on power loss and is only for tests and throwaway servers.
    public let forceSync: Bool
    /// What opening the log repaired, one sentence each: a torn tail truncated, a segment that
    /// never got its first entry removed. Empty after a clean shutdown.
    public let recoveryNotes: [String]

    private struct PendingEntry {
        var zxid: Int64
        var bytes: [UInt8]
        var startsSegment: Bool
    }

    private final class ActiveSegment {
        let handle: any SegmentFileHandle
        var size: Int
        init(handle: any SegmentFileHandle, size: Int) {
            self.handle = handle
            self.size = size
        }
    }

    // Lock order: `ioLock` before `stateLock`, never the other way round.

    /// Guards the fields below it; held only briefly.
    private let stateLock = StorageLock()
    private var pending: [PendingEntry] = []
    private var appendedZxid: Int64
    private var syncedZxid: Int64
    private var rollRequested = false
    private var failure: StorageError?
    private var isClosed = false

    /// Serialises all file IO and guards the fields below it.
    private let ioLock = StorageLock()
    private var segmentList: [Segment]
    private var active: ActiveSegment?
    private let createSegmentFile: SegmentFileCreator

    /// Opens (creating if needed) the log in `directory` and repairs a torn tail.
    ///
    /// Only the newest segment is read here: if its end is a partial entry, zeroes, garbage or an
    /// entry with a bad CRC, and no valid entry follows the damage, the file is truncated (or
    /// removed, if not even its first entry survived) and a note added to `recoveryNotes`.
    /// The first `append` after opening starts a new segment, as ZooKeeper does.
    ///
    /// - Parameters:
    ///   - segmentSizeLimit: bytes after which a new segment is started; must be positive.
    ///   - forceSync: `false` skips fdatasync (tests only).
    /// - Throws: `.corruptLog` / `.nonIncreasingZxid` for damage that is not a torn tail, `.io`.
    public convenience init(
        directory: String, segmentSizeLimit: Int = TransactionLog.defaultSegmentSizeLimit, forceSync: Bool = true
    ) throws {
        try self.init(
            directory: directory, segmentSizeLimit: segmentSizeLimit, forceSync: forceSync,
            createSegmentFile: POSIXSegmentFile.create)
    }

    init(
        directory: String, segmentSizeLimit: Int, forceSync: Bool, createSegmentFile: @escaping SegmentFileCreator
    ) throws {
        precondition(segmentSizeLimit > 0, "segmentSizeLimit must be positive")
        self.directory = directory
        self.segmentSizeLimit = segmentSizeLimit
        self.forceSync = forceSync
        self.createSegmentFile = createSegmentFile
        try POSIXFile.createDirectory(directory)

        var segments = try Self.listSegments(in: directory)
        var notes: [String] = []
        var lastZxid: Int64 = 0
        var isNewest = true
        while let segment = segments.last {
            let bytes = try POSIXFile.readAll(segment.path)
            let scan = try LogFormat.scanSegment(
                bytes, path: segment.path, firstZxid: segment.firstZxid, previousZxid: segment.firstZxid &- 1,
                allowTornTail: isNewest)
            if scan.entries.isEmpty {
                // Only a crash while the segment's first batch was being written leaves this.
                guard isNewest else {
                    throw StorageError.corruptLog("segment has no entries", path: segment.path, offset: bytes.count)
                }
                try POSIXFile.unlink(segment.path)
                if forceSync { try POSIXFile.syncDirectory(directory) }
                notes.append(
                    "\(segment.path): removed \(bytes.count) bytes: torn write before the first entry was complete"
                        + (scan.tornTail.map { " (\($0))" } ?? ""))
                segments.removeLast()
                isNewest = false
                continue
            }
            if let torn = scan.tornTail {
                let fd = try POSIXFile.open(segment.path, flags: O_RDWR)
                defer { POSIXFile.close(fd) }
                try POSIXFile.truncate(fd, to: scan.validLength, path: segment.path)
                if forceSync { try POSIXFile.syncData(fd, path: segment.path) }
                notes.append(
                    "\(segment.path): torn tail at offset \(scan.validLength) (\(torn)); truncated "
                        + "\(bytes.count - scan.validLength) bytes after zxid 0x\(zxidHex(scan.entries.last!.zxid))")
            }
            lastZxid = scan.entries.last!.zxid
            break
        }
        segmentList = segments
        recoveryNotes = notes
        appendedZxid = lastZxid
        syncedZxid = lastZxid
    }

    deinit {
        active?.handle.close()
    }

    // MARK: - State

    /// The zxid of the last appended entry, durable or not; 0 for an empty log.
    public var lastZxid: Int64 { stateLock.withLock { appendedZxid } }

    /// The zxid of the last entry known to be on stable storage; 0 for an empty log.
    public var durableZxid: Int64 { stateLock.withLock { syncedZxid } }

    /// The segment files, oldest first. Waits for a `sync()` in progress.
    public var segments: [Segment] { ioLock.withLock { segmentList } }

    // MARK: - Writing

    /// Buffers a transaction; nothing reaches the disk until `sync()`.
    ///
    /// - Precondition: `zxid` is larger than `lastZxid` (so at least 1); checked, not trapped.
    /// - Throws: `.nonIncreasingZxid`, `.invalidArgument` for payloads of 4 GiB or more,
    ///   `.logFailed` after a write failure, `.closed` after `close()`.
    public func append(zxid: Int64, bytes: [UInt8]) throws {
        guard bytes.count <= LogFormat.maximumPayloadSize else {
            throw StorageError(code: .invalidArgument, message: "payload of \(bytes.count) bytes is too large")
        }
        try stateLock.withLock {
            try checkUsableLocked()
            guard zxid > appendedZxid else {
                throw StorageError(
                    code: .nonIncreasingZxid,
                    message: "append of zxid 0x\(zxidHex(zxid)) after 0x\(zxidHex(appendedZxid))",
                    path: directory)
            }
            pending.append(PendingEntry(zxid: zxid, bytes: bytes, startsSegment: rollRequested))
            rollRequested = false
            appendedZxid = zxid
        }
    }

    /// Makes the next appended entry start a new segment (for example after a snapshot, so old
    /// segments can be purged sooner). Entries appended before the call stay in the current one.
    public func rollSegment() {
        stateLock.withLock { rollRequested = true }
    }

    /// Writes everything appended so far, fdatasyncs it (and the directory, if a segment was
    /// created) and returns the new `durableZxid`. Appends made while this runs wait for the next
    /// call. Returns at once if nothing is pending.
    ///
    /// - Throws: the write or fsync error (the log is failed from then on), `.logFailed`, `.closed`.
    @discardableResult
    public func sync() throws -> Int64 {
        try ioLock.withLock { try writePendingLocked() }
    }

    /// Flushes pending entries and closes the active segment. Later `append`/`sync`/`truncate`
    /// calls throw `.closed`; `readEntries` still works.
    public func close() throws {
        try ioLock.withLock {
            defer {
                active?.handle.close()
                active = nil
                stateLock.withLock { isClosed = true }
            }
            let closed = stateLock.withLock { isClosed || failure != nil }
            if !closed { _ = try writePendingLocked() }
        }
    }

    // MARK: - Reading

    /// The entries on disk with a zxid larger than `zxid`, in order. Entries appended but not yet
    /// synced are not included. Segments that only hold older entries are not read.
    ///
    /// Blocks `sync()` while it reads; meant for recovery and for sending a follower the
    /// transactions it misses.
    /// - Throws: `.corruptLog` (naming the file and offset) for any damaged entry or header,
    ///   `.nonIncreasingZxid` if zxids go backwards within or across segments, `.io`.
    public func readEntries(after zxid: Int64) throws -> [Entry] {
        var result: [Entry] = []
        try forEachEntry(after: zxid) { result.append($0) }
        return result
    }

    /// Hands every entry with a zxid larger than `zxid` to `body`, in zxid order, reading one
    /// segment at a time: at most one segment's bytes are held at once, however long the log.
    public func forEachEntry(after zxid: Int64, _ body: (Entry) throws -> Void) throws {
        try ioLock.withLock {
            var previous = Int64.min
            for (index, segment) in segmentList.enumerated() {
                if index + 1 < segmentList.count, segmentList[index + 1].firstZxid - 1 <= zxid { continue }
                let bytes = try POSIXFile.readAll(segment.path)
                let scan = try LogFormat.scanSegment(
                    bytes, path: segment.path, firstZxid: segment.firstZxid, previousZxid: previous,
                    allowTornTail: false)
                guard let last = scan.entries.last else {
                    throw StorageError.corruptLog("segment has no entries", path: segment.path, offset: bytes.count)
                }
                for entry in scan.entries where entry.zxid > zxid {
                    try body(Entry(zxid: entry.zxid, bytes: Array(bytes[entry.payload])))
                }
                previous = last.zxid
            }
        }
    }

    // MARK: - Truncation and purge

    /// Durably drops every entry with a zxid larger than `zxid` (ZooKeeper's TRUNC, sent by a new
    /// leader). Pending entries are synced first; afterwards `lastZxid` and `durableZxid` are the
    /// last remaining entry's zxid (0 if none remain) and the next append starts a new segment.
    ///
    /// Newer segments are removed newest first, each removal made durable before the next, so a
    /// crash part-way leaves a shorter log, never one with a hole.
    /// - Precondition: no appends run concurrently (entries appended meanwhile may be dropped).
    /// - Throws: `.io` (the log is failed from then on), `.corruptLog` if the segment to cut is damaged.
    public func truncate(after zxid: Int64) throws {
        try ioLock.withLock {
            let synced = try writePendingLocked()
            guard zxid < synced else { return }
            do {
                active?.handle.close()
                active = nil
                while let last = segmentList.last, last.firstZxid > zxid {
                    try POSIXFile.unlink(last.path)
                    segmentList.removeLast()
                    if forceSync { try POSIXFile.syncDirectory(directory) }
                }
                var remaining: Int64 = 0
                if let last = segmentList.last {
                    let bytes = try POSIXFile.readAll(last.path)
                    let scan = try LogFormat.scanSegment(
                        bytes, path: last.path, firstZxid: last.firstZxid, previousZxid: last.firstZxid &- 1,
                        allowTornTail: false)
                    if let cut = scan.entries.first(where: { $0.zxid > zxid }) {
                        let fd = try POSIXFile.open(last.path, flags: O_RDWR)
                        defer { POSIXFile.close(fd) }
                        try POSIXFile.truncate(fd, to: cut.offset, path: last.path)
                        if forceSync { try POSIXFile.syncData(fd, path: last.path) }
                    }
                    remaining = scan.entries.last(where: { $0.zxid <= zxid })?.zxid ?? 0
                }
                stateLock.withLock {
                    pending.removeAll { $0.zxid > zxid }
                    appendedZxid = pending.last?.zxid ?? remaining
                    syncedZxid = remaining
                }
            } catch {
                throw fail(with: error)
            }
        }
    }

    /// Removes the oldest segments whose entries are all at or below `snapshotZxid`, so they are
    /// no longer needed once a snapshot of that zxid is kept. A segment is removable when the next
    /// segment starts at or below `snapshotZxid + 1`; the newest segment is never removed.
    /// - Returns: the paths removed, oldest first.
    @discardableResult
    public func removeSegments(coveredBy snapshotZxid: Int64) throws -> [String] {
        try ioLock.withLock {
            let count = PurgePlanner.removableSegmentCount(
                firstZxids: segmentList.map(\.firstZxid), snapshotZxid: snapshotZxid)
            var removed: [String] = []
            defer { segmentList.removeFirst(removed.count) }
            for segment in segmentList.prefix(count) {
                try POSIXFile.unlink(segment.path)
                removed.append(segment.path)
            }
            if !removed.isEmpty && forceSync { try POSIXFile.syncDirectory(directory) }
            return removed
        }
    }

    // MARK: - Internals

    /// Throws if the log can no longer be written. Call with `stateLock` held.
    private func checkUsableLocked() throws {
        if let failure {
            throw StorageError(
                code: .logFailed, message: "an earlier write failed; reopen the log (\(failure))", path: failure.path)
        }
        if isClosed { throw StorageError(code: .closed, message: "the transaction log is closed", path: directory) }
    }

    /// Marks the log failed and returns the error to throw. Call with `ioLock` held.
    private func fail(with error: any Error) -> StorageError {
        let failure = error as? StorageError ?? StorageError(code: .io, message: "\(error)", path: directory)
        stateLock.withLock { self.failure = failure }
        active?.handle.close()
        active = nil
        return failure
    }

    /// Writes and syncs the pending entries. Call with `ioLock` held.
    private func writePendingLocked() throws -> Int64 {
        let batch: [PendingEntry] = try stateLock.withLock {
            try checkUsableLocked()
            defer { pending = [] }
            return pending
        }
        guard let last = batch.last else { return stateLock.withLock { syncedZxid } }
        do {
            try write(batch)
        } catch {
            throw fail(with: error)
        }
        stateLock.withLock { syncedZxid = last.zxid }
        return last.zxid
    }

    /// Appends `batch` to the active segment, rolling to new segments as needed, then syncs.
    /// A segment is synced and closed before the next one gets any data, so after a crash only the
    /// newest segment can have a torn tail.
    private func write(_ batch: [PendingEntry]) throws {
        var buffer: [UInt8] = []
        var createdSegment = false
        func writeBuffer() throws {
            guard let active, !buffer.isEmpty else { return }
            try active.handle.write(buffer, at: active.size)
            active.size += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        for entry in batch {
            let size = (active?.size ?? 0) + buffer.count
            if active == nil || entry.startsSegment || size >= segmentSizeLimit {
                if let current = active {
                    try writeBuffer()
                    if forceSync { try current.handle.synchronize() }
                    current.handle.close()
                    active = nil
                }
                let path = POSIXFile.join(directory, LogFormat.fileName(firstZxid: entry.zxid))
                active = ActiveSegment(handle: try createSegmentFile(path), size: 0)
                segmentList.append(Segment(firstZxid: entry.zxid, path: path))
                createdSegment = true
                LogFormat.appendFileHeader(firstZxid: entry.zxid, to: &buffer)
            }
            LogFormat.appendEntry(zxid: entry.zxid, payload: entry.bytes, to: &buffer)
        }
        try writeBuffer()
        if forceSync {
            try active?.handle.synchronize()
            if createdSegment { try POSIXFile.syncDirectory(directory) }
        }
    }

    private static func listSegments(in directory: String) throws -> [Segment] {
        let segments = try POSIXFile.list(directory).compactMap { name -> Segment? in
            guard let zxid = zxid(fromFileName: name, prefix: LogFormat.fileNamePrefix) else { return nil }
            return Segment(firstZxid: zxid, path: POSIXFile.join(directory, name))
        }.sorted { $0.firstZxid < $1.firstZxid }
        for (earlier, later) in zip(segments, segments.dropFirst()) where earlier.firstZxid == later.firstZxid {
            throw StorageError.corruptLog(
                "two segment files start at zxid 0x\(zxidHex(later.firstZxid)) (\(earlier.path))", path: later.path,
                offset: nil)
        }
        return segments
    }
}
