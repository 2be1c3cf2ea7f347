import Foundation
import Testing

@testable import ZooKeeperStorage

@Suite struct SnapshotStoreTests {
    @Test func writeAndLoadTheNewest() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            #expect(try store.latest() == nil)
            try store.write(zxid: 0, bytes: [])
            try store.write(zxid: 0x1_0000_0005, bytes: payload(for: 5, length: 100_000))
            try store.write(zxid: 0x20, bytes: payload(for: 0x20))
            #expect(try fileNames(directory) == ["snapshot.0", "snapshot.100000005", "snapshot.20"])
            #expect(try store.zxids() == [0x1_0000_0005, 0x20, 0])
            #expect(try store.latest() == .init(zxid: 0x1_0000_0005, bytes: payload(for: 5, length: 100_000)))
            #expect(try store.read(zxid: 0) == .init(zxid: 0, bytes: []))
            #expect(try SnapshotStore(directory: directory).latest()?.zxid == 0x1_0000_0005)
        }
    }

    /// A payload handed over in pieces is stored exactly as if written whole.
    @Test func streamedPayloadIsStoredLikeAWholeOne() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            let whole = payload(for: 9, length: 300_001)
            let length = try store.write(zxid: 9) { emit in
                var offset = 0
                for size in [0, 1, 4_096, 100_000, 65_536] {
                    try whole[offset..<(offset + size)].withUnsafeBytes { try emit($0) }
                    offset += size
                }
                try whole[offset...].withUnsafeBytes { try emit($0) }
            }
            #expect(length == whole.count)
            let streamed = try Data(contentsOf: URL(fileURLWithPath: directory + "/snapshot.9"))
            try store.write(zxid: 9, bytes: whole)
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/snapshot.9")) == streamed)
            #expect(try store.latest() == .init(zxid: 9, bytes: whole))
            // A producer that fails leaves nothing behind.
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try store.write(zxid: 10) { emit in
                    try whole.withUnsafeBytes { try emit($0) }
                    throw Refused()
                }
            }
            #expect(try fileNames(directory) == ["snapshot.9"])
        }
    }

    @Test func rewritingAZxidReplacesTheSnapshot() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            try store.write(zxid: 7, bytes: [1, 2, 3])
            try store.write(zxid: 7, bytes: [4])
            #expect(try store.latest() == .init(zxid: 7, bytes: [4]))
            #expect(try fileNames(directory) == ["snapshot.7"])
        }
    }

    @Test func leftoverTemporaryFileIsIgnored() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            try store.write(zxid: 5, bytes: [5])
            // A crash after the temporary file was (partly) written, before the rename.
            let complete = SnapshotFormat.header(zxid: 9, payload: [9, 9]) + [9, 9]
            try writeFile(join(directory, "snapshot.9.tmp"), Array(complete.prefix(20)))
            try writeFile(join(directory, "snapshot.a.tmp"), complete)
            var notes: [String] = []
            #expect(try store.latest(notes: &notes) == .init(zxid: 5, bytes: [5]))
            #expect(notes == [])
            #expect(try store.zxids() == [5])
            // Writing that zxid again works over the leftover.
            try store.write(zxid: 9, bytes: [9])
            #expect(try store.latest() == .init(zxid: 9, bytes: [9]))
            #expect(try fileNames(directory) == ["snapshot.5", "snapshot.9", "snapshot.a.tmp"])
        }
    }

    @Test func damagedNewestSnapshotsAreSkippedWithANote() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            for zxid: Int64 in [1, 2, 3, 4, 5] { try store.write(zxid: zxid, bytes: payload(for: zxid, length: 64)) }
            try flipByte(join(directory, "snapshot.5"), at: SnapshotFormat.headerSize + 10)  // payload
            let four = try readFile(join(directory, "snapshot.4"))
            try writeFile(join(directory, "snapshot.4"), Array(four.dropLast(1)))  // short
            try flipByte(join(directory, "snapshot.3"), at: 12)  // header zxid
            var notes: [String] = []
            #expect(try store.latest(notes: &notes) == .init(zxid: 2, bytes: payload(for: 2, length: 64)))
            #expect(notes.count == 3)
            #expect(notes[0].hasPrefix(join(directory, "snapshot.5") + ": skipped: CRC mismatch"))
            #expect(notes[1].hasPrefix(join(directory, "snapshot.4") + ": skipped: header promises 64 payload bytes"))
            #expect(notes[2].hasPrefix(join(directory, "snapshot.3") + ": skipped: header zxid"))
            let error = #expect(throws: StorageError.self) { try store.read(zxid: 5) }
            #expect(error?.code == .corruptSnapshot)
            #expect(error?.path == join(directory, "snapshot.5"))
        }
    }

    @Test func everyTruncationOfASnapshotIsDetected() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory, forceSync: false)
            try store.write(zxid: 1, bytes: [1])
            try store.write(zxid: 2, bytes: payload(for: 2, length: 40))
            let bytes = try readFile(join(directory, "snapshot.2"))
            for cut in 0..<bytes.count {
                try writeFile(join(directory, "snapshot.2"), Array(bytes[0..<cut]))
                var notes: [String] = []
                #expect(try store.latest(notes: &notes)?.zxid == 1, "cut at \(cut)")
                #expect(notes.count == 1, "cut at \(cut)")
            }
        }
    }

    @Test func negativeZxidIsRejected() throws {
        try withTemporaryDirectory { directory in
            let error = #expect(throws: StorageError.self) { try SnapshotStore(directory: directory).write(zxid: -1, bytes: []) }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        try withTemporaryDirectory { root in
            let directory = join(root, "snapshots")
            let store = try SnapshotStore(directory: directory)
            try store.write(zxid: 1, bytes: [1])
            // The directory vanishes and a file takes its place (root ignores permissions).
            try FileManager.default.removeItem(atPath: directory)
            try writeFile(directory, [0])
            let error = #expect(throws: StorageError.self) { try store.write(zxid: 2, bytes: [2]) }
            #expect(error?.code == .io)
            #expect(error?.errno == ENOTDIR)
        }
    }
}
