import NIOCore
import Testing

@testable import ZooKeeperProtocol

/// One record, the bytes protocol.md §6 says it must encode to, and the prefix lengths that may
/// legitimately decode (only the handshake records, whose last byte is optional).
struct RecordCase: Sendable, CustomTestStringConvertible {
    let name: String
    let roundTrip: @Sendable () -> Void
    let prefixesFail: @Sendable () -> Void

    init<R: JuteRecord>(_ name: String, _ record: R, _ expected: Wire, optionalTail: Set<Int> = []) {
        self.name = name
        self.roundTrip = { expectRoundTrip(record, bytes: expected) }
        self.prefixesFail = { expectEveryPrefixFails(record, allowing: optionalTail) }
    }

    var testDescription: String { self.name }
}

@Suite("Jute records")
struct RecordTests {
    static let cases: [RecordCase] = {
        let s = Sample.stat
        let p = Sample.password
        return [
            // Data records (§6.1)
            RecordCase("Id", Sample.digestId, Wire().string("digest").string("user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")),
            RecordCase("Id empty id", Id.authenticated, Wire().string("auth").string("")),
            RecordCase("ACL", ACL(permissions: [.read, .write], id: .anyone), Wire().int(3).string("world").string("anyone")),
            RecordCase("Stat", s, Wire().stat(s)),
            RecordCase("Stat negative", Stat(czxid: -1, mzxid: .min, ctime: .max, version: -1, cversion: .min, aversion: .max,
                                             ephemeralOwner: Int64(bitPattern: 0x8000_0000_0000_0000), dataLength: -1, numChildren: .max, pzxid: -2),
                       Wire().long(-1).long(.min).long(.max).long(0).int(-1).int(.min).int(.max)
                           .long(.min).int(-1).int(.max).long(-2)),
            RecordCase("ClientInfo", ClientInfo(authScheme: "ip", user: "127.0.0.1"), Wire().string("ip").string("127.0.0.1")),

            // Session, header and control records (§6.2)
            RecordCase("ConnectRequest readOnly false", ConnectRequest(timeOut: 30000),
                       Wire().int(0).long(0).int(30000).long(0).buffer([UInt8](repeating: 0, count: 16)).bool(false),
                       optionalTail: [44]),
            RecordCase("ConnectRequest resume readOnly true",
                       ConnectRequest(protocolVersion: 0, lastZxidSeen: 0x1_0000_0042, timeOut: 4000, sessionId: 0x1000_0123_4567_0001,
                                      password: p, readOnly: true),
                       Wire().int(0).long(0x1_0000_0042).int(4000).long(0x1000_0123_4567_0001).buffer(p).bool(true),
                       optionalTail: [44]),
            RecordCase("ConnectRequest without readOnly", ConnectRequest(timeOut: 10000, readOnly: nil),
                       Wire().int(0).long(0).int(10000).long(0).buffer([UInt8](repeating: 0, count: 16))),
            RecordCase("ConnectResponse readOnly false", ConnectResponse(timeOut: 30000, sessionId: 0x1000_0ABC_0000_0001, password: p),
                       Wire().int(0).int(30000).long(0x1000_0ABC_0000_0001).buffer(p).bool(false), optionalTail: [36]),
            RecordCase("ConnectResponse readOnly true", ConnectResponse(timeOut: 6000, sessionId: 5, password: p, readOnly: true),
                       Wire().int(0).int(6000).long(5).buffer(p).bool(true), optionalTail: [36]),
            RecordCase("ConnectResponse without readOnly", ConnectResponse(timeOut: 0, sessionId: 0, password: [UInt8](repeating: 0, count: 16), readOnly: nil),
                       Wire().int(0).int(0).long(0).buffer([UInt8](repeating: 0, count: 16))),
            RecordCase("RequestHeader", RequestHeader(xid: 0x0102_0304, type: .getChildren2), Wire().int(0x0102_0304).int(12)),
            RecordCase("RequestHeader ping", RequestHeader(xid: -2, type: .ping), Wire().int(-2).int(11)),
            RecordCase("ReplyHeader", ReplyHeader(xid: 9, zxid: 0x0000_0001_0000_0002, err: -101), Wire().int(9).long(0x1_0000_0002).int(-101)),
            RecordCase("ReplyHeader default err", ReplyHeader(xid: -1, zxid: -1), Wire().int(-1).long(-1).int(0)),
            RecordCase("MultiHeader", MultiHeader(type: .setData, done: false, err: -1), Wire().multiHeader(type: 5, done: false, err: -1)),
            RecordCase("MultiHeader terminator", MultiHeader.terminator, Wire().multiEnd()),
            RecordCase("WatcherEvent", WatcherEvent(type: .nodeChildrenChanged, path: "/a/b"), Wire().int(4).int(3).string("/a/b")),
            RecordCase("WatcherEvent other state", WatcherEvent(type: .none, state: .expired, path: ""), Wire().int(-1).int(-112).string("")),
            RecordCase("ErrorResponse", ErrorResponse(err: -110), Wire().int(-110)),
            RecordCase("AuthPacket", AuthPacket(scheme: "digest", auth: Array("user:password".utf8)),
                       Wire().int(0).string("digest").buffer(Array("user:password".utf8))),
            RecordCase("AuthPacket empty auth", AuthPacket(type: 7, scheme: "ip", auth: []), Wire().int(7).string("ip").buffer([])),
            RecordCase("SetWatches", SetWatches(relativeZxid: 0x42, dataWatches: ["/d1", "/d2"], existWatches: ["/e"], childWatches: []),
                       Wire().long(0x42).strings(["/d1", "/d2"]).strings(["/e"]).strings([])),
            RecordCase("SetWatches2", SetWatches2(relativeZxid: -1, dataWatches: ["/d"], existWatches: [], childWatches: ["/c", "/"],
                                                  persistentWatches: ["/p"], persistentRecursiveWatches: ["/r1", "/r2", "/r3"]),
                       Wire().long(-1).strings(["/d"]).strings([]).strings(["/c", "/"]).strings(["/p"]).strings(["/r1", "/r2", "/r3"])),
            RecordCase("GetSASLRequest", GetSASLRequest(token: [0x60, 0x82, 0x01, 0x00]), Wire().buffer([0x60, 0x82, 0x01, 0x00])),
            RecordCase("SetSASLResponse", SetSASLResponse(token: [1, 2, 3]), Wire().buffer([1, 2, 3])),
            RecordCase("SetSASLResponse null", SetSASLResponse(token: nil), Wire().int(-1)),

            // Operation records (§6.3)
            RecordCase("CreateRequest", CreateRequest(path: "/a", data: Sample.data, acl: Sample.acl, flags: 3),
                       Wire().string("/a").buffer(Sample.data).acl(Sample.acl).int(3)),
            RecordCase("CreateRequest null data", CreateRequest(path: "/queue/", data: nil, acl: ACL.openUnsafe, flags: 2),
                       Wire().string("/queue/").int(-1).acl(ACL.openUnsafe).int(2)),
            RecordCase("CreateTTLRequest", CreateTTLRequest(path: "/t", data: [], acl: ACL.creatorAll, flags: 5, ttl: 0xFF_FFFF_FFFF),
                       Wire().string("/t").buffer([]).acl(ACL.creatorAll).int(5).long(0xFF_FFFF_FFFF)),
            RecordCase("CreateResponse", CreateResponse(path: "/queue/0000000007"), Wire().string("/queue/0000000007")),
            RecordCase("Create2Response", Create2Response(path: "/a", stat: s), Wire().string("/a").stat(s)),
            RecordCase("DeleteRequest", DeleteRequest(path: "/a/b", version: -1), Wire().string("/a/b").int(-1)),
            RecordCase("PathRequest", PathRequest(path: Sample.unicodePath), Wire().string(Sample.unicodePath)),
            RecordCase("PathWatchRequest", PathWatchRequest(path: "/w", watch: true), Wire().string("/w").bool(true)),
            RecordCase("PathWatchRequest no watch", PathWatchRequest(path: "/", watch: false), Wire().string("/").bool(false)),
            RecordCase("StatResponse", StatResponse(stat: s), Wire().stat(s)),
            RecordCase("GetDataResponse", GetDataResponse(data: Array("bar".utf8), stat: s), Wire().buffer(Array("bar".utf8)).stat(s)),
            RecordCase("GetDataResponse null data", GetDataResponse(data: nil, stat: Sample.otherStat), Wire().int(-1).stat(Sample.otherStat)),
            RecordCase("GetDataResponse empty data", GetDataResponse(data: [], stat: s), Wire().int(0).stat(s)),
            RecordCase("SetDataRequest", SetDataRequest(path: "/a", data: [0, 0xff], version: 12), Wire().string("/a").buffer([0, 0xff]).int(12)),
            RecordCase("SetDataRequest null data", SetDataRequest(path: "/a", data: nil, version: -1), Wire().string("/a").int(-1).int(-1)),
            RecordCase("GetACLResponse", GetACLResponse(acl: Sample.acl, stat: s), Wire().acl(Sample.acl).stat(s)),
            RecordCase("SetACLRequest", SetACLRequest(path: "/acl", acl: ACL.readUnsafe, version: 3),
                       Wire().string("/acl").acl(ACL.readUnsafe).int(3)),
            RecordCase("StringListResponse", StringListResponse(strings: ["zookeeper", "a", "日本"]), Wire().strings(["zookeeper", "a", "日本"])),
            RecordCase("StringListResponse empty", StringListResponse(strings: []), Wire().int(0)),
            RecordCase("GetChildren2Response", GetChildren2Response(children: ["x", "y"], stat: s), Wire().strings(["x", "y"]).stat(s)),
            RecordCase("CheckVersionRequest", CheckVersionRequest(path: "/c", version: 0x7fff_fffe), Wire().string("/c").int(0x7fff_fffe)),
            RecordCase("ReconfigRequest", ReconfigRequest(joiningServers: "server.4=h:2888:3888;2181", leavingServers: "2,3",
                                                          newMembers: "", curConfigId: 0x1_0000_0000),
                       Wire().string("server.4=h:2888:3888;2181").string("2,3").string("").long(0x1_0000_0000)),
            RecordCase("ReconfigRequest nulls", ReconfigRequest(joiningServers: nil, leavingServers: "1", newMembers: nil, curConfigId: -1),
                       Wire().int(-1).string("1").int(-1).long(-1)),
            RecordCase("WatchesRequest", WatchesRequest(path: "/w", type: .persistentRecursive), Wire().string("/w").int(5)),
            RecordCase("AddWatchRequest", AddWatchRequest(path: "/w", mode: .persistentRecursive), Wire().string("/w").int(1)),
            RecordCase("GetAllChildrenNumberResponse", GetAllChildrenNumberResponse(totalNumber: 123_456), Wire().int(123_456)),
            RecordCase("WhoAmIResponse", WhoAmIResponse(clientInfo: [ClientInfo(authScheme: "ip", user: "127.0.0.1"),
                                                                     ClientInfo(authScheme: "digest", user: "user")]),
                       Wire().int(2).string("ip").string("127.0.0.1").string("digest").string("user")),
            RecordCase("WhoAmIResponse empty", WhoAmIResponse(clientInfo: []), Wire().int(0)),

            // Multi (§7)
            RecordCase("MultiRequest every op kind", MultiRequest(operations: MultiSamples.everyOperation), MultiSamples.everyOperationWire),
            RecordCase("MultiRequest empty", MultiRequest(operations: []), Wire().multiEnd()),
            RecordCase("MultiResponse every result kind", MultiResponse(results: MultiSamples.everyResult), MultiSamples.everyResultWire),
            RecordCase("MultiResponse empty", MultiResponse(results: []), Wire().multiEnd()),
        ]
    }()

