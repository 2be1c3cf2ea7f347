import NIOCore
import Testing

@testable import ZooKeeperProtocol

@Suite("Jute primitives, nulls and malformed input")
struct JuteCodecTests {
    // MARK: Primitives

    @Test func integersAreBigEndianTwosComplement() {
        var buffer = ByteBuffer()
        buffer.writeJuteInt(0x0102_0304)
        buffer.writeJuteInt(-2)
        buffer.writeJuteLong(0x0102_0304_0506_0708)
        buffer.writeJuteLong(-1)
        buffer.writeJuteBool(true)
        buffer.writeJuteBool(false)
        #expect(buffer.readableArray == Wire().int(0x0102_0304).raw([0xff, 0xff, 0xff, 0xfe]).raw([1, 2, 3, 4, 5, 6, 7, 8])
            .raw([UInt8](repeating: 0xff, count: 8)).raw([1, 0]).bytes)
        #expect(buffer.readJuteInt() == 0x0102_0304)
        #expect(buffer.readJuteInt() == -2)
        #expect(buffer.readJuteLong() == 0x0102_0304_0506_0708)
        #expect(buffer.readJuteLong() == -1)
        #expect(buffer.readJuteBool() == true)
        #expect(buffer.readJuteBool() == false)
        #expect(buffer.readJuteBool() == nil)
    }

    @Test func readersReturnNilWithoutConsumingWhenBytesAreMissing() {
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        #expect(buffer.readJuteInt() == nil)
        #expect(buffer.readJuteLong() == nil)
        #expect(buffer.readerIndex == 0)
        var seven = ByteBuffer(bytes: [1, 2, 3, 4, 5, 6, 7])
        #expect(seven.readJuteLong() == nil)
        #expect(seven.readableBytes == 7)
    }

    @Test("any non-zero byte is true, as in Java", arguments: [1, 2, 0x7f, 0x80, 0xff] as [UInt8])
    func nonZeroBooleans(_ byte: UInt8) throws {
        var buffer = Wire().string("/x").raw([byte]).buffer
        #expect(try PathWatchRequest(from: &buffer) == PathWatchRequest(path: "/x", watch: true))
    }

    @Test func stringsAreLengthPrefixedUTF8() throws {
        for string in ["", "a", "/foo", "é", "日本語", "😀", "a\u{0}b", "e\u{301}", String(repeating: "x", count: 1000)] {
            var buffer = ByteBuffer()
            buffer.writeJuteString(string)
            #expect(buffer.readableArray == Wire().string(string).bytes)
            #expect(try buffer.decodeJuteString("s") == string)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func nulByteIsASingleZeroByte() {
        // protocol.md §1: U+0000 is written as the single byte 0x00, as Java does.
        var buffer = ByteBuffer()
        buffer.writeJuteString("a\u{0}")
        #expect(buffer.readableArray == [0, 0, 0, 2, 0x61, 0])
    }

    // MARK: Nulls (-1)

    @Test func nullBufferIsNil() throws {
        var buffer = Wire().int(-1).buffer
        #expect(try buffer.decodeJuteBuffer("data") == nil)
        #expect(buffer.readableBytes == 0)
        var empty = Wire().int(0).buffer
        #expect(try empty.decodeJuteBuffer("data") == [])
        var out = ByteBuffer()
        out.writeJuteBuffer(nil)
        out.writeJuteBuffer([])
        #expect(out.readableArray == Wire().int(-1).int(0).bytes)
    }

    @Test func nullStringIsNilOrEmpty() throws {
        var buffer = Wire().int(-1).int(-1).buffer
        #expect(try buffer.decodeJuteString("s") == nil)
        #expect(try buffer.decodeJuteStringNonNull("s") == "")
        #expect(buffer.readableBytes == 0)
        var out = ByteBuffer()
        out.writeJuteString(nil)
        out.writeJuteString("")
        #expect(out.readableArray == Wire().int(-1).int(0).bytes)
    }

    @Test func nullVectorIsNilOrEmpty() throws {
        var buffer = Wire().int(-1).int(-1).int(-1).buffer
        #expect(try buffer.decodeJuteVector("v") { (b: inout ByteBuffer) throws(JuteDecodingError) in try b.decodeJuteInt("e") } == nil)
        #expect(try buffer.decodeJuteStringVector("v") == [])
        #expect(try buffer.decodeACLVector() == [])
        #expect(buffer.readableBytes == 0)
        var out = ByteBuffer()
        out.writeJuteVector(nil as [Int32]?) { $0.writeJuteInt($1) }
        out.writeJuteStringVector(nil)
        out.writeJuteStringVector([])
        out.writeJuteVector([Int32(1), 2]) { $0.writeJuteInt($1) }
        #expect(out.readableArray == Wire().int(-1).int(-1).int(0).int(2).int(1).int(2).bytes)
    }

    @Test func nullsInRecords() throws {
        // Records whose API is non-optional read -1 as empty; optional fields keep nil.
        var create = Wire().int(-1).int(-1).int(-1).int(0).buffer
        #expect(try CreateRequest(from: &create) == CreateRequest(path: "", data: nil, acl: [], flags: 0))
        var auth = Wire().int(0).int(-1).int(-1).buffer
        #expect(try AuthPacket(from: &auth) == AuthPacket(scheme: "", auth: []))
        var sasl = Wire().int(-1).buffer
        #expect(try GetSASLRequest(from: &sasl) == GetSASLRequest(token: []))
        var saslResponse = Wire().int(-1).buffer
        #expect(try SetSASLResponse(from: &saslResponse) == SetSASLResponse(token: nil))
        var event = Wire().int(2).int(3).int(-1).buffer
        #expect(try WatcherEvent(from: &event) == WatcherEvent(type: .nodeDeleted, path: ""))
        var watches = Wire().long(1).int(-1).int(-1).int(-1).buffer
        #expect(try SetWatches(from: &watches) == SetWatches(relativeZxid: 1, dataWatches: [], existWatches: [], childWatches: []))
        var connect = Wire().int(0).long(0).int(1).long(0).int(-1).buffer
        #expect(try ConnectRequest(from: &connect) == ConnectRequest(timeOut: 1, password: [], readOnly: nil))
        var getData = Wire().int(-1).stat(Sample.stat).buffer
        let response = try GetDataResponse(from: &getData)
        #expect(response.data == nil)
        // Re-encoding keeps the null (-1), as the server does for null data.
        #expect(response.encoded().readableArray == Wire().int(-1).stat(Sample.stat).bytes)
        var reconfig = Wire().int(-1).int(-1).int(-1).long(-1).buffer
        #expect(try ReconfigRequest(from: &reconfig) == ReconfigRequest(joiningServers: nil, leavingServers: nil, newMembers: nil, curConfigId: -1))
        var stringElement = Wire().int(2).int(-1).string("b").buffer
        #expect(try stringElement.decodeJuteStringVector("children") == ["", "b"])
    }

    // MARK: Unreasonable lengths

    @Test("negative lengths other than -1 are unreasonable", arguments: [-2, -3, -100, Int32.min] as [Int32])
    func negativeLengths(_ length: Int32) {
        let wire = Wire().int(length).raw([1, 2, 3, 4, 5, 6, 7, 8])
        #expect(decodingError(wire) { try $0.decodeJuteBuffer("data") } == .unreasonableLength(field: "data", length: Int(length)))
        #expect(decodingError(wire) { try $0.decodeJuteString("path") } == .unreasonableLength(field: "path", length: Int(length)))
        #expect(decodingError(wire) { try $0.decodeJuteStringVector("children") } == .unreasonableLength(field: "children", length: Int(length)))
        #expect(decodingError(wire) { try $0.decodeACLVector() } == .unreasonableLength(field: "acl", length: Int(length)))
        #expect(decodingError(wire) {
            try $0.decodeJuteVector("v") { (b: inout ByteBuffer) throws(JuteDecodingError) in b.readJuteBool() ?? false }
        } == .unreasonableLength(field: "v", length: Int(length)))
    }

    @Test("lengths larger than the remaining bytes are unreasonable, not truncated",
          arguments: [9, 10, 0xfffff, 0x0100_0000, Int32.max] as [Int32])
    func oversizedLengths(_ length: Int32) {
        // Eight bytes follow the length, so any length above 8 can never be satisfied. The decoder
        // must say so up front rather than allocate `length` bytes or elements.
        let wire = Wire().int(length).raw([1, 2, 3, 4, 5, 6, 7, 8])
        #expect(decodingError(wire) { try $0.decodeJuteBuffer("data") } == .unreasonableLength(field: "data", length: Int(length)))
        #expect(decodingError(wire) { try $0.decodeJuteString("path") } == .unreasonableLength(field: "path", length: Int(length)))
        #expect(decodingError(wire) {
            try $0.decodeJuteVector("v") { (b: inout ByteBuffer) throws(JuteDecodingError) in b.readJuteBool() ?? false }
        } == .unreasonableLength(field: "v", length: Int(length)))
    }

    @Test func lengthExactlyTheRemainingBytesIsFine() throws {
        var buffer = Wire().int(3).raw([7, 8, 9]).buffer
        #expect(try buffer.decodeJuteBuffer("data") == [7, 8, 9])
        var four = Wire().int(4).raw([7, 8, 9]).buffer
        #expect(throws: JuteDecodingError.unreasonableLength(field: "data", length: 4)) { try four.decodeJuteBuffer("data") }
    }

    @Test func vectorCountsAreCheckedAgainstTheMinimumElementSize() throws {
        // A string takes at least 4 bytes, so 3 strings can't fit in 8 bytes.
        let threeStrings = Wire().int(3).int(0).int(0)
        #expect(decodingError(threeStrings) { try $0.decodeJuteStringVector("children") }
            == .unreasonableLength(field: "children", length: 3))
        var twoStrings = Wire().int(2).int(0).int(0).buffer
        #expect(try twoStrings.decodeJuteStringVector("children") == ["", ""])
        // An ACL takes at least 12 bytes (perms + two string lengths).
        let twoACLs = Wire().int(2).int(31).string("").string("").raw([0, 0, 0])
        #expect(decodingError(twoACLs) { try $0.decodeACLVector() } == .unreasonableLength(field: "acl", length: 2))
        // A ClientInfo takes at least 8 bytes.
        let twoInfos = Wire().int(2).string("").string("").raw([0, 0, 0])
        #expect(decodingError(twoInfos) { try WhoAmIResponse(from: &$0) } == .unreasonableLength(field: "clientInfo", length: 2))
        // A huge count is rejected before anything is reserved.
        let huge = Wire().int(Int32.max).int(0)
        #expect(decodingError(huge) { try $0.decodeJuteStringVector("children") }
            == .unreasonableLength(field: "children", length: Int(Int32.max)))
    }

    @Test func vectorCountThatFitsButElementsDoNotIsTruncated() {
        // Count 2 passes the size check (8 bytes for 2 × 4), but the first string claims 4 bytes of 4.
        let wire = Wire().int(2).int(4).raw([0x61, 0x62, 0x63, 0x64])
        #expect(decodingError(wire) { try $0.decodeJuteStringVector("children") } == .truncated(field: "children"))
    }

    @Test func unreasonableLengthInsideARecordNamesTheField() {
        let wire = Wire().string("/a").int(1000).raw([1, 2])
        #expect(decodingError(wire) { try SetDataRequest(from: &$0) } == .unreasonableLength(field: "data", length: 1000))
        let badACL = Wire().string("/a").buffer([]).int(-5)
        #expect(decodingError(badACL) { try CreateRequest(from: &$0) } == .unreasonableLength(field: "acl", length: -5))
        let badPassword = Wire().int(0).int(30000).long(1).int(-16)
        #expect(decodingError(badPassword) { try ConnectResponse(from: &$0) } == .unreasonableLength(field: "passwd", length: -16))
    }

    // MARK: Truncation

    @Test func truncatedInputNamesTheField() {
        #expect(decodingError(Wire()) { try RequestHeader(from: &$0) } == .truncated(field: "xid"))
        #expect(decodingError(Wire().int(1).raw([0, 0])) { try RequestHeader(from: &$0) } == .truncated(field: "type"))
        #expect(decodingError(Wire().int(1).raw([0, 0, 0, 0, 0, 0, 0])) { try ReplyHeader(from: &$0) } == .truncated(field: "zxid"))
        #expect(decodingError(Wire().int(1).long(2)) { try ReplyHeader(from: &$0) } == .truncated(field: "err"))
        #expect(decodingError(Wire().int(1)) { try MultiHeader(from: &$0) } == .truncated(field: "done"))
        #expect(decodingError(Wire().string("/a")) { try PathWatchRequest(from: &$0) } == .truncated(field: "watch"))
        #expect(decodingError(Wire().string("/a").buffer([]).acl([]).int(0)) { try CreateTTLRequest(from: &$0) } == .truncated(field: "ttl"))
        #expect(decodingError(Wire().raw([0, 0])) { try $0.decodeJuteString("path") } == .truncated(field: "path"))
        #expect(decodingError(Wire().long(1).long(2).long(3).long(4).int(5).int(6).int(7).long(8).int(9).int(10).raw([0, 0, 0, 0, 0, 0, 0])) {
            try Stat(from: &$0)
        } == .truncated(field: "pzxid"))
    }

    // MARK: UTF-8

    @Test("invalid UTF-8 is rejected", arguments: [
        [0xff], [0xc3], [0x61, 0xc3], [0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80],
        // CESU-8 encoding of U+1F600 (a surrogate pair as two 3-byte sequences), as Java would write it.
        [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
        [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x2f, 0x61, 0xfe],
    ] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        let wire = Wire().buffer(bytes)
        #expect(decodingError(wire) { try $0.decodeJuteString("path") } == .invalidUTF8(field: "path"))
        #expect(decodingError(wire) { try PathRequest(from: &$0) } == .invalidUTF8(field: "path"))
        #expect(decodingError(Wire().int(1).buffer(bytes)) { try $0.decodeJuteStringVector("children") } == .invalidUTF8(field: "children"))
        #expect(decodingError(Wire().int(3).int(3).buffer(bytes)) { try WatcherEvent(from: &$0) } == .invalidUTF8(field: "path"))
    }

    @Test func buffersAreOpaqueBytes() throws {
        // Buffers are opaque bytes: the same bytes are fine as data.
        var data = Wire().buffer([0xff, 0xfe]).buffer
        #expect(try data.decodeJuteBuffer("data") == [0xff, 0xfe])
    }

    @Test("valid UTF-8 edge cases decode", arguments: [
        [0x7f], [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xef, 0xbf, 0xbf], [0xee, 0x80, 0x80],
        [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0x00],
    ] as [[UInt8]])
    func validUTF8(_ bytes: [UInt8]) throws {
        var buffer = Wire().buffer(bytes).buffer
        let string = try #require(try buffer.decodeJuteString("s"))
        #expect(Array(string.utf8) == bytes)
    }

    // MARK: Handshake records and the optional readOnly byte

    @Test func connectRequestWithAndWithoutReadOnly() throws {
        let base = Wire().int(0).long(0x10).int(30000).long(0x1234).buffer(Sample.password)
        #expect(base.count == 44)
        #expect(try ConnectRequest.decodeExactly(base.buffer).readOnly == nil)
        #expect(try ConnectRequest.decodeExactly(base.bool(false).buffer).readOnly == false)
        #expect(try ConnectRequest.decodeExactly(base.bool(true).buffer).readOnly == true)
        #expect(try ConnectRequest.decodeExactly(base.raw([0x02]).buffer).readOnly == true)
        #expect(throws: JuteDecodingError.trailingBytes(count: 1)) { try ConnectRequest.decodeExactly(base.raw([1, 0]).buffer) }

        let decoded = try ConnectRequest.decodeExactly(base.buffer)
        #expect(decoded == ConnectRequest(lastZxidSeen: 0x10, timeOut: 30000, sessionId: 0x1234, password: Sample.password, readOnly: nil))
        // Re-encoding keeps the byte absent, so a server can echo exactly what the client sent.
        #expect(decoded.encoded().readableArray == base.bytes)
        #expect(ConnectRequest(timeOut: 30000).readOnly == false)
        #expect(ConnectRequest(timeOut: 30000).password == [UInt8](repeating: 0, count: 16))
    }

    @Test func connectResponseWithAndWithoutReadOnly() throws {
        let base = Wire().int(0).int(30000).long(0x1000_0000_0000_0001).buffer(Sample.password)
        #expect(base.count == 36)
        #expect(base.bool(false).count == 37)
        #expect(try ConnectResponse.decodeExactly(base.buffer).readOnly == nil)
        #expect(try ConnectResponse.decodeExactly(base.bool(false).buffer).readOnly == false)
        #expect(try ConnectResponse.decodeExactly(base.bool(true).buffer).readOnly == true)
        #expect(throws: JuteDecodingError.trailingBytes(count: 3)) { try ConnectResponse.decodeExactly(base.raw([0, 0, 0, 0]).buffer) }
        let withoutByte = ConnectResponse(timeOut: 30000, sessionId: 0x1000_0000_0000_0001, password: Sample.password, readOnly: nil)
        #expect(withoutByte.encoded().readableArray == base.bytes)
        #expect(try ConnectResponse.decodeExactly(base.buffer) == withoutByte)
    }

    @Test func expiredSessionConnectResponse() throws {
        // §3.2: timeOut 0, sessionId 0, 16 zero bytes.
        let wire = Wire().int(0).int(0).long(0).buffer([UInt8](repeating: 0, count: 16)).bool(false)
        let response = try ConnectResponse.decodeExactly(wire.buffer)
        #expect(response.timeOut == 0 && response.sessionId == 0 && response.password == [UInt8](repeating: 0, count: 16))
    }

    // MARK: Errors

    @Test func decodingErrorDescriptionsAndEquality() {
        #expect(JuteDecodingError.truncated(field: "xid").description == "truncated record: input ended in field 'xid'")
        #expect(JuteDecodingError.unreasonableLength(field: "data", length: -2).description == "unreasonable length -2 for field 'data'")
        #expect(JuteDecodingError.invalidUTF8(field: "path").description == "field 'path' is not valid UTF-8")
        #expect(JuteDecodingError.trailingBytes(count: 2).description == "2 unexpected bytes after the record")
        #expect(JuteDecodingError.invalidValue(field: "type", value: 10).description == "invalid value 10 for field 'type'")
        #expect(JuteDecodingError.truncated(field: "a") != JuteDecodingError.truncated(field: "b"))
        #expect(JuteDecodingError.unreasonableLength(field: "a", length: 1) != JuteDecodingError.unreasonableLength(field: "a", length: 2))
        #expect(Set([JuteDecodingError.truncated(field: "a"), .truncated(field: "a"), .trailingBytes(count: 1)]).count == 2)
    }
}
