import Foundation
import Testing

@testable import ZooKeeperStorage

@Suite struct PurgeTests {
    @Test(arguments: [
        // (segment first zxids, oldest kept snapshot, removable count)
        ([Int64](), Int64(100), 0),
        ([1], 100, 0),  // the newest segment always stays
        ([1, 10, 20, 30], 8, 0),  // segment 1 still holds 9
        ([1, 10, 20, 30], 9, 1),  // segment 1 holds 1...9, all in the snapshot
        ([1, 10, 20, 30], 19, 2),
        ([1, 10, 20, 30], 20, 2),  // segment 20 still holds 21...29
        ([1, 10, 20, 30], 29, 3),
        ([1, 10, 20, 30], 1000, 3),
        ([1, 10, 20, 30], 0, 0),
    ] as [([Int64], Int64, Int)])
    func removableSegments(firstZxids: [Int64], snapshot: Int64, expected: Int) {
        #expect(PurgePlanner.removableSegmentCount(firstZxids: firstZxids, snapshotZxid: snapshot) == expected)
    }

    @Test func retentionKeepsAtLeastThree() {
        let valid: [Int64] = [50, 40, 30, 20, 10]
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: valid, retain: 3) == 30)
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: valid, retain: 1) == 30)
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: valid, retain: 4) == 20)
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: valid, retain: 9) == 10)
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: [7], retain: 3) == 7)
        #expect(PurgePlanner.oldestRetainedSnapshot(validZxids: [], retain: 3) == nil)
    }

    /// Snapshots at 10, 20, ..., 60 and a log of 1...70 with a segment rolled after each snapshot
    /// (segments log.1, log.b, log.15, ..., log.3d).
    private func makeStorage(_ root: String) throws -> (SnapshotStore, TransactionLog) {
        let snapshots = try SnapshotStore(directory: join(root, "snapshots"))
        let log = try TransactionLog(directory: join(root, "log"))
        for zxid in Int64(1)...70 {
            try log.append(zxid: zxid, bytes: payload(for: zxid))
            if zxid % 10 == 0 && zxid < 70 {
                try log.sync()
                try snapshots.write(zxid: zxid, bytes: Array("state at \(zxid)".utf8))
                log.rollSegment()
            }
        }
        try log.sync()
        return (snapshots, log)
    }

    @Test func purgeKeepsNewestSnapshotsAndTheLogTheyNeed() throws {
        try withTemporaryDirectory { root in
            let (snapshots, log) = try makeStorage(root)
            #expect(log.segments.map(\.firstZxid) == [1, 11, 21, 31, 41, 51, 61])
            try writeFile(join(root, "snapshots/snapshot.99.tmp"), [0])

            let report = try snapshots.purge(retain: 3, log: log)
            #expect(report.oldestRetainedSnapshot == 40)
            #expect(report.removedSnapshots == ["10", "20", "30"].map { join(root, "snapshots/snapshot.\(Int($0)!.hex)") })
            #expect(report.removedLogSegments == ["1", "b", "15", "1f"].map { join(root, "log/log.\($0)") })
            #expect(report.removedTemporaryFiles == [join(root, "snapshots/snapshot.99.tmp")])
            #expect(try fileNames(join(root, "snapshots")) == ["snapshot.28", "snapshot.32", "snapshot.3c"])
            #expect(try fileNames(join(root, "log")) == ["log.29", "log.33", "log.3d"])

            // Each kept snapshot can still be brought up to date from the log.
            for zxid: Int64 in [40, 50, 60] {
                #expect(try log.readEntries(after: zxid) == entries((zxid + 1)...70))
            }
            // Purging again changes nothing.
            let again = try snapshots.purge(retain: 3, log: log)
            #expect(again.removedSnapshots == [] && again.removedLogSegments == [])
        }
    }

    @Test func damagedSnapshotsDoNotCountTowardsRetention() throws {
        try withTemporaryDirectory { root in
            let (snapshots, log) = try makeStorage(root)
            try flipByte(join(root, "snapshots/snapshot.3c"), at: SnapshotFormat.headerSize)
            let report = try snapshots.purge(retain: 1, log: log)  // raised to 3
            #expect(report.oldestRetainedSnapshot == 30)
            #expect(try fileNames(join(root, "snapshots")) == ["snapshot.1e", "snapshot.28", "snapshot.32", "snapshot.3c"])
            #expect(log.segments.first?.firstZxid == 31, "log.15 holds 21...30, all in snapshot 30")
            #expect(try snapshots.latest()?.zxid == 50)
            #expect(try log.readEntries(after: 50) == entries(51...70))
        }
    }

    @Test func withoutValidSnapshotsNothingIsRemoved() throws {
        try withTemporaryDirectory { root in
            let (snapshots, log) = try makeStorage(root)
            for zxid in [10, 20, 30, 40, 50, 60] {
                try flipByte(join(root, "snapshots/snapshot.\(zxid.hex)"), at: 0)
            }
            let report = try snapshots.purge(retain: 3, log: log)
            #expect(report == PurgeReport())
            #expect(log.segments.count == 7)
            #expect(try fileNames(join(root, "snapshots")).count == 6)
        }
    }
}

extension Int {
    fileprivate var hex: String { String(self, radix: 16) }
}
