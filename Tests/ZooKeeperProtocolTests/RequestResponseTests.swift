import NIOCore
import Testing

@testable import ZooKeeperProtocol

/// A request, the op code its header must carry, the path it names, and its body per §6.
struct RequestCase: Sendable, CustomTestStringConvertible {
    let request: ZooKeeperRequest
    let opCode: OpCode
    let path: String?
    let body: Wire

    var testDescription: String { caseName(self.request) }
}

/// The case name, through an exhaustive switch: adding a request case fails to compile here until
/// the samples below cover it.
func caseName(_ request: ZooKeeperRequest) -> String {
    switch request {
    case .create: return "create"
    case .create2: return "create2"
    case .createContainer: return "createContainer"
    case .createTTL: return "createTTL"
    case .delete: return "delete"
    case .exists: return "exists"
    case .getData: return "getData"
    case .setData: return "setData"
    case .getACL: return "getACL"
    case .setACL: return "setACL"
    case .getChildren: return "getChildren"
    case .getChildren2: return "getChildren2"
    case .sync: return "sync"
    case .ping: return "ping"
    case .check: return "check"
    case .multi: return "multi"
    case .multiRead: return "multiRead"
    case .reconfig: return "reconfig"
    case .checkWatches: return "checkWatches"
    case .removeWatches: return "removeWatches"
    case .deleteContainer: return "deleteContainer"
    case .auth: return "auth"
    case .setWatches: return "setWatches"
    case .sasl: return "sasl"
    case .getEphemerals: return "getEphemerals"
    case .getAllChildrenNumber: return "getAllChildrenNumber"
    case .setWatches2: return "setWatches2"
    case .addWatch: return "addWatch"
    case .whoAmI: return "whoAmI"
    case .closeSession: return "closeSession"
    }
}

func caseName(_ response: ZooKeeperResponse) -> String {
    switch response {
    case .empty: return "empty"
    case .create: return "create"
    case .create2: return "create2"
    case .stat: return "stat"
    case .getData: return "getData"
    case .getACL: return "getACL"
    case .getChildren: return "getChildren"
    case .getChildren2: return "getChildren2"
    case .sync: return "sync"
    case .multi: return "multi"
    case .sasl: return "sasl"
    case .getEphemerals: return "getEphemerals"
    case .getAllChildrenNumber: return "getAllChildrenNumber"
    case .addWatch: return "addWatch"
    case .whoAmI: return "whoAmI"
    }
}

enum RequestSamples {
    static let create = CreateRequest(path: "/a", data: Sample.data, acl: Sample.acl, flags: 1)
    static let createWire = Wire().string("/a").buffer(Sample.data).acl(Sample.acl).int(1)

