import Foundation
import Testing

@testable import ZooKeeperStorage

/// A test bundle cannot re-exec itself to be killed mid-write, so these tests write real logs and
/// then leave the files as a crash could: the last, unacknowledged batch persisted only up to some
/// 4 KiB page (the rest missing, or the file extended but zero-filled), or a `write` cut short at
/// any byte. Recovery must keep every acknowledged entry, keep a prefix of the rest, never throw,
/// and accept new appends.
@Suite struct CrashSimulationTests {
    private static let page = 4096

    private struct CrashedLog {
        var bytes: [UInt8]
        var durableSize: Int
    }

    /// A log whose segment has an acknowledged prefix (1...40) and a last batch (41...120) of
    /// assorted sizes spanning several pages.
    private func writeLog(in directory: String) throws -> CrashedLog {
        let log = try TransactionLog(directory: directory)
        try appendAndSync(log, 1...40)
        let durableSize = try fileSize(join(directory, "log.1"))
        for zxid in Int64(41)...120 {
            try log.append(zxid: zxid, bytes: payload(for: zxid, length: Int(zxid * 37 % 300)))
        }
        try log.sync()
        try log.close()
        return CrashedLog(bytes: try readFile(join(directory, "log.1")), durableSize: durableSize)
    }

    private func expectRecovered(_ directory: String, context: String) throws {
        let log = try TransactionLog(directory: directory, forceSync: false)
        let recovered = try log.readEntries(after: 0)
        #expect(recovered.count >= 40, "acknowledged entries survive: \(context)")
        for (index, entry) in recovered.enumerated() {
            let zxid = Int64(index + 1)
            let expected = zxid <= 40 ? payload(for: zxid) : payload(for: zxid, length: Int(zxid * 37 % 300))
            #expect(entry == .init(zxid: zxid, bytes: expected), "\(context)")
        }
        let next = (recovered.last?.zxid ?? 0) + 1
        try log.append(zxid: next, bytes: [1, 2, 3])
        try log.sync()
        #expect(try log.readEntries(after: next - 1) == [.init(zxid: next, bytes: [1, 2, 3])], "\(context)")
    }

    @Test func lastBatchPersistedUpToAPage() throws {
        try withTemporaryDirectory { root in
            let crash = try writeLog(in: join(root, "original"))
            #expect(crash.bytes.count > crash.durableSize + 3 * Self.page, "the batch spans pages")
            let firstPage = crash.durableSize / Self.page * Self.page
            for (index, boundary) in stride(from: firstPage + Self.page, to: crash.bytes.count, by: Self.page).enumerated() {
                // The pages after `boundary` never made it: missing entirely, or allocated as zeroes.
                let missing = join(root, "missing-\(index)")
                try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: false)
                try writeFile(join(missing, "log.1"), Array(crash.bytes[0..<boundary]))
                try expectRecovered(missing, context: "missing after \(boundary)")

                let zeroed = join(root, "zeroed-\(index)")
                try FileManager.default.createDirectory(atPath: zeroed, withIntermediateDirectories: false)
                let zeroes = [UInt8](repeating: 0, count: crash.bytes.count - boundary)
                try writeFile(join(zeroed, "log.1"), Array(crash.bytes[0..<boundary]) + zeroes)
                try expectRecovered(zeroed, context: "zeroed after \(boundary)")
            }
        }
    }

    @Test func lastWriteCutShortAtAnyByte() throws {
        try withTemporaryDirectory { root in
            let crash = try writeLog(in: join(root, "original"))
            let directory = join(root, "cut")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            // Every 97th byte of the unacknowledged batch (all of them would only repeat the
            // every-offset test in TornTailTests at a larger scale).
            for cut in stride(from: crash.durableSize, through: crash.bytes.count, by: 97) {
                for file in try fileNames(directory) { try FileManager.default.removeItem(atPath: join(directory, file)) }
                try writeFile(join(directory, "log.1"), Array(crash.bytes[0..<cut]))
                try expectRecovered(directory, context: "cut at \(cut)")
            }
        }
    }
}
