import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import ZooKeeperStorage

@Suite struct TransactionLogTests {
    @Test func appendSyncAndReadBack() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            #expect(log.lastZxid == 0)
            #expect(log.durableZxid == 0)
            #expect(try log.readEntries(after: 0) == [])

            try log.append(zxid: 1, bytes: payload(for: 1))
            try log.append(zxid: 2, bytes: [])
            try log.append(zxid: 0x1_0000_0001, bytes: payload(for: 3, length: 70_000))
            #expect(log.lastZxid == 0x1_0000_0001)
            #expect(log.durableZxid == 0)
            #expect(try log.readEntries(after: 0) == [], "appended but not synced entries are not on disk")

            #expect(try log.sync() == 0x1_0000_0001)
            #expect(log.durableZxid == 0x1_0000_0001)
            #expect(try log.sync() == 0x1_0000_0001, "a sync with nothing pending changes nothing")
            let expected = [
                TransactionLog.Entry(zxid: 1, bytes: payload(for: 1)),
                TransactionLog.Entry(zxid: 2, bytes: []),
                TransactionLog.Entry(zxid: 0x1_0000_0001, bytes: payload(for: 3, length: 70_000)),
            ]
            #expect(try log.readEntries(after: 0) == expected)
            #expect(try log.readEntries(after: 1) == Array(expected[1...]))
            #expect(try log.readEntries(after: 0x1_0000_0001) == [])
            #expect(try fileNames(directory) == ["log.1"])
            try log.close()

            let reopened = try TransactionLog(directory: directory)
            #expect(reopened.lastZxid == 0x1_0000_0001)
            #expect(reopened.recoveryNotes == [])
            #expect(try reopened.readEntries(after: 0) == expected)
        }
    }

    @Test func appendRejectsNonIncreasingZxids() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            #expect(throws: StorageError.self) { try log.append(zxid: 0, bytes: []) }
            try log.append(zxid: 5, bytes: [])
            for zxid: Int64 in [5, 4, -1] {
                let error = #expect(throws: StorageError.self) { try log.append(zxid: zxid, bytes: []) }
                #expect(error?.code == .nonIncreasingZxid)
            }
            try log.append(zxid: 6, bytes: [])
            #expect(try log.sync() == 6)
        }
    }

    @Test func reopeningStartsANewSegmentAndKeepsOrder() throws {
        try withTemporaryDirectory { directory in
            do {
                let log = try TransactionLog(directory: directory)
                try appendAndSync(log, 1...3)
            }
            let log = try TransactionLog(directory: directory)
            let error = #expect(throws: StorageError.self) { try log.append(zxid: 3, bytes: []) }
            #expect(error?.code == .nonIncreasingZxid)
            try appendAndSync(log, 4...5)
            #expect(try fileNames(directory) == ["log.1", "log.4"])
            #expect(try log.readEntries(after: 0) == entries(1...5))
        }
    }

    @Test func rollsSegmentsBySize() throws {
        try withTemporaryDirectory { directory in
            // Each entry is 16 + 5...27 bytes, so a 100-byte limit holds a few entries per segment.
            let log = try TransactionLog(directory: directory, segmentSizeLimit: 100)
            for batch in stride(from: Int64(1), through: 200, by: 10) {
                try appendAndSync(log, batch..<(batch + 10))
            }
            let segments = log.segments
            #expect(segments.count > 30)
            #expect(try fileNames(directory) == segments.map { "log." + String($0.firstZxid, radix: 16) }.sorted())
            for segment in segments {
                let size = try fileSize(segment.path)
                let first = try entryOffset(in: segment.path, zxid: segment.firstZxid)
                #expect(first == LogFormat.fileHeaderSize, "a segment starts with the entry it is named after")
                // A segment is only allowed past the limit by its last entry.
                #expect(size < 100 + LogFormat.entryHeaderSize + 27)
            }
            #expect(try log.readEntries(after: 0) == entries(1...200))
            #expect(try log.readEntries(after: 137) == entries(138...200))
            #expect(try TransactionLog(directory: directory).readEntries(after: 99) == entries(100...200))
        }
    }

    @Test func rollSegmentStartsTheNextEntryInANewFile() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            try appendAndSync(log, 1...3)
            log.rollSegment()
            try appendAndSync(log, 4...4)
            // A roll requested while entries are pending applies to the next entry only.
            try log.append(zxid: 5, bytes: payload(for: 5))
            log.rollSegment()
            try log.append(zxid: 6, bytes: payload(for: 6))
            try log.append(zxid: 7, bytes: payload(for: 7))
            try log.sync()
            #expect(log.segments.map(\.firstZxid) == [1, 4, 6])
            #expect(try log.readEntries(after: 0) == entries(1...7))
            #expect(try log.readEntries(after: 5) == entries(6...7))
        }
    }

    @Test func closeFlushesAndThenRefusesWrites() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            try log.append(zxid: 1, bytes: payload(for: 1))
            try log.close()
            #expect(log.durableZxid == 1)
            let error = #expect(throws: StorageError.self) { try log.append(zxid: 2, bytes: []) }
            #expect(error?.code == .closed)
            #expect(try log.readEntries(after: 0) == entries(1...1))
            #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...1))
        }
    }

    @Test func failedFsyncFailsTheLogForGood() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(
                directory: directory, segmentSizeLimit: 1 << 20, forceSync: true,
                createSegmentFile: { FailingSegmentFile(inner: try POSIXSegmentFile.create($0), failure: .synchronize) })
            try log.append(zxid: 1, bytes: payload(for: 1))
            let error = #expect(throws: StorageError.self) { try log.sync() }
            #expect(error?.code == .io)
            #expect(error?.errno == EIO)
            #expect(log.durableZxid == 0)
            for attempt in [{ try log.append(zxid: 2, bytes: []) }, { _ = try log.sync() }, { try log.truncate(after: 0) }] {
                let later = #expect(throws: StorageError.self) { try attempt() }
                #expect(later?.code == .logFailed)
            }
            try log.close()
            // Reopening recovers whatever reached the disk; here the write itself succeeded.
            #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...1))
        }
    }

    @Test func concurrentAppendsDoNotWaitForSync() throws {
        // Appends on one thread while another syncs in a loop: everything ends up on disk, in order.
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory, segmentSizeLimit: 4096)
            let done = Flag()
            Thread.detachNewThread {
                for zxid in Int64(1)...2000 { try! log.append(zxid: zxid, bytes: payload(for: zxid)) }
                done.signal()
            }
            while !done.isSignalled { try log.sync() }
            try log.sync()
            #expect(log.durableZxid == 2000)
            #expect(try log.readEntries(after: 0) == entries(1...2000))
        }
    }
}