    static let all: [RequestCase] = [
        RequestCase(request: .create(create), opCode: .create, path: "/a", body: createWire),
        RequestCase(request: .create2(create), opCode: .create2, path: "/a", body: createWire),
        RequestCase(request: .createContainer(CreateRequest(path: "/box", data: nil, acl: ACL.openUnsafe, flags: 4)),
                    opCode: .createContainer, path: "/box", body: Wire().string("/box").int(-1).acl(ACL.openUnsafe).int(4)),
        RequestCase(request: .createTTL(CreateTTLRequest(path: "/ttl", data: [1], acl: ACL.openUnsafe, flags: 6, ttl: 1)),
                    opCode: .createTTL, path: "/ttl", body: Wire().string("/ttl").buffer([1]).acl(ACL.openUnsafe).int(6).long(1)),
        RequestCase(request: .delete(DeleteRequest(path: "/d", version: 3)), opCode: .delete, path: "/d",
                    body: Wire().string("/d").int(3)),
        RequestCase(request: .exists(PathWatchRequest(path: "/e", watch: true)), opCode: .exists, path: "/e",
                    body: Wire().string("/e").bool(true)),
        RequestCase(request: .getData(PathWatchRequest(path: "/foo", watch: true)), opCode: .getData, path: "/foo",
                    body: Wire().string("/foo").bool(true)),
        RequestCase(request: .setData(SetDataRequest(path: "/s", data: Array("v".utf8), version: -1)), opCode: .setData,
                    path: "/s", body: Wire().string("/s").buffer(Array("v".utf8)).int(-1)),
        RequestCase(request: .getACL(PathRequest(path: "/acl")), opCode: .getACL, path: "/acl", body: Wire().string("/acl")),
        RequestCase(request: .setACL(SetACLRequest(path: "/acl", acl: Sample.acl, version: 0)), opCode: .setACL, path: "/acl",
                    body: Wire().string("/acl").acl(Sample.acl).int(0)),
        RequestCase(request: .getChildren(PathWatchRequest(path: "/", watch: false)), opCode: .getChildren, path: "/",
                    body: Wire().string("/").bool(false)),
        RequestCase(request: .getChildren2(PathWatchRequest(path: "/c", watch: true)), opCode: .getChildren2, path: "/c",
                    body: Wire().string("/c").bool(true)),
        RequestCase(request: .sync(PathRequest(path: "/sync")), opCode: .sync, path: "/sync", body: Wire().string("/sync")),
        RequestCase(request: .ping, opCode: .ping, path: nil, body: Wire()),
        RequestCase(request: .check(CheckVersionRequest(path: "/k", version: 5)), opCode: .check, path: "/k",
                    body: Wire().string("/k").int(5)),
        RequestCase(request: .multi(MultiRequest(operations: MultiSamples.writeOperations)), opCode: .multi, path: nil,
                    body: Wire(MultiSamples.writeOperationsWire.bytes).multiEnd()),
        RequestCase(request: .multiRead(MultiRequest(operations: MultiSamples.readOperations)), opCode: .multiRead, path: nil,
                    body: Wire(MultiSamples.readOperationsWire.bytes).multiEnd()),
        RequestCase(request: .reconfig(ReconfigRequest(joiningServers: nil, leavingServers: "3", newMembers: nil, curConfigId: -1)),
                    opCode: .reconfig, path: nil, body: Wire().int(-1).string("3").int(-1).long(-1)),
        RequestCase(request: .checkWatches(WatchesRequest(path: "/w", type: .data)), opCode: .checkWatches, path: "/w",
                    body: Wire().string("/w").int(2)),
        RequestCase(request: .removeWatches(WatchesRequest(path: "/w", type: .any)), opCode: .removeWatches, path: "/w",
                    body: Wire().string("/w").int(3)),
        RequestCase(request: .deleteContainer(PathRequest(path: "/box")), opCode: .deleteContainer, path: "/box",
                    body: Wire().string("/box")),
        RequestCase(request: .auth(AuthPacket(scheme: "digest", auth: Array("user:password".utf8))), opCode: .auth, path: nil,
                    body: Wire().int(0).string("digest").buffer(Array("user:password".utf8))),
        RequestCase(request: .setWatches(SetWatches(relativeZxid: 7, dataWatches: ["/d"], existWatches: ["/e"], childWatches: ["/c"])),
                    opCode: .setWatches, path: nil, body: Wire().long(7).strings(["/d"]).strings(["/e"]).strings(["/c"])),
        RequestCase(request: .sasl(GetSASLRequest(token: [0xde, 0xad])), opCode: .sasl, path: nil, body: Wire().buffer([0xde, 0xad])),
        RequestCase(request: .getEphemerals(PathRequest(path: "/app")), opCode: .getEphemerals, path: "/app", body: Wire().string("/app")),
        RequestCase(request: .getAllChildrenNumber(PathRequest(path: "/n")), opCode: .getAllChildrenNumber, path: "/n",
                    body: Wire().string("/n")),
        RequestCase(request: .setWatches2(SetWatches2(relativeZxid: 8, dataWatches: [], existWatches: [], childWatches: [],
                                                      persistentWatches: ["/p"], persistentRecursiveWatches: ["/r"])),
                    opCode: .setWatches2, path: nil,
                    body: Wire().long(8).strings([]).strings([]).strings([]).strings(["/p"]).strings(["/r"])),
        RequestCase(request: .addWatch(AddWatchRequest(path: "/aw", mode: .persistent)), opCode: .addWatch, path: "/aw",
                    body: Wire().string("/aw").int(0)),
        RequestCase(request: .whoAmI, opCode: .whoAmI, path: nil, body: Wire()),
        RequestCase(request: .closeSession, opCode: .closeSession, path: nil, body: Wire()),
    ]
}

