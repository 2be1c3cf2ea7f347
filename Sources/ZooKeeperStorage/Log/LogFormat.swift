/// The on-disk format of transaction log segments.
///
/// A segment is one file, `log.<zxid of its first entry, lower-case hex>`, holding a header
/// followed by entries back to back. All integers are big-endian.
///
///     segment file
///     +--------+--------+-------------------+
///     | magic  | version|    first zxid     |   16-byte file header
///     | "ZKSL" |  u32=1 |        i64        |   (first zxid equals the file name's)
///     +--------+--------+-------------------+
///     | entry | entry | entry | ...              as many as fit; no padding, no preallocation
///
///     entry
///     0        4        8                   16                  16 + length
///     +--------+--------+-------------------+-------------------+
///     | length |  crc   |       zxid        |      payload      |
///     |  u32   |  u32   |        i64        |   length bytes    |
///     +--------+--------+-------------------+-------------------+
///     crc = CRC-32C of the 8 zxid bytes followed by the payload
///
/// An entry is valid when all `16 + length` bytes are in the file and the CRC matches. Zero-filled
/// space is never a valid entry (the CRC-32C of eight zero bytes is not zero), so a tail the kernel
/// extended but never wrote reads as a torn entry.
enum LogFormat {
    static let magic: UInt32 = 0x5A4B_534C  // "ZKSL"
    static let version: UInt32 = 1
    static let fileHeaderSize = 16
    static let entryHeaderSize = 16
    static let maximumPayloadSize = Int(UInt32.max)
    static let fileNamePrefix = "log."

    static func fileName(firstZxid: Int64) -> String { fileNamePrefix + zxidHex(firstZxid) }

    static func appendFileHeader(firstZxid: Int64, to buffer: inout [UInt8]) {
        buffer.appendBigEndian(magic)
        buffer.appendBigEndian(version)
        buffer.appendBigEndian(firstZxid)
    }

    static func appendEntry(zxid: Int64, payload: [UInt8], to buffer: inout [UInt8]) {
        buffer.appendBigEndian(UInt32(payload.count))
        buffer.appendBigEndian(checksum(zxid: zxid, payload: payload))
        buffer.appendBigEndian(zxid)
        buffer.append(contentsOf: payload)
    }

    static func checksum(zxid: Int64, payload: [UInt8]) -> UInt32 {
        payload.withUnsafeBytes { checksum(zxid: zxid, payload: $0) }
    }

    static func checksum(zxid: Int64, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        withUnsafeBytes(of: zxid.bigEndian) { crc.update($0) }
        crc.update(payload)
        return crc.value
    }

    // MARK: - Reading

    /// One entry as found in a segment: its zxid and where its payload lies in the file.
    struct EntryLocation: Equatable {
        var zxid: Int64
        var offset: Int
        var payload: Range<Int>
        var end: Int { payload.upperBound }
    }

    enum EntryParse {
        case valid(EntryLocation)
        /// The bytes at the offset are not a complete entry with a matching CRC.
        case invalid(reason: String)
        /// Fewer than `entryHeaderSize` bytes are left: only a torn write looks like this.
        case truncatedHeader(available: Int)
    }

    static func parseEntry(_ file: UnsafeRawBufferPointer, at offset: Int) -> EntryParse {
        let available = file.count - offset
        guard available >= entryHeaderSize,
            let length = file.bigEndianInteger(at: offset, as: UInt32.self),
            let stored = file.bigEndianInteger(at: offset + 4, as: UInt32.self),
            let zxid = file.bigEndianInteger(at: offset + 8, as: Int64.self)
        else { return .truncatedHeader(available: available) }
        let payloadStart = offset + entryHeaderSize
        guard Int(length) <= file.count - payloadStart else {
            return .invalid(
                reason: "entry of \(length) payload bytes runs past the end of the file (\(file.count - payloadStart) left)")
        }
        let payload = payloadStart..<(payloadStart + Int(length))
        let computed = checksum(zxid: zxid, payload: UnsafeRawBufferPointer(rebasing: file[payload]))
        guard computed == stored else {
            return .invalid(reason: "CRC mismatch (stored \(hex32(stored)), computed \(hex32(computed)))")
        }
        return .valid(EntryLocation(zxid: zxid, offset: offset, payload: payload))
    }

    /// The result of checking one segment file.
    struct SegmentScan {
        /// The valid entries, in file order.
        var entries: [EntryLocation] = []
        /// How many leading bytes of the file are a valid header plus valid entries. Zero when
        /// not even the header survived.
        var validLength = 0
        /// Why the file's tail is not valid, when it was accepted as a torn write.
        var tornTail: String?
    }

