import NIOCore

/// Starts every client frame after the handshake.
public struct RequestHeader: JuteRecord {
    public var xid: Int32
    public var type: OpCode

    public init(xid: Int32, type: OpCode) {
        self.xid = xid
        self.type = type
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.xid = try buffer.decodeJuteInt("xid")
        self.type = OpCode(rawValue: try buffer.decodeJuteInt("type"))
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.xid)
        buffer.writeJuteInt(self.type.rawValue)
    }
}

/// Starts every server frame after the handshake.
public struct ReplyHeader: JuteRecord {
    public var xid: Int32
    /// The server's last processed zxid (the notifying transaction's for 3.9 notifications).
    public var zxid: Int64
    /// 0, or a ``ZooKeeperError/Code`` raw value.
    public var err: Int32

    public init(xid: Int32, zxid: Int64, err: Int32 = 0) {
        self.xid = xid
        self.zxid = zxid
        self.err = err
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.xid = try buffer.decodeJuteInt("xid")
        self.zxid = try buffer.decodeJuteLong("zxid")
        self.err = try buffer.decodeJuteInt("err")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.xid)
        buffer.writeJuteLong(self.zxid)
        buffer.writeJuteInt(self.err)
    }
}

/// Precedes each operation and each result inside a multi, and ends the list (`done = true`).
public struct MultiHeader: JuteRecord {
    public var type: OpCode
    public var done: Bool
    public var err: Int32

    public init(type: OpCode, done: Bool, err: Int32) {
        self.type = type
        self.done = done
        self.err = err
    }

    /// The header that ends a multi request or response.
    public static let terminator = MultiHeader(type: .error, done: true, err: -1)

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.type = OpCode(rawValue: try buffer.decodeJuteInt("type"))
        self.done = try buffer.decodeJuteBool("done")
        self.err = try buffer.decodeJuteInt("err")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.type.rawValue)
        buffer.writeJuteBool(self.done)
        buffer.writeJuteInt(self.err)
    }
}

/// The body of a notification frame (xid -1).
public struct WatcherEvent: JuteRecord {
    public var type: EventType
    public var state: KeeperState
    public var path: String

    public init(type: EventType, state: KeeperState = .syncConnected, path: String) {
        self.type = type
        self.state = state
        self.path = path
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.type = EventType(rawValue: try buffer.decodeJuteInt("type"))
        self.state = KeeperState(rawValue: try buffer.decodeJuteInt("state"))
        self.path = try buffer.decodeJuteStringNonNull("path")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.type.rawValue)
        buffer.writeJuteInt(self.state.rawValue)
        buffer.writeJuteString(self.path)
    }
}

/// A lone error code: an addWatch reply, or a failed result inside a multi.
public struct ErrorResponse: JuteRecord {
    public var err: Int32

    public init(err: Int32) { self.err = err }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.err = try buffer.decodeJuteInt("err")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.err)
    }
}

/// Credentials for a scheme (xid -4, op 100).
public struct AuthPacket: JuteRecord {
    public var type: Int32
    public var scheme: String
    public var auth: [UInt8]

    public init(type: Int32 = 0, scheme: String, auth: [UInt8]) {
        self.type = type
        self.scheme = scheme
        self.auth = auth
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.type = try buffer.decodeJuteInt("type")
        self.scheme = try buffer.decodeJuteStringNonNull("scheme")
        self.auth = try buffer.decodeJuteBuffer("auth") ?? []
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.type)
        buffer.writeJuteString(self.scheme)
        buffer.writeJuteBuffer(self.auth)
    }
}

/// Restores one-shot watches after a reconnect (op 101).
public struct SetWatches: JuteRecord {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]

    public init(relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String]) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.relativeZxid = try buffer.decodeJuteLong("relativeZxid")
        self.dataWatches = try buffer.decodeJuteStringVector("dataWatches")
        self.existWatches = try buffer.decodeJuteStringVector("existWatches")
        self.childWatches = try buffer.decodeJuteStringVector("childWatches")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteLong(self.relativeZxid)
        buffer.writeJuteStringVector(self.dataWatches)
        buffer.writeJuteStringVector(self.existWatches)
        buffer.writeJuteStringVector(self.childWatches)
    }
}

/// Restores one-shot and persistent watches after a reconnect (op 105).
public struct SetWatches2: JuteRecord {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public var persistentWatches: [String]
    public var persistentRecursiveWatches: [String]

    public init(
        relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String],
        persistentWatches: [String], persistentRecursiveWatches: [String]
    ) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
        self.persistentWatches = persistentWatches
        self.persistentRecursiveWatches = persistentRecursiveWatches
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.relativeZxid = try buffer.decodeJuteLong("relativeZxid")
        self.dataWatches = try buffer.decodeJuteStringVector("dataWatches")
        self.existWatches = try buffer.decodeJuteStringVector("existWatches")
        self.childWatches = try buffer.decodeJuteStringVector("childWatches")
        self.persistentWatches = try buffer.decodeJuteStringVector("persistentWatches")
        self.persistentRecursiveWatches = try buffer.decodeJuteStringVector("persistentRecursiveWatches")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteLong(self.relativeZxid)
        buffer.writeJuteStringVector(self.dataWatches)
        buffer.writeJuteStringVector(self.existWatches)
        buffer.writeJuteStringVector(self.childWatches)
        buffer.writeJuteStringVector(self.persistentWatches)
        buffer.writeJuteStringVector(self.persistentRecursiveWatches)
    }
}

/// A SASL token from the client (op 102).
public struct GetSASLRequest: JuteRecord {
    public var token: [UInt8]

    public init(token: [UInt8]) { self.token = token }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.token = try buffer.decodeJuteBuffer("token") ?? []
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteBuffer(self.token)
    }
}

/// A SASL token from the server; `nil` when the exchange failed.
public struct SetSASLResponse: JuteRecord {
    public var token: [UInt8]?

    public init(token: [UInt8]?) { self.token = token }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.token = try buffer.decodeJuteBuffer("token")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteBuffer(self.token)
    }
}
