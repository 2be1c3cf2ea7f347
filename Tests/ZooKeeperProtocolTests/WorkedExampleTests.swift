import NIOCore
import Testing

@testable import ZooKeeperProtocol

/// The byte dumps printed in protocol.md §3.1 and §6.4, encoded and decoded byte for byte.
@Suite("Worked examples from protocol.md")
struct WorkedExampleTests {
    static let zxid: Int64 = 0x0000_0001_0000_002A
    static let zxidHex = "00 00 00 01 00 00 00 2A"

    /// Reads one frame with the frame decoder and checks nothing is left over.
    func payload(of hex: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ByteBuffer {
        var stream = Wire(hex: hex).buffer
        var decoder = ZooKeeperFrameDecoder()
        let payload = try #require(try decoder.nextFrame(from: &stream), sourceLocation: sourceLocation)
        #expect(stream.readableBytes == 0, sourceLocation: sourceLocation)
        return payload
    }

    // §3.1: new session, 30 000 ms, readOnly=false, payload 45 bytes.
    static let connectRequestHex = """
        00 00 00 2D
        00 00 00 00
        00 00 00 00 00 00 00 00
        00 00 75 30
        00 00 00 00 00 00 00 00
        00 00 00 10  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00
        """

    @Test func connectRequestEncodes() {
        var buffer = ByteBuffer()
        buffer.writeZooKeeperFrame { ConnectRequest(timeOut: 30000).encode(into: &$0) }
        #expect(buffer.readableArray == Wire(hex: Self.connectRequestHex).bytes)
        #expect(buffer.readableBytes == 4 + 45)
    }

    @Test func connectRequestDecodes() throws {
        let payload = try self.payload(of: Self.connectRequestHex)
        #expect(payload.readableBytes == 45)
        let request = try ConnectRequest.decodeExactly(payload)
        #expect(request == ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0,
                                          password: [UInt8](repeating: 0, count: 16), readOnly: false))
    }

    @Test func connectResponseLengths() throws {
        // §3.1: 4+4+8+(4+16)+1 = 37 (0x25), or 36 without the readOnly byte.
        let response = ConnectResponse(timeOut: 30000, sessionId: 0x1000_0000_0000_0001, password: Sample.password)
        var framed = ByteBuffer()
        framed.writeZooKeeperFrame { response.encode(into: &$0) }
        let expected = "00 00 00 25  00 00 00 00  00 00 75 30  10 00 00 00 00 00 00 01  00 00 00 10 "
            + hexString(Sample.password) + " 00"
        #expect(framed.readableArray == Wire(hex: expected).bytes)
        #expect(try ConnectResponse.decodeExactly(self.payload(of: expected)) == response)

        var old = response
        old.readOnly = nil
        var oldFramed = ByteBuffer()
        oldFramed.writeZooKeeperFrame { old.encode(into: &$0) }
        #expect(oldFramed.getInteger(at: 0, as: Int32.self) == 36)
        #expect(try ConnectResponse.decodeExactly(self.payload(of: hexString(oldFramed.readableBytesView))) == old)
    }

    // §6.4: getData("/foo", watch=true) with xid 5, payload 17 bytes.
    static let getDataHex = "00 00 00 11 | 00 00 00 05 | 00 00 00 04 | 00 00 00 04 2F 66 6F 6F | 01"

    @Test func getDataRequestEncodes() {
        var buffer = ByteBuffer()
        buffer.writeRequestFrame(xid: 5, request: .getData(PathWatchRequest(path: "/foo", watch: true)))
        #expect(buffer.readableArray == Wire(hex: Self.getDataHex).bytes)
    }

    @Test func getDataRequestDecodes() throws {
        var payload = try self.payload(of: Self.getDataHex)
        #expect(payload.readableBytes == 17)
        let header = try RequestHeader(from: &payload)
        #expect(header == RequestHeader(xid: 5, type: .getData))
        #expect(try ZooKeeperRequest.decode(opCode: header.type, from: &payload) == .getData(PathWatchRequest(path: "/foo", watch: true)))
        #expect(payload.readableBytes == 0)
    }

    // §6.4: the successful reply carrying "bar", payload 16 + 7 + 68 = 91.
    @Test func getDataReplyRoundTrips() throws {
        let hex = "00 00 00 5B | 00 00 00 05 | \(Self.zxidHex) | 00 00 00 00 | 00 00 00 03 62 61 72 | "
            + hexString(Wire().stat(Sample.stat).bytes)
        var buffer = ByteBuffer()
        let response = ZooKeeperResponse.getData(GetDataResponse(data: Array("bar".utf8), stat: Sample.stat))
        buffer.writeReplyFrame(header: ReplyHeader(xid: 5, zxid: Self.zxid, err: 0), response: response)
        #expect(buffer.readableArray == Wire(hex: hex).bytes)

        var payload = try self.payload(of: hex)
        #expect(payload.readableBytes == 91)
        #expect(try ReplyHeader(from: &payload) == ReplyHeader(xid: 5, zxid: Self.zxid, err: 0))
        #expect(try ZooKeeperResponse.decode(opCode: .getData, from: &payload) == response)
        #expect(payload.readableBytes == 0)
    }

    // §6.4: ping and its reply.
    @Test func pingAndReply() throws {
        let pingHex = "00 00 00 08 | FF FF FF FE | 00 00 00 0B"
        var ping = ByteBuffer()
        ping.writeRequestFrame(xid: SpecialXid.ping, request: .ping)
        #expect(ping.readableArray == Wire(hex: pingHex).bytes)
        var payload = try self.payload(of: pingHex)
        let header = try RequestHeader(from: &payload)
        #expect(header == RequestHeader(xid: -2, type: .ping))
        #expect(try ZooKeeperRequest.decode(opCode: header.type, from: &payload) == .ping)
        #expect(payload.readableBytes == 0)

        let replyHex = "00 00 00 10 | FF FF FF FE | \(Self.zxidHex) | 00 00 00 00"
        var reply = ByteBuffer()
        reply.writeReplyFrame(header: ReplyHeader(xid: SpecialXid.ping, zxid: Self.zxid), response: nil)
        #expect(reply.readableArray == Wire(hex: replyHex).bytes)
        var replyPayload = try self.payload(of: replyHex)
        #expect(try ReplyHeader(from: &replyPayload) == ReplyHeader(xid: -2, zxid: Self.zxid, err: 0))
        #expect(replyPayload.readableBytes == 0)
    }

    // §6.4: NodeDataChanged notification for "/foo", payload 32.
    @Test func notification() throws {
        let hex = "00 00 00 20 | FF FF FF FF | \(Self.zxidHex) | 00 00 00 00 | 00 00 00 03 | 00 00 00 03 | 00 00 00 04 2F 66 6F 6F"
        var buffer = ByteBuffer()
        buffer.writeZooKeeperFrame { buffer in
            ReplyHeader(xid: SpecialXid.notification, zxid: Self.zxid).encode(into: &buffer)
            WatcherEvent(type: .nodeDataChanged, state: .syncConnected, path: "/foo").encode(into: &buffer)
        }
        #expect(buffer.readableArray == Wire(hex: hex).bytes)

        var payload = try self.payload(of: hex)
        #expect(payload.readableBytes == 32)
        #expect(try ReplyHeader(from: &payload) == ReplyHeader(xid: -1, zxid: Self.zxid, err: 0))
        #expect(try WatcherEvent(from: &payload) == WatcherEvent(type: .nodeDataChanged, path: "/foo"))
        #expect(payload.readableBytes == 0)
    }

    // §6.4: digest authentication as user:password, payload 39.
    @Test func digestAuthPacket() throws {
        let hex = "00 00 00 27 | FF FF FF FC | 00 00 00 64 | 00 00 00 00 | 00 00 00 06 "
            + hexString(Array("digest".utf8)) + " | 00 00 00 0D " + hexString(Array("user:password".utf8))
        let request = ZooKeeperRequest.auth(AuthPacket(scheme: "digest", auth: Array("user:password".utf8)))
        var buffer = ByteBuffer()
        buffer.writeRequestFrame(xid: SpecialXid.auth, request: request)
        #expect(buffer.readableArray == Wire(hex: hex).bytes)

        var payload = try self.payload(of: hex)
        #expect(payload.readableBytes == 39)
        let header = try RequestHeader(from: &payload)
        #expect(header == RequestHeader(xid: -4, type: .auth))
        #expect(try ZooKeeperRequest.decode(opCode: header.type, from: &payload) == request)
        #expect(payload.readableBytes == 0)
    }

    // §4.1: the auth reply is ReplyHeader{-4, 0, err} with no body.
    @Test func authFailedReply() throws {
        var buffer = ByteBuffer()
        buffer.writeReplyFrame(header: ReplyHeader(xid: SpecialXid.auth, zxid: 0, err: ZooKeeperError.Code.authFailed.rawValue), response: nil)
        #expect(buffer.readableArray == Wire(hex: "00 00 00 10 FF FF FF FC 00 00 00 00 00 00 00 00 FF FF FF 8D").bytes)
    }

    // §7: a multi with one create and one delete, and a terminator.
    @Test func multiRequestFrame() throws {
        let request = ZooKeeperRequest.multi(MultiRequest(operations: [
            .create(CreateRequest(path: "/a", data: [], acl: ACL.openUnsafe, flags: 0), opCode: .create),
            .delete(DeleteRequest(path: "/b", version: -1)),
        ]))
        let hex = """
            00 00 00 56
            00 00 00 09  00 00 00 0E
            00 00 00 01  00  FF FF FF FF
            00 00 00 02 2F 61  00 00 00 00  00 00 00 01  00 00 00 1F  00 00 00 05 77 6F 72 6C 64  00 00 00 06 61 6E 79 6F 6E 65  00 00 00 00
            00 00 00 02  00  FF FF FF FF
            00 00 00 02 2F 62  FF FF FF FF
            FF FF FF FF  01  FF FF FF FF
            """
        var buffer = ByteBuffer()
        buffer.writeRequestFrame(xid: 9, request: request)
        #expect(buffer.readableArray == Wire(hex: hex).bytes)
        var payload = try self.payload(of: hex)
        let header = try RequestHeader(from: &payload)
        #expect(try ZooKeeperRequest.decode(opCode: header.type, from: &payload) == request)
        #expect(payload.readableBytes == 0)
    }
}
