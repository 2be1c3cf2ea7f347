import Testing

@testable import ZooKeeperStorage

@Suite struct TruncateTests {
    /// 1...60 in segments of about 100 bytes.
    private func makeLog(_ directory: String) throws -> TransactionLog {
        let log = try TransactionLog(directory: directory, segmentSizeLimit: 100)
        for start in stride(from: Int64(1), through: 60, by: 6) { try appendAndSync(log, start..<(start + 6)) }
        return log
    }

    @Test func truncateInsideASegment() throws {
        try withTemporaryDirectory { directory in
            let log = try makeLog(directory)
            let firsts = log.segments.map(\.firstZxid)
            // A zxid in the middle of a segment (neither its first nor its last entry).
            let target = zip(firsts, firsts.dropFirst()).first { $0 > 20 && $1 - $0 >= 3 }!.0 + 1

            try log.truncate(after: target)
            #expect(log.lastZxid == target)
            #expect(log.durableZxid == target)
            #expect(log.segments.map(\.firstZxid) == firsts.filter { $0 <= target })
            #expect(try fileNames(directory).count == firsts.filter { $0 <= target }.count)
            #expect(try log.readEntries(after: 0) == entries(1...target))

            // New history continues from the target, in a new segment.
            try log.append(zxid: target + 1, bytes: [0x38])
            try log.sync()
            #expect(log.segments.last?.firstZxid == target + 1)
            let reopened = try TransactionLog(directory: directory)
            #expect(reopened.recoveryNotes == [])
            #expect(try reopened.readEntries(after: 0) == entries(1...target) + [.init(zxid: target + 1, bytes: [0x38])])
        }
    }

    @Test func truncateAtSegmentBoundaries() throws {
        try withTemporaryDirectory { directory in
            let log = try makeLog(directory)
            let firsts = log.segments.map(\.firstZxid)
            let boundary = firsts[firsts.count / 2]
            let sizeBefore = try fileSize(log.segments[firsts.count / 2 - 1].path)

            // After the last entry of a segment: later segments go, that one is untouched.
            try log.truncate(after: boundary - 1)
            #expect(log.segments.map(\.firstZxid) == Array(firsts.prefix(firsts.count / 2)))
            #expect(try fileSize(log.segments.last!.path) == sizeBefore)
            #expect(try log.readEntries(after: 0) == entries(1...(boundary - 1)))

            // After a segment's first entry: that entry stays.
            let previous = firsts[firsts.count / 2 - 1]
            try log.truncate(after: previous)
            #expect(try log.readEntries(after: 0) == entries(1...previous))
            #expect(try fileSize(log.segments.last!.path) == LogFormat.fileHeaderSize + LogFormat.entryHeaderSize + payload(for: previous).count)
        }
    }

    @Test func truncateEverythingAndNothing() throws {
        try withTemporaryDirectory { directory in
            let log = try makeLog(directory)
            let files = try fileNames(directory)
            try log.truncate(after: 60)
            try log.truncate(after: 1000)
            #expect(try fileNames(directory) == files, "nothing after the last entry: no-op")
            #expect(log.lastZxid == 60)

            try log.truncate(after: 0)
            #expect(try fileNames(directory) == [])
            #expect(log.lastZxid == 0)
            #expect(log.durableZxid == 0)
            try appendAndSync(log, 1...2)
            #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...2))
        }
    }

    @Test func truncateSyncsPendingEntriesFirst() throws {
        try withTemporaryDirectory { directory in
            let log = try makeLog(directory)
            for zxid in Int64(61)...65 { try log.append(zxid: zxid, bytes: payload(for: zxid)) }
            try log.truncate(after: 63)
            #expect(try log.readEntries(after: 55) == entries(56...63))
            #expect(log.lastZxid == 63)
            #expect(throws: StorageError.self) { try log.append(zxid: 63, bytes: []) }
            try log.append(zxid: 64, bytes: [])
        }
    }
}
