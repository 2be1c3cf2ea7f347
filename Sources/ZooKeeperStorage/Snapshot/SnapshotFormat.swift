/// The on-disk format of a snapshot file, `snapshot.<zxid in lower-case hex>`. Big-endian.
///
///     0        4        8                   16                  24       28
///     +--------+--------+-------------------+-------------------+--------+-----------------+
///     | magic  | version|       zxid        |      length       |  crc   |     payload     |
///     | "ZKSS" |  u32=1 |        i64        |        u64        |  u32   |  length bytes   |
///     +--------+--------+-------------------+-------------------+--------+-----------------+
///     crc = CRC-32C of the zxid and length fields (16 bytes) followed by the payload
///
/// A snapshot is valid when the magic and version match, the zxid equals the file name's, the
/// file is exactly `28 + length` bytes long and the CRC matches. Snapshots are written to
/// `snapshot.<zxid>.tmp`, fsynced and renamed, so a valid file is always a complete one.
enum SnapshotFormat {
    static let magic: UInt32 = 0x5A4B_5353  // "ZKSS"
    static let version: UInt32 = 1
    static let headerSize = 28
    static let fileNamePrefix = "snapshot."
    static let temporarySuffix = ".tmp"

    static func fileName(zxid: Int64) -> String { fileNamePrefix + zxidHex(zxid) }

    static func header(zxid: Int64, payload: [UInt8]) -> [UInt8] {
        header(zxid: zxid, payloadLength: payload.count, payloadChecksum: CRC32C.checksum(payload))
    }

    /// The header for a payload known by its length and checksum (written after the payload
    /// when the payload is streamed). The checksum covers the zxid and length fields, then the
    /// payload.
    static func header(zxid: Int64, payloadLength: Int, payloadChecksum: UInt32) -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(headerSize)
        header.appendBigEndian(magic)
        header.appendBigEndian(version)
        header.appendBigEndian(zxid)
        header.appendBigEndian(UInt64(payloadLength))
        let fields = CRC32C.checksum(header[8..<24])
        header.appendBigEndian(CRC32C.combine(fields, payloadChecksum, lengthB: payloadLength))
        return header
    }

    struct Header {
        var zxid: Int64
        var length: UInt64
        var crc: UInt32
    }

    /// Parses and checks the header against the file name's zxid and the file's size.
    /// - Returns: the header, or why the file is not a valid snapshot.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, fileSize: Int, expectedZxid: Int64) -> Result<Header, SnapshotProblem> {
        guard bytes.count >= headerSize else {
            return .failure(SnapshotProblem("file of \(fileSize) bytes is shorter than the \(headerSize)-byte header"))
        }
        let fileMagic = bytes.bigEndianInteger(at: 0, as: UInt32.self)!
        let fileVersion = bytes.bigEndianInteger(at: 4, as: UInt32.self)!
        let zxid = bytes.bigEndianInteger(at: 8, as: Int64.self)!
        let length = bytes.bigEndianInteger(at: 16, as: UInt64.self)!
        let crc = bytes.bigEndianInteger(at: 24, as: UInt32.self)!
        guard fileMagic == magic else { return .failure(SnapshotProblem("bad magic \(hex32(fileMagic))")) }
        guard fileVersion == version else { return .failure(SnapshotProblem("unsupported version \(fileVersion)")) }
        guard zxid == expectedZxid else {
            return .failure(SnapshotProblem("header zxid 0x\(zxidHex(zxid)) does not match the file name"))
        }
        guard length == UInt64(fileSize - headerSize) else {
            return .failure(
                SnapshotProblem("header promises \(length) payload bytes but the file has \(fileSize - headerSize)"))
        }
        return .success(Header(zxid: zxid, length: length, crc: crc))
    }
}

/// Why a snapshot file was rejected.
struct SnapshotProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