/// A response, an op code whose reply carries it, and its body per §5/§6.
struct ResponseCase: Sendable, CustomTestStringConvertible {
    let response: ZooKeeperResponse
    let opCode: OpCode
    let body: Wire

    var testDescription: String { "\(caseName(self.response)) for \(self.opCode.name)" }
}

enum ResponseSamples {
    static let s = Sample.stat
    static let all: [ResponseCase] = [
        ResponseCase(response: .empty, opCode: .delete, body: Wire()),
        ResponseCase(response: .create(CreateResponse(path: "/q/0000000001")), opCode: .create, body: Wire().string("/q/0000000001")),
        ResponseCase(response: .create2(Create2Response(path: "/a", stat: s)), opCode: .create2, body: Wire().string("/a").stat(s)),
        ResponseCase(response: .stat(s), opCode: .exists, body: Wire().stat(s)),
        ResponseCase(response: .getData(GetDataResponse(data: Array("bar".utf8), stat: s)), opCode: .getData,
                     body: Wire().buffer(Array("bar".utf8)).stat(s)),
        ResponseCase(response: .getACL(GetACLResponse(acl: Sample.acl, stat: s)), opCode: .getACL, body: Wire().acl(Sample.acl).stat(s)),
        ResponseCase(response: .getChildren(["zookeeper", "a"]), opCode: .getChildren, body: Wire().strings(["zookeeper", "a"])),
        ResponseCase(response: .getChildren2(GetChildren2Response(children: ["b"], stat: s)), opCode: .getChildren2,
                     body: Wire().strings(["b"]).stat(s)),
        ResponseCase(response: .sync("/sync"), opCode: .sync, body: Wire().string("/sync")),
        ResponseCase(response: .multi(MultiResponse(results: MultiSamples.everyResult)), opCode: .multi, body: MultiSamples.everyResultWire),
        ResponseCase(response: .sasl(SetSASLResponse(token: [5, 6])), opCode: .sasl, body: Wire().buffer([5, 6])),
        ResponseCase(response: .getEphemerals(["/app/e1", "/e2"]), opCode: .getEphemerals, body: Wire().strings(["/app/e1", "/e2"])),
        ResponseCase(response: .getAllChildrenNumber(42), opCode: .getAllChildrenNumber, body: Wire().int(42)),
        ResponseCase(response: .addWatch(ErrorResponse(err: 0)), opCode: .addWatch, body: Wire().int(0)),
        ResponseCase(response: .whoAmI([ClientInfo(authScheme: "ip", user: "10.1.2.3")]), opCode: .whoAmI,
                     body: Wire().int(1).string("ip").string("10.1.2.3")),
    ]

    /// Every op code, and the response case its successful reply decodes to (§5, response column).
    static let responseKindByOpCode: [(OpCode, String)] = [
        (.create, "create"), (.delete, "empty"), (.exists, "stat"), (.getData, "getData"), (.setData, "stat"),
        (.getACL, "getACL"), (.setACL, "stat"), (.getChildren, "getChildren"), (.sync, "sync"), (.ping, "empty"),
        (.getChildren2, "getChildren2"), (.check, "empty"), (.multi, "multi"), (.create2, "create2"),
        (.reconfig, "getData"), (.checkWatches, "empty"), (.removeWatches, "empty"), (.createContainer, "create2"),
        (.deleteContainer, "empty"), (.createTTL, "create2"), (.multiRead, "multi"), (.auth, "empty"),
        (.setWatches, "empty"), (.sasl, "sasl"), (.getEphemerals, "getEphemerals"),
        (.getAllChildrenNumber, "getAllChildrenNumber"), (.setWatches2, "empty"), (.addWatch, "addWatch"),
        (.whoAmI, "whoAmI"), (.closeSession, "empty"),
    ]
}

