import NIOCore

/// Every request a client can send after the handshake, with the record its op code carries.
public enum ZooKeeperRequest: Hashable, Sendable {
    case create(CreateRequest)
    case create2(CreateRequest)
    case createContainer(CreateRequest)
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case exists(PathWatchRequest)
    case getData(PathWatchRequest)
    case setData(SetDataRequest)
    case getACL(PathRequest)
    case setACL(SetACLRequest)
    case getChildren(PathWatchRequest)
    case getChildren2(PathWatchRequest)
    case sync(PathRequest)
    case ping
    /// Only valid inside multi; 3.9.3+ servers reject it at top level.
    case check(CheckVersionRequest)
    case multi(MultiRequest)
    case multiRead(MultiRequest)
    case reconfig(ReconfigRequest)
    case checkWatches(WatchesRequest)
    case removeWatches(WatchesRequest)
    /// Server-internal; clients must not send it.
    case deleteContainer(PathRequest)
    case auth(AuthPacket)
    case setWatches(SetWatches)
    case sasl(GetSASLRequest)
    case getEphemerals(PathRequest)
    case getAllChildrenNumber(PathRequest)
    case setWatches2(SetWatches2)
    case addWatch(AddWatchRequest)
    case whoAmI
    case closeSession

    /// The op code sent in the request header.
    public var opCode: OpCode {
        switch self {
        case .create: return .create
        case .create2: return .create2
        case .createContainer: return .createContainer
        case .createTTL: return .createTTL
        case .delete: return .delete
        case .exists: return .exists
        case .getData: return .getData
        case .setData: return .setData
        case .getACL: return .getACL
        case .setACL: return .setACL
        case .getChildren: return .getChildren
        case .getChildren2: return .getChildren2
        case .sync: return .sync
        case .ping: return .ping
        case .check: return .check
        case .multi: return .multi
        case .multiRead: return .multiRead
        case .reconfig: return .reconfig
        case .checkWatches: return .checkWatches
        case .removeWatches: return .removeWatches
        case .deleteContainer: return .deleteContainer
        case .auth: return .auth
        case .setWatches: return .setWatches
        case .sasl: return .sasl
        case .getEphemerals: return .getEphemerals
        case .getAllChildrenNumber: return .getAllChildrenNumber
        case .setWatches2: return .setWatches2
        case .addWatch: return .addWatch
        case .whoAmI: return .whoAmI
        case .closeSession: return .closeSession
        }
    }

    /// The path the request names, for error messages; nil for requests without one.
    public var path: String? {
        switch self {
        case .create(let r), .create2(let r), .createContainer(let r): return r.path
        case .createTTL(let r): return r.path
        case .delete(let r): return r.path
        case .exists(let r), .getData(let r), .getChildren(let r), .getChildren2(let r): return r.path
        case .setData(let r): return r.path
        case .getACL(let r), .sync(let r), .deleteContainer(let r), .getEphemerals(let r),
             .getAllChildrenNumber(let r):
            return r.path
        case .setACL(let r): return r.path
        case .check(let r): return r.path
        case .checkWatches(let r), .removeWatches(let r): return r.path
        case .addWatch(let r): return r.path
        case .ping, .multi, .multiRead, .reconfig, .auth, .setWatches, .sasl, .setWatches2, .whoAmI,
             .closeSession:
            return nil
        }
    }

