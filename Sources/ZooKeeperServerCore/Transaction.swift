import NIOCore
import ZooKeeperProtocol

/// ZooKeeper's `TxnHeader`: who asked, which request, which zxid, when (leader wall clock), what.
public struct TxnHeader: Hashable, Sendable {
    public var clientId: Int64
    public var cxid: Int32
    public var zxid: Int64
    public var time: Int64
    public var type: OpCode

    public init(clientId: Int64, cxid: Int32, zxid: Int64, time: Int64, type: OpCode) {
        self.clientId = clientId
        self.cxid = cxid
        self.zxid = zxid
        self.time = time
        self.type = type
    }
}

/// The body of a transaction. Applying one to a `DataTree` is deterministic: every value that
/// depends on "now" or on the session is in the header or the body.
public indirect enum TxnBody: Hashable, Sendable {
    /// Session timeout in ms; the session id is the header's clientId.
    case createSession(timeout: Int32)
    /// The ephemeral paths to delete (all of the session's ephemerals when the txn was made).
    case closeSession(paths: [String])
    /// create / create2 / createContainer / createTTL. `ephemeralOwner` encodes the kind (§13.4).
    case create(path: String, data: [UInt8]?, acl: [ACL], ephemeralOwner: Int64, parentCVersion: Int32)
    case delete(path: String)
    case deleteContainer(path: String)
    case setData(path: String, data: [UInt8]?, version: Int32)
    case setACL(path: String, acl: [ACL], version: Int32)
    /// check inside a multi: changes nothing.
    case check(path: String, version: Int32)
    /// A failed write: consumes its zxid, changes nothing.
    case error(ZooKeeperError.Code)
    /// Sub-transactions (type, body); all-error lists for a failed multi.
    case multi([SubTxn])

    public struct SubTxn: Hashable, Sendable {
        public var type: OpCode
        public var body: TxnBody
        public init(type: OpCode, body: TxnBody) {
            self.type = type
            self.body = body
        }
    }
}

public struct Transaction: Hashable, Sendable {
    public var header: TxnHeader
    public var body: TxnBody

    public init(header: TxnHeader, body: TxnBody) {
        self.header = header
        self.body = body
    }

    public var zxid: Int64 { self.header.zxid }

    /// Jute encoding: TxnHeader then the body record.
    public func encoded() -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        buffer.writeJuteLong(self.header.clientId)
        buffer.writeJuteInt(self.header.cxid)
        buffer.writeJuteLong(self.header.zxid)
        buffer.writeJuteLong(self.header.time)
        buffer.writeJuteInt(self.header.type.rawValue)
        Self.encodeBody(self.body, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func encodeBody(_ body: TxnBody, into buffer: inout ByteBuffer) {
        switch body {
        case .createSession(let timeout):
            buffer.writeJuteInt(timeout)
        case .closeSession(let paths):
            buffer.writeJuteStringVector(paths)
        case .create(let path, let data, let acl, let owner, let parentCVersion):
            buffer.writeJuteString(path)
            buffer.writeJuteBuffer(data)
            buffer.writeACLVector(acl)
            buffer.writeJuteLong(owner)
            buffer.writeJuteInt(parentCVersion)
        case .delete(let path), .deleteContainer(let path):
            buffer.writeJuteString(path)
        case .setData(let path, let data, let version):
            buffer.writeJuteString(path)
            buffer.writeJuteBuffer(data)
            buffer.writeJuteInt(version)
        case .setACL(let path, let acl, let version):
            buffer.writeJuteString(path)
            buffer.writeACLVector(acl)
            buffer.writeJuteInt(version)
        case .check(let path, let version):
            buffer.writeJuteString(path)
            buffer.writeJuteInt(version)
        case .error(let code):
            buffer.writeJuteInt(code.rawValue)
        case .multi(let subs):
            buffer.writeJuteInt(Int32(subs.count))
            for sub in subs {
                buffer.writeJuteInt(sub.type.rawValue)
                var inner = ByteBufferAllocator().buffer(capacity: 64)
                Self.encodeBody(sub.body, into: &inner)
                buffer.writeJuteBuffer(Array(inner.readableBytesView))
            }
        }
    }

    public init(bytes: [UInt8]) throws(JuteDecodingError) {
        var buffer = ByteBufferAllocator().buffer(bytes: bytes)
        let header = TxnHeader(
            clientId: try buffer.txnLong("clientId"), cxid: try buffer.txnInt("cxid"),
            zxid: try buffer.txnLong("zxid"), time: try buffer.txnLong("time"),
            type: OpCode(rawValue: try buffer.txnInt("type")))
        self.header = header
        self.body = try Self.decodeBody(type: header.type, from: &buffer)
        guard buffer.readableBytes == 0 else { throw .trailingBytes(count: buffer.readableBytes) }
    }

    static func decodeBody(type: OpCode, from buffer: inout ByteBuffer) throws(JuteDecodingError) -> TxnBody {
        switch type {
        case .createSession: return .createSession(timeout: try buffer.txnInt("timeOut"))
        case .closeSession: return .closeSession(paths: try buffer.decodeJuteStringVector("paths2Delete"))
        case .create, .create2, .createContainer, .createTTL:
            return .create(
                path: try buffer.decodeJuteStringNonNull("path"), data: try buffer.decodeJuteBuffer("data"),
                acl: try buffer.decodeACLVector(), ephemeralOwner: try buffer.txnLong("ephemeralOwner"),
                parentCVersion: try buffer.txnInt("parentCVersion"))
        case .delete: return .delete(path: try buffer.decodeJuteStringNonNull("path"))
        case .deleteContainer: return .deleteContainer(path: try buffer.decodeJuteStringNonNull("path"))
        case .setData, .reconfig:
            return .setData(
                path: try buffer.decodeJuteStringNonNull("path"), data: try buffer.decodeJuteBuffer("data"),
                version: try buffer.txnInt("version"))
        case .setACL:
            return .setACL(
                path: try buffer.decodeJuteStringNonNull("path"), acl: try buffer.decodeACLVector(),
                version: try buffer.txnInt("version"))
        case .check:
            return .check(path: try buffer.decodeJuteStringNonNull("path"), version: try buffer.txnInt("version"))
        case .error: return .error(ZooKeeperError.Code(rawValue: try buffer.txnInt("err")))
        case .multi:
            let count = try buffer.txnInt("count")
            guard count >= 0, Int(count) <= buffer.readableBytes else {
                throw .unreasonableLength(field: "txns", length: Int(count))
            }
            var subs: [TxnBody.SubTxn] = []
            for _ in 0..<count {
                let subType = OpCode(rawValue: try buffer.txnInt("type"))
                guard let bytes = try buffer.decodeJuteBuffer("data") else { throw .truncated(field: "data") }
                var inner = ByteBufferAllocator().buffer(bytes: bytes)
                subs.append(.init(type: subType, body: try decodeBody(type: subType, from: &inner)))
            }
            return .multi(subs)
        default:
            throw .invalidValue(field: "type", value: Int64(type.rawValue))
        }
    }
}

extension ByteBuffer {
    mutating func txnInt(_ field: StaticString) throws(JuteDecodingError) -> Int32 {
        guard let value = self.readJuteInt() else { throw .truncated(field: field) }
        return value
    }

    mutating func txnLong(_ field: StaticString) throws(JuteDecodingError) -> Int64 {
        guard let value = self.readJuteLong() else { throw .truncated(field: field) }
        return value
    }

    mutating func txnBool(_ field: StaticString) throws(JuteDecodingError) -> Bool {
        guard let value = self.readJuteBool() else { throw .truncated(field: field) }
        return value
    }
}
