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

    /// The checksum of A followed by B, from the checksum of A, that of B and B's length: A's
    /// checksum is run through `lengthB` zero bytes (a multiplication by x^(8·lengthB) modulo
    /// the polynomial, by repeated squaring of the one-zero-bit operator) and B's added.
    public static func combine(_ checksumA: UInt32, _ checksumB: UInt32, lengthB: Int) -> UInt32 {
        guard lengthB > 0 else { return checksumA }
        /// A 32×32 matrix over GF(2): column n is the image of bit n.
        typealias Matrix = [UInt32]
        func apply(_ matrix: Matrix, _ vector: UInt32) -> UInt32 {
            var vector = vector
            var sum: UInt32 = 0
            var column = 0
            while vector != 0 {
                if vector & 1 == 1 { sum ^= matrix[column] }
                vector >>= 1
                column += 1
            }
            return sum
        }
        func squared(_ matrix: Matrix) -> Matrix { matrix.map { apply(matrix, $0) } }
        // The operator for one zero bit: shift right, folding the polynomial in for bit 0.
        var odd: Matrix = [0x82F6_3B78]
        for n in 1..<32 { odd.append(1 << (n - 1)) }
        var even = squared(odd)  // two zero bits
        odd = squared(even)  // four zero bits
        var crc = checksumA
        var remaining = lengthB
        repeat {
            even = squared(odd)  // the first pass: one zero byte
            if remaining & 1 == 1 { crc = apply(even, crc) }
            remaining >>= 1
            if remaining == 0 { break }
            odd = squared(even)
            if remaining & 1 == 1 { crc = apply(odd, crc) }
            remaining >>= 1
        } while remaining != 0
        return crc ^ checksumB
    }

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