@Suite("Requests and responses")
struct RequestResponseTests {
    @Test("every request: header op code, body bytes, frame round trip", arguments: RequestSamples.all)
    func requestRoundTrip(_ sample: RequestCase) throws {
        #expect(sample.request.opCode == sample.opCode)
        #expect(sample.request.path == sample.path)

        var body = ByteBuffer()
        sample.request.encodeBody(into: &body)
        #expect(body.readableArray == sample.body.bytes)

        var frame = ByteBuffer()
        frame.writeRequestFrame(xid: 0x1234, request: sample.request)
        #expect(frame.readableArray == Wire().int(0x1234).int(sample.opCode.rawValue).raw(sample.body.bytes).framed().bytes)

        var decoder = ZooKeeperFrameDecoder()
        var payload = try #require(try decoder.nextFrame(from: &frame))
        #expect(frame.readableBytes == 0)
        let header = try RequestHeader(from: &payload)
        #expect(header == RequestHeader(xid: 0x1234, type: sample.opCode))
        let decoded = try ZooKeeperRequest.decode(opCode: header.type, from: &payload)
        #expect(decoded == sample.request)
        #expect(payload.readableBytes == 0, "request body decode left \(payload.readableBytes) bytes")
    }

    @Test("every response: body bytes and round trip", arguments: ResponseSamples.all)
    func responseRoundTrip(_ sample: ResponseCase) throws {
        var body = ByteBuffer()
        sample.response.encode(into: &body)
        #expect(body.readableArray == sample.body.bytes)

        var frame = ByteBuffer()
        let header = ReplyHeader(xid: 77, zxid: 0x1_0000_0005, err: 0)
        frame.writeReplyFrame(header: header, response: sample.response)
        #expect(frame.readableArray == Wire().int(77).long(0x1_0000_0005).int(0).raw(sample.body.bytes).framed().bytes)

        var decoder = ZooKeeperFrameDecoder()
        var payload = try #require(try decoder.nextFrame(from: &frame))
        #expect(try ReplyHeader(from: &payload) == header)
        let decoded = try ZooKeeperResponse.decode(opCode: sample.opCode, from: &payload)
        #expect(decoded == sample.response)
        #expect(payload.readableBytes == 0, "response body decode left \(payload.readableBytes) bytes")
    }

    @Test func everyRequestCaseHasASample() {
        #expect(Set(RequestSamples.all.map { caseName($0.request) }).count == 30)
        #expect(RequestSamples.all.count == 30)
    }

    @Test func everyResponseCaseHasASample() {
        #expect(Set(ResponseSamples.all.map { caseName($0.response) }).count == 15)
    }

