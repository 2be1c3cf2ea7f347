import NIOCore
import Testing

@testable import ZooKeeperProtocol

// MARK: - An independent jute writer

/// Builds expected wire bytes straight from the field lists in protocol.md §1 and §6, without
/// touching the codec under test, so a field-order or width mistake in the codec shows up as a
/// byte mismatch rather than a silent symmetric round trip.
struct Wire: Equatable, CustomStringConvertible {
    var bytes: [UInt8] = []

    init() {}
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(hex: String) { self.bytes = bytesFromHex(hex) }

    func int(_ value: Int32) -> Wire {
        var copy = self
        let bits = UInt32(bitPattern: value)
        copy.bytes += [UInt8(bits >> 24), UInt8(bits >> 16 & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits & 0xff)]
        return copy
    }

    func long(_ value: Int64) -> Wire {
        var copy = self
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) {
            copy.bytes.append(UInt8(bits >> UInt64(shift) & 0xff))
        }
        return copy
    }

    func bool(_ value: Bool) -> Wire { self.raw([value ? 1 : 0]) }

    func raw(_ bytes: [UInt8]) -> Wire {
        var copy = self
        copy.bytes += bytes
        return copy
    }

    func buffer(_ bytes: [UInt8]?) -> Wire {
        guard let bytes else { return self.int(-1) }
        return self.int(Int32(bytes.count)).raw(bytes)
    }

    func string(_ string: String?) -> Wire {
        guard let string else { return self.int(-1) }
        return self.buffer(Array(string.utf8))
    }

    func strings(_ strings: [String]?) -> Wire {
        guard let strings else { return self.int(-1) }
        return strings.reduce(self.int(Int32(strings.count))) { $0.string($1) }
    }

    func id(_ id: Id) -> Wire { self.string(id.scheme).string(id.id) }

    func acl(_ acl: [ACL]) -> Wire {
        acl.reduce(self.int(Int32(acl.count))) { $0.int($1.permissions.rawValue).id($1.id) }
    }

    /// Stat: long czxid; long mzxid; long ctime; long mtime; int version; int cversion; int aversion;
    /// long ephemeralOwner; int dataLength; int numChildren; long pzxid.
    func stat(_ s: Stat) -> Wire {
        self.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime).int(s.version).int(s.cversion)
            .int(s.aversion).long(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid)
    }

    func multiHeader(type: Int32, done: Bool, err: Int32) -> Wire { self.int(type).bool(done).int(err) }

    /// The terminator that ends every multi request and response.
    func multiEnd() -> Wire { self.multiHeader(type: -1, done: true, err: -1) }

    /// Prefixes the bytes with their 4-byte length, as one frame.
    func framed() -> Wire { Wire().int(Int32(self.bytes.count)).raw(self.bytes) }

    var buffer: ByteBuffer { ByteBuffer(bytes: self.bytes) }
    var count: Int { self.bytes.count }
    var description: String { hexString(self.bytes) }
}

// MARK: - Hex

func bytesFromHex(_ hex: String) -> [UInt8] {
    let digits = hex.unicodeScalars.filter { !isHexSpace($0) && $0 != "|" }
    precondition(digits.count % 2 == 0, "odd number of hex digits in \(hex)")
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var iterator = digits.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        guard let byte = UInt8(String(high) + String(low), radix: 16) else {
            preconditionFailure("invalid hex digits \(high)\(low) in \(hex)")
        }
        bytes.append(byte)
    }
    return bytes
}

/// Parses hex, returning nil (instead of trapping) on malformed input; for captured files.
func parseHex(_ hex: Substring) -> [UInt8]? {
    let digits = Array(hex.unicodeScalars.filter { !isHexSpace($0) })
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let byte = UInt8(String(digits[index]) + String(digits[index + 1]), radix: 16) else { return nil }
        bytes.append(byte)
        index += 2
    }
    return bytes
}

private func isHexSpace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}

