/// CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`), table-driven, eight bytes at a
/// time ("slicing-by-8": eight 256-entry tables, one lookup per input byte but no dependency
/// between the lookups of one 8-byte step), the tail one byte at a time.
///
/// The checksum iSCSI, ext4 and etcd's WAL use; `CRC32C.checksum("123456789".utf8)` is
/// `0xE3069283`. Feed data in pieces with `update(_:)`; the result does not depend on how the
/// input was split.
public struct CRC32C: Sendable, Hashable {
    private var state: UInt32 = 0xFFFF_FFFF

    /// A checksum of no bytes yet.
    public init() {}

    /// Feeds `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        CRC32C.tables.withUnsafeBufferPointer { t in
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                offset += 8
            }
            while offset < count {
                crc = t[Int(UInt8(truncatingIfNeeded: crc) ^ bytes[offset])] ^ (crc >> 8)
                offset += 1
            }
        }
        state = crc
    }

    /// Feeds `bytes` into the checksum.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// The checksum of everything fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// Table k (entries k*256 ..< (k+1)*256) gives the CRC of a byte followed by k zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var entry = UInt32(index)
            for _ in 0..<8 {
                entry = entry & 1 == 1 ? (entry >> 1) ^ 0x82F6_3B78 : entry >> 1
            }
            tables[index] = entry
        }
        for k in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(k - 1) * 256 + index]
                tables[k * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()
}
