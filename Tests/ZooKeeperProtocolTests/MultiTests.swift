import NIOCore
import Testing

@testable import ZooKeeperProtocol

enum MultiSamples {
    static let create = CreateRequest(path: "/m/a", data: Array("x".utf8), acl: ACL.openUnsafe, flags: 0)
    static let create2 = CreateRequest(path: "/m/seq-", data: nil, acl: ACL.openUnsafe, flags: 3)
    static let container = CreateRequest(path: "/m/box", data: [], acl: ACL.openUnsafe, flags: 4)
    static let ttl = CreateTTLRequest(path: "/m/ttl", data: [9], acl: ACL.openUnsafe, flags: 5, ttl: 60_000)
    static let delete = DeleteRequest(path: "/m/old", version: 4)
    static let setData = SetDataRequest(path: "/m", data: [1, 2], version: -1)
    static let check = CheckVersionRequest(path: "/m", version: 2)
    static let getData = PathWatchRequest(path: "/m/a", watch: false)
    static let getChildren = PathWatchRequest(path: "/m", watch: true)

    static let writeOperations: [MultiOperation] = [
        .create(create, opCode: .create), .create(create2, opCode: .create2), .create(container, opCode: .createContainer),
        .createTTL(ttl), .delete(delete), .setData(setData), .check(check),
    ]
    static let readOperations: [MultiOperation] = [.getData(getData), .getChildren(getChildren)]
    static let everyOperation = writeOperations + readOperations

    /// §7.1: each op as MultiHeader{type, false, -1} + its request record, then the terminator.
    static let writeOperationsWire = Wire()
        .multiHeader(type: 1, done: false, err: -1).string("/m/a").buffer(Array("x".utf8)).acl(ACL.openUnsafe).int(0)
        .multiHeader(type: 15, done: false, err: -1).string("/m/seq-").int(-1).acl(ACL.openUnsafe).int(3)
        .multiHeader(type: 19, done: false, err: -1).string("/m/box").buffer([]).acl(ACL.openUnsafe).int(4)
        .multiHeader(type: 21, done: false, err: -1).string("/m/ttl").buffer([9]).acl(ACL.openUnsafe).int(5).long(60_000)
        .multiHeader(type: 2, done: false, err: -1).string("/m/old").int(4)
        .multiHeader(type: 5, done: false, err: -1).string("/m").buffer([1, 2]).int(-1)
        .multiHeader(type: 13, done: false, err: -1).string("/m").int(2)
    static let readOperationsWire = Wire()
        .multiHeader(type: 4, done: false, err: -1).string("/m/a").bool(false)
        .multiHeader(type: 8, done: false, err: -1).string("/m").bool(true)
    static let everyOperationWire = Wire(writeOperationsWire.bytes + readOperationsWire.bytes).multiEnd()

    static let everyResult: [MultiResult] = [
        .create(CreateResponse(path: "/m/a")),
        .create2(Create2Response(path: "/m/seq-0000000000", stat: Sample.stat)),
        .delete,
        .setData(Sample.otherStat),
        .check,
        .getData(GetDataResponse(data: Array("x".utf8), stat: Sample.stat)),
        .getData(GetDataResponse(data: nil, stat: Sample.otherStat)),
        .getChildren(["a", "seq-0000000000"]),
        .error(0),
        .error(-101),
        .error(-2),
    ]

    /// §7.2: each result as MultiHeader{type, false, err} + its record, then the terminator.
    static let everyResultWire = Wire()
        .multiHeader(type: 1, done: false, err: 0).string("/m/a")
        .multiHeader(type: 15, done: false, err: 0).string("/m/seq-0000000000").stat(Sample.stat)
        .multiHeader(type: 2, done: false, err: 0)
        .multiHeader(type: 5, done: false, err: 0).stat(Sample.otherStat)
        .multiHeader(type: 13, done: false, err: 0)
        .multiHeader(type: 4, done: false, err: 0).buffer(Array("x".utf8)).stat(Sample.stat)
        .multiHeader(type: 4, done: false, err: 0).int(-1).stat(Sample.otherStat)
        .multiHeader(type: 8, done: false, err: 0).strings(["a", "seq-0000000000"])
        .multiHeader(type: -1, done: false, err: 0).int(0)
        .multiHeader(type: -1, done: false, err: -101).int(-101)
        .multiHeader(type: -1, done: false, err: -2).int(-2)
        .multiEnd()
}