extension ByteBuffer {
    var readableArray: [UInt8] { Array(self.readableBytesView) }
}

// MARK: - Round-trip helpers

/// Encodes `record`, checks the bytes (when given), decodes them back and checks that the result is
/// equal and that the decoder consumed the whole buffer.
func expectRoundTrip<R: JuteRecord>(
    _ record: R, bytes expected: Wire? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    let encoded = record.encoded()
    if let expected {
        #expect(encoded.readableArray == expected.bytes, "encoding of \(record)", sourceLocation: sourceLocation)
    }
    var buffer = encoded
    do {
        let decoded = try R(from: &buffer)
        #expect(decoded == record, sourceLocation: sourceLocation)
        #expect(buffer.readableBytes == 0, "decoder left \(buffer.readableBytes) bytes", sourceLocation: sourceLocation)
    } catch {
        Issue.record("decoding \(R.self) threw \(error)", sourceLocation: sourceLocation)
    }
    do {
        #expect(try R.decodeExactly(encoded) == record, sourceLocation: sourceLocation)
    } catch {
        Issue.record("decodeExactly(\(R.self)) threw \(error)", sourceLocation: sourceLocation)
    }
}

/// Checks that every strict prefix of the record's encoding fails to decode with a
/// ``JuteDecodingError`` (truncated input, or a length that no longer fits) and never traps.
func expectEveryPrefixFails<R: JuteRecord>(
    _ record: R, allowing allowedLengths: Set<Int> = [], sourceLocation: SourceLocation = #_sourceLocation
) {
    let bytes = record.encoded().readableArray
    for length in 0..<bytes.count where !allowedLengths.contains(length) {
        var prefix = ByteBuffer(bytes: bytes[0..<length])
        do throws(JuteDecodingError) {
            let decoded = try R(from: &prefix)
            Issue.record("\(R.self) decoded from a \(length)-byte prefix of \(bytes.count): \(decoded)",
                         sourceLocation: sourceLocation)
        } catch .truncated, .unreasonableLength {
            // expected
        } catch {
            Issue.record("\(R.self) prefix of \(length) bytes threw \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Runs `body` on the bytes and returns the ``JuteDecodingError`` it threw, or records an issue.
func decodingError<T>(
    _ wire: Wire, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (inout ByteBuffer) throws -> T
) -> JuteDecodingError? {
    var buffer = wire.buffer
    do {
        let value = try body(&buffer)
        Issue.record("expected a decoding error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as JuteDecodingError {
        return error
    } catch {
        Issue.record("expected a JuteDecodingError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - Sample values

enum Sample {
    /// Every field distinct, so a swapped or misplaced field cannot go unnoticed.
    static let stat = Stat(
        czxid: 0x0102_0304_0506_0708, mzxid: 0x1112_1314_1516_1718, ctime: 1_700_000_000_123,
        mtime: 1_700_000_999_456, version: 7, cversion: -3, aversion: 2, ephemeralOwner: 0x1000_0ABC_DEF0_0001,
        dataLength: 11, numChildren: 4, pzxid: 0x2122_2324_2526_2728
    )
    static let otherStat = Stat(
        czxid: 9, mzxid: 10, ctime: 11, mtime: 12, version: 13, cversion: 14, aversion: 15,
        ephemeralOwner: 0, dataLength: 16, numChildren: 17, pzxid: 18
    )
    static let digestId = Id(scheme: "digest", id: "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")
    static let acl: [ACL] = [
        ACL(permissions: .all, id: .anyone),
        ACL(permissions: [.read, .admin], id: digestId),
        ACL(permissions: .read, id: Id(scheme: "ip", id: "10.0.0.0/8")),
    ]
    static let data: [UInt8] = Array("hello\u{0}world".utf8)
    static let password: [UInt8] = (0..<16).map { UInt8($0 * 17) }
    static let unicodePath = "/ünïcödé/日本語/a b"
}
