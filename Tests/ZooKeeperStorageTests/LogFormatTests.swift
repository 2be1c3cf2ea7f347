import Testing

@testable import ZooKeeperStorage

@Suite struct LogFormatTests {
    @Test func segmentBytesFollowTheDiagram() throws {
        var bytes: [UInt8] = []
        LogFormat.appendFileHeader(firstZxid: 0x1_0000_0002, to: &bytes)
        LogFormat.appendEntry(zxid: 0x1_0000_0002, payload: [0xAA, 0xBB, 0xCC], to: &bytes)
        let crc = CRC32C.checksum([0, 0, 0, 1, 0, 0, 0, 2, 0xAA, 0xBB, 0xCC])
        let expected: [UInt8] =
            Array("ZKSL".utf8) + [0, 0, 0, 1] + [0, 0, 0, 1, 0, 0, 0, 2]  // file header
            + [0, 0, 0, 3]  // length
            + [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
            + [0, 0, 0, 1, 0, 0, 0, 2]  // zxid
            + [0xAA, 0xBB, 0xCC]
        #expect(bytes == expected)
        #expect(LogFormat.fileName(firstZxid: 0x1_0000_0002) == "log.100000002")
    }

    @Test func parsesEveryPrefixOfAnEntryAsIncomplete() {
        var bytes: [UInt8] = []
        LogFormat.appendEntry(zxid: 9, payload: payload(for: 9), to: &bytes)
        for cut in 0..<bytes.count {
            let result = Array(bytes[0..<cut]).withUnsafeBytes { LogFormat.parseEntry($0, at: 0) }
            switch result {
            case .valid: Issue.record("prefix of \(cut) bytes parsed as a valid entry")
            case .invalid, .truncatedHeader: break
            }
        }
        let whole = bytes.withUnsafeBytes { LogFormat.parseEntry($0, at: 0) }
        guard case .valid(let entry) = whole else {
            Issue.record("the whole entry did not parse")
            return
        }
        #expect(entry.zxid == 9)
        #expect(entry.end == bytes.count)
    }

    @Test func fileNamesRoundTrip() {
        #expect(zxid(fromFileName: "log.100000001", prefix: "log.") == 0x1_0000_0001)
        #expect(zxid(fromFileName: "log.0", prefix: "log.") == 0)
        #expect(zxid(fromFileName: "log.", prefix: "log.") == nil)
        #expect(zxid(fromFileName: "log.1.tmp", prefix: "log.") == nil)
        #expect(zxid(fromFileName: "log.xyz", prefix: "log.") == nil)
        #expect(zxid(fromFileName: "log.ffffffffffffffff", prefix: "log.") == nil)
        #expect(zxid(fromFileName: "snapshot.1f", prefix: "snapshot.") == 0x1F)
    }

    @Test func errorDescriptionNamesFileAndOffset() {
        let error = StorageError.corruptLog("corrupt log entry: CRC mismatch", path: "/d/log.1", offset: 42)
        #expect(error.description == "/d/log.1: corrupt log entry: CRC mismatch (at offset 42)")
        let io = StorageError.io("fdatasync", path: "/d/log.1", errno: 5)
        #expect(io.description.hasPrefix("/d/log.1: fdatasync failed: "))
        #expect(io.description.hasSuffix("(errno 5)"))
    }
}
