import Foundation
import Testing

@testable import ZooKeeperStorage

@Suite struct StorageTests {
    @Test func freshDirectoriesRecoverToNothing() throws {
        try withTemporaryDirectory { root in
            let storage = try Storage(dataDirectory: join(root, "data"))
            let recovery = try storage.recover()
            #expect(recovery == Storage.Recovery(snapshot: nil, transactions: [], notes: []))
            #expect(recovery.lastZxid == 0)
            #expect(storage.log.directory == join(root, "data/version-2"))
            #expect(storage.snapshots.directory == join(root, "data/version-2"))
            #expect(try fileNames(join(root, "data/version-2")) == [DataDirectoryLock.fileName])
            try storage.close()
        }
    }

    @Test func recoverLoadsTheSnapshotAndTheTransactionsAfterIt() throws {
        try withTemporaryDirectory { root in
            let data = join(root, "data")
            let logs = join(root, "datalog")
            do {
                let storage = try Storage(dataDirectory: data, dataLogDirectory: logs)
                try appendAndSync(storage.log, 1...10)
                try storage.snapshots.write(zxid: 6, bytes: Array("tree@6".utf8))
                storage.log.rollSegment()
                try appendAndSync(storage.log, 11...12)
                try storage.close()
            }
            #expect(try fileNames(join(data, "version-2")) == ["snapshot.6", "zksh.lock"])
            #expect(try fileNames(join(logs, "version-2")) == ["log.1", "log.b", "zksh.lock"])

            // A crash tore the newest entry.
            let newest = join(logs, "version-2/log.b")
            try writeFile(newest, Array(try readFile(newest).dropLast(3)))

            let storage = try Storage(dataDirectory: data, dataLogDirectory: logs)
            let recovery = try storage.recover()
            #expect(recovery.snapshot == .init(zxid: 6, bytes: Array("tree@6".utf8)))
            #expect(recovery.transactions == entries(7...11))
            #expect(recovery.lastZxid == 11)
            #expect(recovery.notes.count == 1)
            #expect(recovery.notes.first?.hasPrefix(newest + ": torn tail") == true)
            try storage.log.append(zxid: 12, bytes: [12])
            try storage.log.sync()
        }
    }

    @Test func theLogIsReplayedOneEntryAtATimeAcrossSegments() throws {
        try withTemporaryDirectory { root in
            let data = join(root, "data")
            let storage = try Storage(dataDirectory: data)
            try appendAndSync(storage.log, 1...5)
            try storage.snapshots.write(zxid: 3, bytes: [3])
            storage.log.rollSegment()
            try appendAndSync(storage.log, 6...9)
            storage.log.rollSegment()
            try appendAndSync(storage.log, 10...12)

            let (snapshot, notes) = try storage.recoverSnapshot()
            #expect(snapshot?.zxid == 3 && notes.isEmpty)
            var replayed: [TransactionLog.Entry] = []
            try storage.log.forEachEntry(after: 3) { replayed.append($0) }
            #expect(replayed == entries(4...12))
            #expect(replayed == (try storage.recover()).transactions)
            // A failure while applying an entry stops the replay there and is thrown.
            struct Stop: Error {}
            replayed = []
            #expect(throws: Stop.self) {
                try storage.log.forEachEntry(after: 0) { entry in
                    if entry.zxid == 8 { throw Stop() }
                    replayed.append(entry)
                }
            }
            #expect(replayed == entries(1...7))
            // A segment wholly before the zxid is not read at all: damage there does not matter.
            try flipByte(join(data, "version-2/log.1"), at: 40)
            replayed = []
            try storage.log.forEachEntry(after: 6) { replayed.append($0) }
            #expect(replayed == entries(7...12))
            #expect(throws: StorageError.self) { try storage.log.forEachEntry(after: 0) { _ in } }
            try storage.close()
        }
    }

    @Test func damagedSnapshotFallsBackAndAllDamagedIsAnError() throws {
        try withTemporaryDirectory { root in
            let data = join(root, "data")
            do {
                let storage = try Storage(dataDirectory: data)
                try appendAndSync(storage.log, 1...9)
                try storage.snapshots.write(zxid: 3, bytes: [3])
                try storage.snapshots.write(zxid: 6, bytes: [6])
                try storage.close()
            }
            try flipByte(join(data, "version-2/snapshot.6"), at: SnapshotFormat.headerSize)
            do {
                let storage = try Storage(dataDirectory: data)
                let recovery = try storage.recover()
                #expect(recovery.snapshot?.zxid == 3)
                #expect(recovery.transactions == entries(4...9))
                #expect(recovery.notes.count == 1)
                #expect(recovery.notes.first?.contains("snapshot.6: skipped: CRC mismatch") == true)
                try storage.close()
            }
            try flipByte(join(data, "version-2/snapshot.3"), at: 0)
            let storage = try Storage(dataDirectory: data)
            let error = #expect(throws: StorageError.self) { try storage.recover() }
            #expect(error?.code == .noValidSnapshot)
            #expect(error?.description.contains("none of the 2 snapshot files is valid") == true)
        }
    }

    @Test func aSecondServerCannotUseTheSameDirectories() throws {
        try withTemporaryDirectory { root in
            let data = join(root, "data")
            let first = try Storage(dataDirectory: data, dataLogDirectory: join(root, "log"))
            let sameData = #expect(throws: StorageError.self) { try Storage(dataDirectory: data) }
            #expect(sameData?.code == .directoryLocked)
            #expect(sameData?.path == join(data, "version-2"))
            #expect(sameData?.description.contains("in use by another server (pid \(getpid()))") == true)
            let sameLog = #expect(throws: StorageError.self) {
                try Storage(dataDirectory: join(root, "other"), dataLogDirectory: join(root, "log"))
            }
            #expect(sameLog?.code == .directoryLocked)
            #expect(sameLog?.path == join(root, "log/version-2"))

            try first.close()
            let second = try Storage(dataDirectory: data, dataLogDirectory: join(root, "log"))
            try second.close()
        }
    }

    @Test func directoryLockIsReleasedWithItsObject() throws {
        try withTemporaryDirectory { directory in
            do {
                let lock = try DataDirectoryLock(directory: directory)
                #expect(throws: StorageError.self) { try DataDirectoryLock(directory: directory) }
                withExtendedLifetime(lock) {}
            }
            let again = try DataDirectoryLock(directory: directory)
            again.unlock()
            again.unlock()
            _ = try DataDirectoryLock(directory: directory)
        }
    }

    @Test func purgeThroughTheFacade() throws {
        try withTemporaryDirectory { root in
            let storage = try Storage(dataDirectory: join(root, "data"))
            for zxid in Int64(1)...50 {
                try storage.log.append(zxid: zxid, bytes: payload(for: zxid))
                if zxid % 10 == 0 {
                    try storage.log.sync()
                    try storage.snapshots.write(zxid: zxid, bytes: [UInt8(zxid)])
                    storage.log.rollSegment()
                }
            }
            try storage.log.sync()
            let report = try storage.purge()
            #expect(report.oldestRetainedSnapshot == 30)
            #expect(report.removedSnapshots.count == 2)
            #expect(report.removedLogSegments.count == 3)
            try storage.close()

            let reopened = try Storage(dataDirectory: join(root, "data"))
            let recovery = try reopened.recover()
            #expect(recovery.snapshot == .init(zxid: 50, bytes: [50]))
            #expect(recovery.transactions == [])
            #expect(try reopened.log.readEntries(after: 30) == entries(31...50))
        }
    }
}