    /// Checks a whole segment file.
    ///
    /// - Parameters:
    ///   - firstZxid: the zxid in the file's name; the header and the first entry must carry it.
    ///   - previousZxid: every entry's zxid must be larger than this and than the entry before it.
    ///   - allowTornTail: whether damage at the end is a torn write (the newest segment after a
    ///     crash) instead of corruption. Even then, damage followed by any valid entry is corruption.
    ///   - scanBudget: see `acceptTornTail`.
    /// - Throws: `StorageError` `.corruptLog` or `.nonIncreasingZxid`, naming `path` and the offset.
    static func scanSegment(
        _ file: [UInt8], path: String, firstZxid: Int64, previousZxid: Int64, allowTornTail: Bool,
        scanBudget: Int = defaultScanBudget
    ) throws -> SegmentScan {
        try file.withUnsafeBytes { file in
            var scan = SegmentScan()

            // Header.
            let headerProblem: String?
            if file.count < fileHeaderSize {
                headerProblem = "file of \(file.count) bytes is shorter than the \(fileHeaderSize)-byte header"
            } else if file[0..<fileHeaderSize].allSatisfy({ $0 == 0 }) {
                headerProblem = "header is all zeroes"
            } else {
                headerProblem = nil
                let fileMagic = file.bigEndianInteger(at: 0, as: UInt32.self)!
                let fileVersion = file.bigEndianInteger(at: 4, as: UInt32.self)!
                let headerZxid = file.bigEndianInteger(at: 8, as: Int64.self)!
                guard fileMagic == magic else {
                    throw StorageError.corruptLog("not a zksh transaction log (magic \(hex32(fileMagic)))", path: path, offset: 0)
                }
                guard fileVersion == version else {
                    throw StorageError.corruptLog("unsupported log format version \(fileVersion)", path: path, offset: 4)
                }
                guard headerZxid == firstZxid else {
                    throw StorageError.corruptLog(
                        "header says first zxid 0x\(zxidHex(headerZxid)) but the file name says 0x\(zxidHex(firstZxid))",
                        path: path, offset: 8)
                }
            }
            if let headerProblem {
                try acceptTornTail(
                    file, path: path, at: 0, reason: headerProblem, allowTornTail: allowTornTail,
                    previousZxid: previousZxid, budget: scanBudget)
                scan.tornTail = headerProblem
                return scan
            }

            // Entries.
            var offset = fileHeaderSize
            var lastZxid = previousZxid
            while offset < file.count {
                let reason: String
                switch parseEntry(file, at: offset) {
                case .valid(let entry):
                    guard entry.zxid > lastZxid else {
                        throw StorageError(
                            code: .nonIncreasingZxid,
                            message: "zxid 0x\(zxidHex(entry.zxid)) does not follow 0x\(zxidHex(lastZxid))",
                            path: path, offset: offset)
                    }
                    if scan.entries.isEmpty && entry.zxid != firstZxid {
                        throw StorageError.corruptLog(
                            "first entry has zxid 0x\(zxidHex(entry.zxid)) but the file name says 0x\(zxidHex(firstZxid))",
                            path: path, offset: offset)
                    }
                    scan.entries.append(entry)
                    lastZxid = entry.zxid
                    offset = entry.end
                    continue
                case .invalid(let why):
                    reason = why
                case .truncatedHeader(let available):
                    reason = "only \(available) bytes left of a \(entryHeaderSize)-byte entry header"
                }
                try acceptTornTail(
                    file, path: path, at: offset, reason: reason, allowTornTail: allowTornTail,
                    previousZxid: lastZxid, budget: scanBudget)
                scan.validLength = offset
                scan.tornTail = reason
                return scan
            }
            scan.validLength = offset
            return scan
        }
    }

    /// Throws unless damage at `offset` may be a torn write: the segment allows it and no valid
    /// entry (newer than `previousZxid`) starts anywhere after `offset`.
    ///
    /// The search tries every byte offset. Only candidates whose zxid is newer and whose payload
    /// fits cost a CRC; if those add up to more than `budget` bytes (only likely for megabytes
    /// of non-zero garbage, which a crash does not produce), the damage is reported as corruption
    /// rather than guessed to be a torn tail.
    private static func acceptTornTail(
        _ file: UnsafeRawBufferPointer, path: String, at offset: Int, reason: String, allowTornTail: Bool,
        previousZxid: Int64, budget: Int
    ) throws {
        guard allowTornTail else {
            throw StorageError.corruptLog("corrupt log entry: \(reason)", path: path, offset: offset)
        }
        var budget = budget
        var candidate = offset + 1
        while candidate + entryHeaderSize <= file.count {
            defer { candidate += 1 }
            guard let length = file.bigEndianInteger(at: candidate, as: UInt32.self),
                let zxid = file.bigEndianInteger(at: candidate + 8, as: Int64.self),
                zxid > previousZxid, Int(length) <= file.count - candidate - entryHeaderSize
            else { continue }
            budget -= Int(length) + 8
            guard budget >= 0 else {
                throw StorageError.corruptLog(
                    "corrupt log entry: \(reason); the \(file.count - offset) bytes after it are too much to "
                        + "search for valid entries, so it is not treated as a torn tail", path: path, offset: offset)
            }
            if case .valid(let entry) = parseEntry(file, at: candidate) {
                throw StorageError.corruptLog(
                    "corrupt log entry: \(reason); a valid entry (zxid 0x\(zxidHex(entry.zxid))) follows at offset \(candidate)",
                    path: path, offset: offset)
            }
        }
    }

    /// Bytes of CRC work `acceptTornTail` may spend looking for valid entries after damage.
    static let defaultScanBudget = 256 << 20
}

func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