    @Test("round trip with the exact bytes of protocol.md §6", arguments: cases)
    func roundTrip(_ recordCase: RecordCase) {
        recordCase.roundTrip()
    }

    @Test("every truncated encoding throws", arguments: cases)
    func truncation(_ recordCase: RecordCase) {
        recordCase.prefixesFail()
    }

    /// Guards against a record type being added to the module without a case above.
    @Test func everyRecordTypeHasACase() {
        let recordTypes = [
            "Id", "ACL", "Stat", "ClientInfo", "ConnectRequest", "ConnectResponse", "RequestHeader", "ReplyHeader",
            "MultiHeader", "WatcherEvent", "ErrorResponse", "AuthPacket", "SetWatches", "SetWatches2", "GetSASLRequest",
            "SetSASLResponse", "CreateRequest", "CreateTTLRequest", "CreateResponse", "Create2Response", "DeleteRequest",
            "PathRequest", "PathWatchRequest", "StatResponse", "GetDataResponse", "SetDataRequest", "GetACLResponse",
            "SetACLRequest", "StringListResponse", "GetChildren2Response", "CheckVersionRequest", "ReconfigRequest",
            "WatchesRequest", "AddWatchRequest", "GetAllChildrenNumberResponse", "WhoAmIResponse", "MultiRequest",
            "MultiResponse",
        ]
        let covered = Set(Self.cases.map { String($0.name.split(separator: " ")[0]) })
        for type in recordTypes {
            #expect(covered.contains(type), "no round-trip case for \(type)")
        }
        #expect(covered.count == recordTypes.count)
    }

