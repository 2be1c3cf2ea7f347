#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-tree snapshots as opaque bytes, one checksummed file per snapshot
/// (`snapshot.<zxid in hex>`, format in `SnapshotFormat`), written atomically.
///
/// Thread safety: all methods may be called from any thread; they are serialised, so a long
/// `write` delays `latest` and `purge` until it is done.
public final class SnapshotStore: @unchecked Sendable {
    /// A snapshot: the serialized tree including every transaction up to and including `zxid`.
    public struct Snapshot: Sendable, Hashable {
        /// The last transaction the snapshot includes.
        public var zxid: Int64
        /// The serialized tree (and sessions), opaque to storage.
        public var bytes: [UInt8]
        /// A snapshot value.
        public init(zxid: Int64, bytes: [UInt8]) {
            self.zxid = zxid
            self.bytes = bytes
        }
    }

    /// The directory holding the snapshot files.
    public let directory: String
    /// Whether writes are fsynced (ZooKeeper's `forceSync`); `false` only for tests.
    public let forceSync: Bool

    private let lock = StorageLock()

    /// Opens (creating if needed) the snapshot directory.
    public init(directory: String, forceSync: Bool = true) throws {
        self.directory = directory
        self.forceSync = forceSync
        try POSIXFile.createDirectory(directory)
    }

    /// Atomically stores a snapshot: writes `snapshot.<zxid>.tmp`, fsyncs it, renames it to
    /// `snapshot.<zxid>` and fsyncs the directory. After a crash either the whole snapshot is
    /// there or none of it (a leftover `.tmp` file is ignored and removed by `purge`). An existing
    /// snapshot of the same zxid is replaced.
    ///
    /// - Precondition: `zxid >= 0`; checked (`.invalidArgument`).
    /// - Throws: `.io` (the temporary file is removed).
    public func write(zxid: Int64, bytes: [UInt8]) throws {
        _ = try write(zxid: zxid) { emit in try bytes.withUnsafeBytes { try emit($0) } }
    }