@Suite("Multi")
struct MultiTests {
    @Test("each operation kind alone", arguments: MultiSamples.everyOperation)
    func singleOperation(_ operation: MultiOperation) {
        expectRoundTrip(MultiRequest(operations: [operation]))
        expectRoundTrip(MultiRequest(operations: [operation, operation]))
    }

    @Test("each result kind alone", arguments: MultiSamples.everyResult)
    func singleResult(_ result: MultiResult) {
        expectRoundTrip(MultiResponse(results: [result]))
    }

    @Test func everyOperationKindIsCovered() {
        // Exhaustive switch: adding a MultiOperation case breaks this test until a sample exists.
        func kind(_ operation: MultiOperation) -> String {
            switch operation {
            case .create(_, let opCode): return "create/\(opCode.rawValue)"
            case .createTTL: return "createTTL"
            case .delete: return "delete"
            case .setData: return "setData"
            case .check: return "check"
            case .getData: return "getData"
            case .getChildren: return "getChildren"
            }
        }
        #expect(Set(MultiSamples.everyOperation.map(kind)) == [
            "create/1", "create/15", "create/19", "createTTL", "delete", "setData", "check", "getData", "getChildren",
        ])
        #expect(MultiSamples.writeOperations.allSatisfy { !$0.isRead })
        #expect(MultiSamples.readOperations.allSatisfy { $0.isRead })
    }

    @Test func everyResultKindIsCovered() {
        func kind(_ result: MultiResult) -> String {
            switch result {
            case .create: return "create"
            case .create2: return "create2"
            case .delete: return "delete"
            case .setData: return "setData"
            case .check: return "check"
            case .getData: return "getData"
            case .getChildren: return "getChildren"
            case .error: return "error"
            }
        }
        #expect(Set(MultiSamples.everyResult.map(kind)).count == 8)
    }

    @Test func operationOpCodesAndPaths() {
        #expect(MultiSamples.everyOperation.map(\.opCode) == [
            .create, .create2, .createContainer, .createTTL, .delete, .setData, .check, .getData, .getChildren,
        ])
        #expect(MultiSamples.everyOperation.map(\.path) == [
            "/m/a", "/m/seq-", "/m/box", "/m/ttl", "/m/old", "/m", "/m", "/m/a", "/m",
        ])
        #expect(MultiSamples.everyResult.map(\.opCode) == [
            .create, .create2, .delete, .setData, .check, .getData, .getData, .getChildren, .error, .error, .error,
        ])
    }

    @Test func multiAndMultiReadRequestsRoundTripThroughZooKeeperRequest() throws {
        let write = ZooKeeperRequest.multi(MultiRequest(operations: MultiSamples.writeOperations))
        let read = ZooKeeperRequest.multiRead(MultiRequest(operations: MultiSamples.readOperations))
        for (request, wire, opCode) in [
            (write, Wire(MultiSamples.writeOperationsWire.bytes).multiEnd(), OpCode.multi),
            (read, Wire(MultiSamples.readOperationsWire.bytes).multiEnd(), OpCode.multiRead),
        ] {
            #expect(request.opCode == opCode)
            var body = ByteBuffer()
            request.encodeBody(into: &body)
            #expect(body.readableArray == wire.bytes)
            #expect(try ZooKeeperRequest.decode(opCode: opCode, from: &body) == request)
            #expect(body.readableBytes == 0)
        }
    }

    @Test func multiRejectsReadsAndMultiReadRejectsWrites() {
        let mixed = Wire(MultiSamples.writeOperationsWire.bytes + MultiSamples.readOperationsWire.bytes).multiEnd()
        #expect(decodingError(mixed) { try ZooKeeperRequest.decode(opCode: .multi, from: &$0) }
            == .invalidValue(field: "type", value: 14))
        #expect(decodingError(mixed) { try ZooKeeperRequest.decode(opCode: .multiRead, from: &$0) }
            == .invalidValue(field: "type", value: 22))
        let onlyReads = Wire(MultiSamples.readOperationsWire.bytes).multiEnd()
        #expect(decodingError(onlyReads) { try ZooKeeperRequest.decode(opCode: .multi, from: &$0) }
            == .invalidValue(field: "type", value: 14))
    }

    @Test("unknown op types inside a multi request are rejected", arguments: [0, 3, 6, 7, 9, 11, 12, 14, 16, 20, 22, 100, -1, -11] as [Int32])
    func unknownOperationType(_ type: Int32) {
        // Type -1 with done=false (an error marker) is not an operation either.
        let wire = Wire().multiHeader(type: type, done: false, err: -1).string("/x").int(0).multiEnd()
        #expect(decodingError(wire) { try MultiRequest(from: &$0) } == .invalidValue(field: "type", value: Int64(type)))
    }

    @Test("unknown result types inside a multi response are rejected", arguments: [0, 3, 6, 7, 9, 11, 12, 14, 16, 20, 22, 100, -11] as [Int32])
    func unknownResultType(_ type: Int32) {
        let wire = Wire().multiHeader(type: type, done: false, err: 0).int(0).multiEnd()
        #expect(decodingError(wire) { try MultiResponse(from: &$0) } == .invalidValue(field: "type", value: Int64(type)))
    }

    @Test func terminatorIsRecognisedByTheDoneFlagOnly() throws {
        // §7.1: the server only looks at `done`; type and err of the terminator are not checked.
        var buffer = Wire().multiHeader(type: 5, done: true, err: 0).buffer
        #expect(try MultiRequest(from: &buffer) == MultiRequest(operations: []))
        #expect(buffer.readableBytes == 0)
        // Any non-zero byte is true (Java's readBool).
        buffer = Wire().int(-1).raw([0x7f]).int(-1).buffer
        #expect(try MultiResponse(from: &buffer) == MultiResponse(results: []))
    }

    @Test func missingTerminatorIsTruncated() {
        let wire = Wire().multiHeader(type: 2, done: false, err: -1).string("/a").int(-1)
        #expect(decodingError(wire) { try MultiRequest(from: &$0) } == .truncated(field: "type"))
        let results = Wire().multiHeader(type: 2, done: false, err: 0)
        #expect(decodingError(results) { try MultiResponse(from: &$0) } == .truncated(field: "type"))
    }

    @Test func createVariantsInAResponseDecodeAsCreate2() throws {
        // The server reports create2/createTTL/createContainer sub-results as type 15; accept 19 and 21 too.
        for type: Int32 in [15, 19, 21] {
            var buffer = Wire().multiHeader(type: type, done: false, err: 0).string("/c").stat(Sample.stat).multiEnd().buffer
            #expect(try MultiResponse(from: &buffer) == MultiResponse(results: [.create2(Create2Response(path: "/c", stat: Sample.stat))]))
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func failedTransactionAsTheServerSendsIt() throws {
        // §7.3: ops before the failure err 0, the failing op its code, later ops RUNTIMEINCONSISTENCY.
        let wire = Wire()
            .multiHeader(type: -1, done: false, err: 0).int(0)
            .multiHeader(type: -1, done: false, err: -110).int(-110)
            .multiHeader(type: -1, done: false, err: -2).int(-2)
            .multiEnd()
        var buffer = wire.buffer
        let response = try MultiResponse(from: &buffer)
        #expect(response.results == [.error(0), .error(-110), .error(-2)])
        #expect(response.encoded().readableArray == wire.bytes)
    }

    @Test func multiReadWithAFailedOperation() throws {
        // §7.3: multiRead ops fail independently.
        let response = MultiResponse(results: [
            .getData(GetDataResponse(data: [1], stat: Sample.stat)), .error(ZooKeeperError.Code.noNode.rawValue),
            .getChildren([]),
        ])
        expectRoundTrip(response, bytes: Wire()
            .multiHeader(type: 4, done: false, err: 0).buffer([1]).stat(Sample.stat)
            .multiHeader(type: -1, done: false, err: -101).int(-101)
            .multiHeader(type: 8, done: false, err: 0).int(0)
            .multiEnd())
    }
}

extension MultiOperation: CustomTestStringConvertible {
    public var testDescription: String { "\(self.opCode.name) \(self.path)" }
}

extension MultiResult: CustomTestStringConvertible {
    public var testDescription: String {
        if case .error(let code) = self { return "error(\(code))" }
        return self.opCode.name
    }
}
