import Foundation
import Testing

@testable import ZooKeeperStorage

/// Recovery from what a crash leaves behind (a torn tail: repaired) versus damage a crash cannot
/// explain (corruption: a thrown error naming the file and offset).
@Suite struct TornTailTests {
    /// Copies the segment files of `source` into a fresh subdirectory named `name`.
    private func copyOfLog(_ source: String, into parent: String, name: String) throws -> String {
        let copy = join(parent, name)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for file in try fileNames(source) {
            try writeFile(join(copy, file), try readFile(join(source, file)))
        }
        return copy
    }

    @Test func tornLastEntryIsCutAtEveryByteOffset() throws {
        try withTemporaryDirectory { root in
            let original = join(root, "original")
            try appendAndSync(try TransactionLog(directory: original), 1...4)
            let segment = join(original, "log.1")
            let bytes = try readFile(segment)
            let lastEntry = try entryOffset(in: segment, zxid: 4)

            for cut in lastEntry..<bytes.count {
                let directory = join(root, "cut-\(cut)")
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
                try writeFile(join(directory, "log.1"), Array(bytes[0..<cut]))

                let log = try TransactionLog(directory: directory, forceSync: false)
                #expect(log.lastZxid == 3, "cut at \(cut)")
                #expect(try fileSize(join(directory, "log.1")) == lastEntry, "cut at \(cut)")
                if cut == lastEntry {
                    #expect(log.recoveryNotes == [], "a cut between entries is a clean end")
                } else {
                    #expect(log.recoveryNotes.count == 1)
                    #expect(log.recoveryNotes.first?.contains("log.1: torn tail at offset \(lastEntry)") == true)
                }
                // The log works normally afterwards.
                try log.append(zxid: 4, bytes: [0x44])
                try log.append(zxid: 5, bytes: [0x55])
                try log.sync()
                let reopened = try TransactionLog(directory: directory, forceSync: false)
                #expect(reopened.recoveryNotes == [])
                #expect(
                    try reopened.readEntries(after: 0)
                        == entries(1...3) + [.init(zxid: 4, bytes: [0x44]), .init(zxid: 5, bytes: [0x55])])
            }
        }
    }

    @Test func tornFirstEntryOfNewestSegmentRemovesTheSegment() throws {
        try withTemporaryDirectory { root in
            let original = join(root, "original")
            let log = try TransactionLog(directory: original)
            try appendAndSync(log, 1...3)
            log.rollSegment()
            try appendAndSync(log, 4...4)
            let bytes = try readFile(join(original, "log.4"))

            // Every cut from an empty file, through the file header, to just short of the entry's end.
            for cut in 0..<bytes.count {
                let directory = try copyOfLog(original, into: root, name: "cut-\(cut)")
                try writeFile(join(directory, "log.4"), Array(bytes[0..<cut]))

                let recovered = try TransactionLog(directory: directory, forceSync: false)
                #expect(recovered.lastZxid == 3, "cut at \(cut)")
                #expect(try fileNames(directory) == ["log.1"], "cut at \(cut)")
                #expect(recovered.recoveryNotes.count == 1)
                #expect(recovered.recoveryNotes.first?.contains("log.4: removed \(cut) bytes") == true)
                try appendAndSync(recovered, 4...5)
                #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...5))
            }
        }
    }

    @Test func garbageAndZeroTailsAreCut() throws {
        try withTemporaryDirectory { root in
            let original = join(root, "original")
            try appendAndSync(try TransactionLog(directory: original), 1...5)
            let clean = try readFile(join(original, "log.1"))
            var generator = SeededBytes(state: 7)

            var tails: [(String, [UInt8])] = [
                ("4 KiB of zeroes", [UInt8](repeating: 0, count: 4096)),
                ("one zero byte", [0]),
                ("16 zero bytes", [UInt8](repeating: 0, count: 16)),
                ("0xFF filler", [UInt8](repeating: 0xFF, count: 100)),
                // A header promising a small payload that is not there, then zeroes.
                ("plausible header", [0, 0, 0, 8, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 6] + [UInt8](repeating: 0, count: 8)),
            ]
            for length in [1, 15, 16, 17, 100, 5000] {
                tails.append(("\(length) random bytes", generator.bytes(length)))
            }
            for (index, (name, tail)) in tails.enumerated() {
                let directory = join(root, "tail-\(index)")
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
                try writeFile(join(directory, "log.1"), clean + tail)

                let log = try TransactionLog(directory: directory, forceSync: false)
                #expect(log.lastZxid == 5, "\(name)")
                #expect(try readFile(join(directory, "log.1")) == clean, "\(name)")
                #expect(log.recoveryNotes.count == 1, "\(name)")
                #expect(log.recoveryNotes.first?.contains("truncated \(tail.count) bytes after zxid 0x5") == true)
                try appendAndSync(log, 6...6)
                #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...6), "\(name)")
            }
        }
    }

    @Test func flippedByteInTheMiddleIsAnErrorNamingFileAndOffset() throws {
        try withTemporaryDirectory { root in
            let original = join(root, "original")
            try appendAndSync(try TransactionLog(directory: original), 1...5)
            let segment = join(original, "log.1")
            let second = try entryOffset(in: segment, zxid: 2)
            let third = try entryOffset(in: segment, zxid: 3)

            // Every byte of entry 2: its length, CRC, zxid and payload.
            for offset in second..<third {
                let directory = try copyOfLog(original, into: root, name: "flip-\(offset)")
                let path = join(directory, "log.1")
                try flipByte(path, at: offset)
                let error = #expect(throws: StorageError.self, "flipped byte at \(offset)") {
                    try TransactionLog(directory: directory)
                }
                #expect(error?.code == .corruptLog)
                #expect(error?.path == path)
                #expect(error?.offset == second)
                #expect(error?.description.contains(path) == true)
                #expect(try readFile(path).count == readFile(segment).count, "nothing is truncated")
            }
        }
    }

    @Test func damageInAnOlderSegmentIsAnError() throws {
        try withTemporaryDirectory { root in
            let original = join(root, "original")
            let log = try TransactionLog(directory: original)
            try appendAndSync(log, 1...3)
            log.rollSegment()
            try appendAndSync(log, 4...6)
            let older = join(original, "log.1")
            let lastOfOlder = try entryOffset(in: older, zxid: 3)

            // Even at its very end: only the newest segment can have a torn tail.
            let flipped = try copyOfLog(original, into: root, name: "flipped")
            try flipByte(join(flipped, "log.1"), at: try fileSize(older) - 1)
            let shortened = try copyOfLog(original, into: root, name: "shortened")
            try writeFile(join(shortened, "log.1"), Array(try readFile(older).dropLast(2)))

            for directory in [flipped, shortened] {
                let reopened = try TransactionLog(directory: directory)  // only the newest is checked here
                let error = #expect(throws: StorageError.self) { try reopened.readEntries(after: 0) }
                #expect(error?.code == .corruptLog)
                #expect(error?.path == join(directory, "log.1"))
                #expect(error?.offset == lastOfOlder)
                // A reader starting past the damaged segment does not need it.
                #expect(try reopened.readEntries(after: 3) == entries(4...6))
            }
        }
    }

    @Test func damageFollowedByAValidEntryAfterAGarbageGapIsAnError() throws {
        // The damaged entry's length no longer leads to the next entry; the scan still finds it.
        try withTemporaryDirectory { directory in
            try appendAndSync(try TransactionLog(directory: directory), 1...3)
            let path = join(directory, "log.1")
            let third = try entryOffset(in: path, zxid: 3)
            var bytes = try readFile(path)
            let tail = Array(bytes[third...])
            bytes.removeSubrange(third...)
            bytes += [UInt8](repeating: 0, count: 37) + tail  // zeroes, then a valid entry 3
            try writeFile(path, bytes)
            let error = #expect(throws: StorageError.self) { try TransactionLog(directory: directory) }
            #expect(error?.code == .corruptLog)
            #expect(error?.offset == third)
            #expect(error?.message.contains("a valid entry (zxid 0x3) follows at offset \(third + 37)") == true)
        }
    }

    @Test func searchForValidEntriesAfterDamageIsBounded() throws {
        // Garbage full of headers whose zxid is newer and whose length fits: each costs a CRC.
        var bytes: [UInt8] = []
        LogFormat.appendFileHeader(firstZxid: 1, to: &bytes)
        LogFormat.appendEntry(zxid: 1, payload: [1], to: &bytes)
        for _ in 0..<200 {
            bytes.appendBigEndian(UInt32(100))
            bytes.appendBigEndian(UInt32(0xDEAD_BEEF))
            bytes.appendBigEndian(Int64(99))
        }
        let torn = try LogFormat.scanSegment(
            bytes, path: "/d/log.1", firstZxid: 1, previousZxid: 0, allowTornTail: true, scanBudget: 1 << 20)
        #expect(torn.entries.map(\.zxid) == [1])
        #expect(torn.tornTail?.hasPrefix("CRC mismatch") == true)

        let error = #expect(throws: StorageError.self) {
            try LogFormat.scanSegment(
                bytes, path: "/d/log.1", firstZxid: 1, previousZxid: 0, allowTornTail: true, scanBudget: 10_000)
        }
        #expect(error?.code == .corruptLog)
        #expect(error?.offset == LogFormat.fileHeaderSize + LogFormat.entryHeaderSize + 1)
        #expect(error?.message.contains("too much to search") == true)
    }

    @Test func zxidsGoingBackwardsAreAnError() throws {
        try withTemporaryDirectory { root in
            // Within a segment.
            let single = join(root, "single")
            try FileManager.default.createDirectory(atPath: single, withIntermediateDirectories: false)
            var bytes: [UInt8] = []
            LogFormat.appendFileHeader(firstZxid: 1, to: &bytes)
            for zxid: Int64 in [1, 3, 2] { LogFormat.appendEntry(zxid: zxid, payload: payload(for: zxid), to: &bytes) }
            try writeFile(join(single, "log.1"), bytes)
            let within = #expect(throws: StorageError.self) { try TransactionLog(directory: single) }
            #expect(within?.code == .nonIncreasingZxid)
            #expect(within?.path == join(single, "log.1"))

            // Across segments: log.1 holds 1...5, log.3 holds 3...4.
            let across = join(root, "across")
            try appendAndSync(try TransactionLog(directory: across), 1...5)
            bytes = []
            LogFormat.appendFileHeader(firstZxid: 3, to: &bytes)
            for zxid: Int64 in [3, 4] { LogFormat.appendEntry(zxid: zxid, payload: payload(for: zxid), to: &bytes) }
            try writeFile(join(across, "log.3"), bytes)
            let log = try TransactionLog(directory: across)
            let error = #expect(throws: StorageError.self) { try log.readEntries(after: 0) }
            #expect(error?.code == .nonIncreasingZxid)
            #expect(error?.path == join(across, "log.3"))
        }
    }

    @Test func foreignOrRenamedFilesAreErrors() throws {
        try withTemporaryDirectory { root in
            let renamed = join(root, "renamed")
            try appendAndSync(try TransactionLog(directory: renamed), 1...2)
            try FileManager.default.moveItem(atPath: join(renamed, "log.1"), toPath: join(renamed, "log.2"))
            let mismatch = #expect(throws: StorageError.self) { try TransactionLog(directory: renamed) }
            #expect(mismatch?.code == .corruptLog)
            #expect(mismatch?.message.contains("file name says 0x2") == true)

            let foreign = join(root, "foreign")
            try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: false)
            try writeFile(join(foreign, "log.1"), Array("ZKLG this is something else entirely".utf8))
            let notOurs = #expect(throws: StorageError.self) { try TransactionLog(directory: foreign) }
            #expect(notOurs?.message.contains("not a zksh transaction log") == true)

            // Files that are not named like segments are ignored.
            let other = join(root, "other")
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
            try writeFile(join(other, "log.1.bak"), [1, 2, 3])
            try writeFile(join(other, "README"), [1, 2, 3])
            #expect(try TransactionLog(directory: other).lastZxid == 0)
        }
    }
}