    /// Stores a snapshot whose payload `produce` hands over in pieces, in order, through the
    /// function it is given; written as ``write(zxid:bytes:)`` writes, without ever holding the
    /// whole payload in memory.
    ///
    /// - Returns: the payload's length in bytes.
    /// - Throws: `.io`, or what `produce` throws (the temporary file is removed).
    @discardableResult
    public func write(
        zxid: Int64, streaming produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Int {
        guard zxid >= 0 else {
            throw StorageError(code: .invalidArgument, message: "snapshot zxid \(zxid) is negative", path: directory)
        }
        return try lock.withLock {
            let path = POSIXFile.join(directory, SnapshotFormat.fileName(zxid: zxid))
            let temporary = path + SnapshotFormat.temporarySuffix
            let fd = try POSIXFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
            var length = 0
            do {
                var checksum = CRC32C()
                try produce { piece in
                    try POSIXFile.write(fd, piece, at: SnapshotFormat.headerSize + length, path: temporary)
                    checksum.update(piece)
                    length += piece.count
                }
                // The header last, at the start: it holds the payload's length and checksum.
                let header = SnapshotFormat.header(zxid: zxid, payloadLength: length, payloadChecksum: checksum.value)
                try header.withUnsafeBytes { try POSIXFile.write(fd, $0, at: 0, path: temporary) }
                if forceSync { try POSIXFile.syncData(fd, path: temporary) }
                POSIXFile.close(fd)
                try POSIXFile.rename(temporary, to: path)
            } catch {
                POSIXFile.close(fd)
                try? POSIXFile.unlink(temporary)
                throw error
            }
            if forceSync { try POSIXFile.syncDirectory(directory) }
            return length
        }
    }

    /// The zxids of the snapshot files present, newest first, whether valid or not.
    public func zxids() throws -> [Int64] {
        try lock.withLock { try zxidsLocked() }
    }

    /// The newest valid snapshot, or `nil` if there is none. Damaged snapshots are skipped;
    /// use `latest(notes:)` to learn about them.
    public func latest() throws -> Snapshot? {
        var notes: [String] = []
        return try latest(notes: &notes)
    }

    /// The newest valid snapshot, or `nil` if there is none. Every newer snapshot that was skipped
    /// because it is damaged or unreadable adds a sentence to `notes` naming the file and why.
    /// - Throws: `.io` only if the directory cannot be listed.
    public func latest(notes: inout [String]) throws -> Snapshot? {
        try lock.withLock {
            for zxid in try zxidsLocked() {
                let path = POSIXFile.join(directory, SnapshotFormat.fileName(zxid: zxid))
                switch readLocked(path: path, zxid: zxid) {
                case .success(let snapshot):
                    return snapshot
                case .failure(let problem):
                    notes.append("\(path): skipped: \(problem)")
                }
            }
            return nil
        }
    }

    /// The snapshot of exactly `zxid`.
    /// - Throws: `.corruptSnapshot` if it is damaged or missing.
    public func read(zxid: Int64) throws -> Snapshot {
        try lock.withLock {
            let path = POSIXFile.join(directory, SnapshotFormat.fileName(zxid: zxid))
            switch readLocked(path: path, zxid: zxid) {
            case .success(let snapshot): return snapshot
            case .failure(let problem):
                throw StorageError(code: .corruptSnapshot, message: problem.description, path: path)
            }
        }
    }

    /// ZooKeeper's autopurge: keeps the newest `count` valid snapshots (at least 3; smaller values
    /// are raised to 3, as ZooKeeper does) and removes older snapshot files, leftover temporary
    /// files and, if `log` is given, the log segments only needed to replay onto the removed
    /// snapshots (`TransactionLog.removeSegments(coveredBy:)` with the oldest kept snapshot).
    /// Damaged snapshots newer than the oldest kept one are left alone (`latest` skips them).
    /// Every kept candidate is checked in full (its CRC), reading it in 1 MiB chunks.
    ///
    /// With no valid snapshot nothing but temporary files is removed.
    public func purge(retain count: Int, log: TransactionLog?) throws -> PurgeReport {
        let retain = max(count, PurgePlanner.minimumRetainCount)
        var report = PurgeReport()
        let oldestKept: Int64? = try lock.withLock {
            for name in try POSIXFile.list(directory)
            where name.hasPrefix(SnapshotFormat.fileNamePrefix) && name.hasSuffix(SnapshotFormat.temporarySuffix) {
                let path = POSIXFile.join(directory, name)
                try POSIXFile.unlink(path)
                report.removedTemporaryFiles.append(path)
            }
            let all = try zxidsLocked()
            var valid: [Int64] = []
            for zxid in all where valid.count < retain {
                if validateLocked(path: POSIXFile.join(directory, SnapshotFormat.fileName(zxid: zxid)), zxid: zxid) == nil {
                    valid.append(zxid)
                }
            }
            guard let oldest = PurgePlanner.oldestRetainedSnapshot(validZxids: valid, retain: retain) else {
                return nil
            }
            for zxid in all.reversed() where zxid < oldest {
                let path = POSIXFile.join(directory, SnapshotFormat.fileName(zxid: zxid))
                try POSIXFile.unlink(path)
                report.removedSnapshots.append(path)
            }
            if forceSync && !(report.removedSnapshots.isEmpty && report.removedTemporaryFiles.isEmpty) {
                try POSIXFile.syncDirectory(directory)
            }
            return oldest
        }
        report.oldestRetainedSnapshot = oldestKept
        if let oldestKept, let log {
            report.removedLogSegments = try log.removeSegments(coveredBy: oldestKept)
        }
        return report
    }

    // MARK: - Internals

    private func zxidsLocked() throws -> [Int64] {
        try POSIXFile.list(directory)
            .compactMap { zxid(fromFileName: $0, prefix: SnapshotFormat.fileNamePrefix) }
            .sorted(by: >)
    }

    private func readLocked(path: String, zxid: Int64) -> Result<Snapshot, SnapshotProblem> {
        var file: [UInt8]
        do {
            file = try POSIXFile.readAll(path)
        } catch {
            return .failure(SnapshotProblem("unreadable: \(error)"))
        }
        let checked: Result<Void, SnapshotProblem> = file.withUnsafeBytes { raw in
            SnapshotFormat.parseHeader(raw, fileSize: raw.count, expectedZxid: zxid).flatMap { header in
                let payload = UnsafeRawBufferPointer(rebasing: raw[SnapshotFormat.headerSize...])
                var crc = CRC32C()
                crc.update(UnsafeRawBufferPointer(rebasing: raw[8..<24]))
                crc.update(payload)
                guard crc.value == header.crc else {
                    return .failure(
                        SnapshotProblem("CRC mismatch (stored \(hex32(header.crc)), computed \(hex32(crc.value)))"))
                }
                return .success(())
            }
        }
        return checked.map {
            // The payload moves to the front of the file's own buffer: a large tree's snapshot
            // is not held twice.
            file.removeFirst(SnapshotFormat.headerSize)
            return Snapshot(zxid: zxid, bytes: file)
        }
    }

    /// Checks a snapshot without holding it in memory; `nil` if it is valid.
    private func validateLocked(path: String, zxid: Int64) -> SnapshotProblem? {
        do {
            let fd = try POSIXFile.open(path, flags: O_RDONLY)
            defer { POSIXFile.close(fd) }
            let size = try POSIXFile.size(fd, path: path)
            let headerBytes = try POSIXFile.read(fd, upTo: SnapshotFormat.headerSize, at: 0, path: path)
            let header: SnapshotFormat.Header
            switch headerBytes.withUnsafeBytes({
                SnapshotFormat.parseHeader($0, fileSize: size, expectedZxid: zxid)
            }) {
            case .success(let parsed): header = parsed
            case .failure(let problem): return problem
            }
            var crc = CRC32C()
            crc.update(headerBytes[8..<24])
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var offset = SnapshotFormat.headerSize
            while true {
                let count = try POSIXFile.read(fd, into: &chunk, at: offset, path: path)
                if count == 0 { break }
                crc.update(chunk[0..<count])
                offset += count
            }
            guard offset == size else { return SnapshotProblem("file changed size while being checked") }
            return crc.value == header.crc ? nil : SnapshotProblem("CRC mismatch")
        } catch {
            return SnapshotProblem("unreadable: \(error)")
        }
    }
}
