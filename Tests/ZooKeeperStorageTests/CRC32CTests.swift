import Testing

@testable import ZooKeeperStorage

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        // RFC 3720 (iSCSI), appendix B.4.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    /// Eight bytes at a time gives what one byte at a time gives, for every length and split.
    @Test func slicingMatchesTheBytewiseDefinition() {
        func bytewise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32C.checksum(bytes) == bytewise(bytes), "length \(length)")
            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &generator)
            var crc = CRC32C()
            crc.update(bytes[..<split])
            crc.update(bytes[split...])
            #expect(crc.value == bytewise(bytes), "length \(length) split at \(split)")
        }
    }

    /// The checksum of A then B, from A's and B's checksums and B's length, for lengths of B
    /// that exercise every bit of the repeated squaring.
    @Test func combiningChecksumsMatchesChecksummingTheWhole() {
        var generator = SeededBytes(state: 7)
        for (lengthA, lengthB) in [(0, 0), (0, 1), (16, 0), (16, 1), (3, 7), (16, 100), (1, 255), (16, 256), (9, 1_000), (16, 65_537)] {
            let a = generator.bytes(lengthA)
            let b = generator.bytes(lengthB)
            let combined = CRC32C.combine(CRC32C.checksum(a), CRC32C.checksum(b), lengthB: lengthB)
            #expect(combined == CRC32C.checksum(a + b), "A \(lengthA) bytes, B \(lengthB) bytes")
        }
    }

    @Test func incrementalUpdatesMatchOneShot() {
        var generator = SeededBytes(state: 42)
        let data = generator.bytes(1000)
        for split in [0, 1, 7, 500, 999, 1000] {
            var crc = CRC32C()
            crc.update(data[0..<split])
            crc.update(data[split...])
            #expect(crc.value == CRC32C.checksum(data))
        }
    }

    @Test func zeroedEntryHeaderIsNeverValid() {
        // What a zero-filled tail looks like: length 0, crc 0, zxid 0.
        #expect(LogFormat.checksum(zxid: 0, payload: []) != 0)
    }
}