    /// Appends the request's record (nothing for ping, whoAmI and closeSession).
    public func encodeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .create(let r), .create2(let r), .createContainer(let r): r.encode(into: &buffer)
        case .createTTL(let r): r.encode(into: &buffer)
        case .delete(let r): r.encode(into: &buffer)
        case .exists(let r), .getData(let r), .getChildren(let r), .getChildren2(let r): r.encode(into: &buffer)
        case .setData(let r): r.encode(into: &buffer)
        case .getACL(let r), .sync(let r), .deleteContainer(let r), .getEphemerals(let r),
             .getAllChildrenNumber(let r):
            r.encode(into: &buffer)
        case .setACL(let r): r.encode(into: &buffer)
        case .check(let r): r.encode(into: &buffer)
        case .multi(let r), .multiRead(let r): r.encode(into: &buffer)
        case .reconfig(let r): r.encode(into: &buffer)
        case .checkWatches(let r), .removeWatches(let r): r.encode(into: &buffer)
        case .auth(let r): r.encode(into: &buffer)
        case .setWatches(let r): r.encode(into: &buffer)
        case .sasl(let r): r.encode(into: &buffer)
        case .setWatches2(let r): r.encode(into: &buffer)
        case .addWatch(let r): r.encode(into: &buffer)
        case .ping, .whoAmI, .closeSession: break
        }
    }

    /// Decodes the record that follows a request header with `opCode`.
    /// Unknown op codes throw ``JuteDecodingError/invalidValue(field:value:)``.
    public static func decode(opCode: OpCode, from buffer: inout ByteBuffer) throws(JuteDecodingError) -> ZooKeeperRequest {
        switch opCode {
        case .create: return .create(try CreateRequest(from: &buffer))
        case .create2: return .create2(try CreateRequest(from: &buffer))
        case .createContainer: return .createContainer(try CreateRequest(from: &buffer))
        case .createTTL: return .createTTL(try CreateTTLRequest(from: &buffer))
        case .delete: return .delete(try DeleteRequest(from: &buffer))
        case .exists: return .exists(try PathWatchRequest(from: &buffer))
        case .getData: return .getData(try PathWatchRequest(from: &buffer))
        case .setData: return .setData(try SetDataRequest(from: &buffer))
        case .getACL: return .getACL(try PathRequest(from: &buffer))
        case .setACL: return .setACL(try SetACLRequest(from: &buffer))
        case .getChildren: return .getChildren(try PathWatchRequest(from: &buffer))
        case .getChildren2: return .getChildren2(try PathWatchRequest(from: &buffer))
        case .sync: return .sync(try PathRequest(from: &buffer))
        case .ping: return .ping
        case .check: return .check(try CheckVersionRequest(from: &buffer))
        case .multi:
            let request = try MultiRequest(from: &buffer)
            guard request.operations.allSatisfy({ !$0.isRead }) else { throw .invalidValue(field: "type", value: 14) }
            return .multi(request)
        case .multiRead:
            let request = try MultiRequest(from: &buffer)
            guard request.operations.allSatisfy(\.isRead) else { throw .invalidValue(field: "type", value: 22) }
            return .multiRead(request)
        case .reconfig: return .reconfig(try ReconfigRequest(from: &buffer))
        case .checkWatches: return .checkWatches(try WatchesRequest(from: &buffer))
        case .removeWatches: return .removeWatches(try WatchesRequest(from: &buffer))
        case .deleteContainer: return .deleteContainer(try PathRequest(from: &buffer))
        case .auth: return .auth(try AuthPacket(from: &buffer))
        case .setWatches: return .setWatches(try SetWatches(from: &buffer))
        case .sasl: return .sasl(try GetSASLRequest(from: &buffer))
        case .getEphemerals: return .getEphemerals(try PathRequest(from: &buffer))
        case .getAllChildrenNumber: return .getAllChildrenNumber(try PathRequest(from: &buffer))
        case .setWatches2: return .setWatches2(try SetWatches2(from: &buffer))
        case .addWatch: return .addWatch(try AddWatchRequest(from: &buffer))
        case .whoAmI: return .whoAmI
        case .closeSession: return .closeSession
        default: throw .invalidValue(field: "type", value: Int64(opCode.rawValue))
        }
    }
}

/// The record that follows a successful reply header, decoded by the op code of the request.
public enum ZooKeeperResponse: Hashable, Sendable {
    /// No body: delete, ping, auth, sync-less replies, setWatches, checkWatches, removeWatches, closeSession.
    case empty
    case create(CreateResponse)
    case create2(Create2Response)
    /// exists, setData and setACL.
    case stat(Stat)
    /// getData and reconfig.
    case getData(GetDataResponse)
    case getACL(GetACLResponse)
    case getChildren([String])
    case getChildren2(GetChildren2Response)
    case sync(String)
    case multi(MultiResponse)
    case sasl(SetSASLResponse)
    case getEphemerals([String])
    case getAllChildrenNumber(Int32)
    /// addWatch always carries an error code body of 0.
    case addWatch(ErrorResponse)
    case whoAmI([ClientInfo])

    /// Decodes the body of a successful (err 0) reply to a request with `opCode`.
    public static func decode(opCode: OpCode, from buffer: inout ByteBuffer) throws(JuteDecodingError) -> ZooKeeperResponse {
        switch opCode {
        case .create: return .create(try CreateResponse(from: &buffer))
        case .create2, .createContainer, .createTTL: return .create2(try Create2Response(from: &buffer))
        case .exists, .setData, .setACL: return .stat(try Stat(from: &buffer))
        case .getData, .reconfig: return .getData(try GetDataResponse(from: &buffer))
        case .getACL: return .getACL(try GetACLResponse(from: &buffer))
        case .getChildren: return .getChildren(try buffer.decodeJuteStringVector("children"))
        case .getChildren2: return .getChildren2(try GetChildren2Response(from: &buffer))
        case .sync: return .sync(try buffer.decodeJuteStringNonNull("path"))
        case .multi, .multiRead: return .multi(try MultiResponse(from: &buffer))
        case .sasl: return .sasl(try SetSASLResponse(from: &buffer))
        case .getEphemerals: return .getEphemerals(try buffer.decodeJuteStringVector("ephemerals"))
        case .getAllChildrenNumber: return .getAllChildrenNumber(try buffer.decodeJuteInt("totalNumber"))
        case .addWatch: return .addWatch(try ErrorResponse(from: &buffer))
        case .whoAmI: return .whoAmI(try WhoAmIResponse(from: &buffer).clientInfo)
        default: return .empty
        }
    }

    /// Appends the body.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .empty: break
        case .create(let r): r.encode(into: &buffer)
        case .create2(let r): r.encode(into: &buffer)
        case .stat(let stat): stat.encode(into: &buffer)
        case .getData(let r): r.encode(into: &buffer)
        case .getACL(let r): r.encode(into: &buffer)
        case .getChildren(let children), .getEphemerals(let children): buffer.writeJuteStringVector(children)
        case .getChildren2(let r): r.encode(into: &buffer)
        case .sync(let path): buffer.writeJuteString(path)
        case .multi(let r): r.encode(into: &buffer)
        case .sasl(let r): r.encode(into: &buffer)
        case .getAllChildrenNumber(let number): buffer.writeJuteInt(number)
        case .addWatch(let r): r.encode(into: &buffer)
        case .whoAmI(let info): WhoAmIResponse(clientInfo: info).encode(into: &buffer)
        }
    }
}