    /// Like go-zookeeper's test that `requestStructForOp` covers every op code: every op code a
    /// client (or the server's container reaper) can put in a request header decodes.
    @Test func requestDecodeCoversEveryClientOpCode() throws {
        let notRequests: Set<OpCode> = [.notification, .createSession, .error]
        let clientOpCodes = OpCode.allDefined.filter { !notRequests.contains($0) }
        #expect(clientOpCodes.count == 30)
        #expect(Set(RequestSamples.all.map(\.opCode)) == Set(clientOpCodes))
        for opCode in clientOpCodes {
            let sample = try #require(RequestSamples.all.first { $0.opCode == opCode })
            var body = sample.body.buffer
            #expect(throws: Never.self, "decode(opCode: \(opCode))") {
                let request = try ZooKeeperRequest.decode(opCode: opCode, from: &body)
                #expect(request.opCode == opCode)
            }
            #expect(body.readableBytes == 0)
        }
    }

    @Test("request decode rejects op codes that are not requests",
          arguments: [0, -1, -10, 10, 23, 50, 99, 108, 200, -2, -12, Int32.max, Int32.min] as [Int32])
    func requestDecodeRejectsUnknownOpCodes(_ raw: Int32) {
        var buffer = Wire().string("/x").bool(false).buffer
        #expect(throws: JuteDecodingError.invalidValue(field: "type", value: Int64(raw))) {
            try ZooKeeperRequest.decode(opCode: OpCode(rawValue: raw), from: &buffer)
        }
    }

    @Test func responseDecodeKnowsTheBodyOfEveryOpCode() throws {
        #expect(Set(ResponseSamples.responseKindByOpCode.map(\.0)).count == 30)
        for (opCode, expectedKind) in ResponseSamples.responseKindByOpCode {
            let sample = try #require(ResponseSamples.all.first { caseName($0.response) == expectedKind })
            var body = sample.body.buffer
            let decoded = try ZooKeeperResponse.decode(opCode: opCode, from: &body)
            #expect(caseName(decoded) == expectedKind, "reply to \(opCode)")
            #expect(body.readableBytes == 0, "reply to \(opCode) left \(body.readableBytes) bytes")
        }
    }

    @Test func responsesOfSharedShapes() throws {
        // exists/setData/setACL all carry one Stat; createContainer and createTTL reply Create2Response;
        // reconfig replies GetDataResponse; multiRead replies MultiResponse.
        for opCode: OpCode in [.exists, .setData, .setACL] {
            var body = Wire().stat(Sample.stat).buffer
            #expect(try ZooKeeperResponse.decode(opCode: opCode, from: &body) == .stat(Sample.stat))
        }
        for opCode: OpCode in [.create2, .createContainer, .createTTL] {
            var body = Wire().string("/n").stat(Sample.stat).buffer
            #expect(try ZooKeeperResponse.decode(opCode: opCode, from: &body) == .create2(Create2Response(path: "/n", stat: Sample.stat)))
        }
        var config = Wire().buffer(Array("server.1=a:2888:3888".utf8)).stat(Sample.stat).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .reconfig, from: &config)
            == .getData(GetDataResponse(data: Array("server.1=a:2888:3888".utf8), stat: Sample.stat)))
        var multiRead = MultiSamples.everyResultWire.buffer
        #expect(try ZooKeeperResponse.decode(opCode: .multiRead, from: &multiRead) == .multi(MultiResponse(results: MultiSamples.everyResult)))
    }

    @Test func responsesWithNullVectorsDecodeAsEmpty() throws {
        var children = Wire().int(-1).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .getChildren, from: &children) == .getChildren([]))
        var ephemerals = Wire().int(-1).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .getEphemerals, from: &ephemerals) == .getEphemerals([]))
        var whoAmI = Wire().int(-1).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .whoAmI, from: &whoAmI) == .whoAmI([]))
        var acl = Wire().int(-1).stat(Sample.stat).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .getACL, from: &acl) == .getACL(GetACLResponse(acl: [], stat: Sample.stat)))
        var sync = Wire().int(-1).buffer
        #expect(try ZooKeeperResponse.decode(opCode: .sync, from: &sync) == .sync(""))
    }

    @Test func truncatedResponsesThrow() {
        #expect(decodingError(Wire().int(5).raw([0, 0])) { try ZooKeeperResponse.decode(opCode: .getChildren, from: &$0) }
            == .unreasonableLength(field: "children", length: 5))
        #expect(decodingError(Wire().raw([0, 0, 0])) { try ZooKeeperResponse.decode(opCode: .getAllChildrenNumber, from: &$0) }
            == .truncated(field: "totalNumber"))
        #expect(decodingError(Wire().buffer([1]).long(1).long(2)) { try ZooKeeperResponse.decode(opCode: .getData, from: &$0) }
            == .truncated(field: "ctime"))
    }
}