    @Test func statIsSixtyEightBytes() {
        #expect(Stat.encodedSize == 68)
        #expect(Sample.stat.encoded().readableBytes == 68)
        #expect(Stat().encoded().readableArray == [UInt8](repeating: 0, count: 68))
    }

    @Test func decodeExactlyRejectsTrailingBytes() {
        var buffer = ErrorResponse(err: 0).encoded()
        buffer.writeInteger(UInt8(0))
        #expect(throws: JuteDecodingError.trailingBytes(count: 1)) { try ErrorResponse.decodeExactly(buffer) }

        var stat = Sample.stat.encoded()
        stat.writeBytes([1, 2, 3])
        #expect(throws: JuteDecodingError.trailingBytes(count: 3)) { try Stat.decodeExactly(stat) }
    }

    @Test func decodingStopsAtTheEndOfTheRecord() throws {
        // Two records back to back: each decode takes exactly its own bytes.
        var buffer = ByteBuffer()
        RequestHeader(xid: 1, type: .create).encode(into: &buffer)
        CreateRequest(path: "/a", data: nil, acl: ACL.openUnsafe, flags: 0).encode(into: &buffer)
        ReplyHeader(xid: 1, zxid: 2).encode(into: &buffer)
        #expect(try RequestHeader(from: &buffer) == RequestHeader(xid: 1, type: .create))
        #expect(try CreateRequest(from: &buffer) == CreateRequest(path: "/a", data: nil, acl: ACL.openUnsafe, flags: 0))
        #expect(try ReplyHeader(from: &buffer) == ReplyHeader(xid: 1, zxid: 2, err: 0))
        #expect(buffer.readableBytes == 0)
    }

    @Test func encodedUsesAFreshBufferAndWriteJuteRecordAppends() throws {
        var buffer = ByteBuffer(bytes: [0xAA])
        buffer.writeJuteRecord(ErrorResponse(err: 1))
        #expect(buffer.readableArray == [0xAA, 0, 0, 0, 1])
        buffer.moveReaderIndex(forwardBy: 1)
        #expect(try buffer.decodeJuteRecord(ErrorResponse.self) == ErrorResponse(err: 1))
        #expect(ErrorResponse(err: 1).encoded().readableArray == [0, 0, 0, 1])
    }
}
