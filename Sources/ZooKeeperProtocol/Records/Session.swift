import NIOCore

/// The first frame a client sends: open a new session or resume one. It has no request header.
///
/// ```
/// +-----------------+--------------+---------+-----------+----------------+----------+
/// | protocolVersion | lastZxidSeen | timeOut | sessionId | passwd         | readOnly |
/// | int             | long         | int     | long      | int len + data | (byte)   |
/// +-----------------+--------------+---------+-----------+----------------+----------+
/// ```
/// The trailing `readOnly` byte is optional: clients from 3.3 and earlier omit it.
public struct ConnectRequest: JuteRecord {
    public var protocolVersion: Int32
    public var lastZxidSeen: Int64
    /// Requested session timeout in milliseconds.
    public var timeOut: Int32
    /// 0 for a new session.
    public var sessionId: Int64
    public var password: [UInt8]
    /// Whether the client accepts a read-only server; `nil` when the byte is absent.
    public var readOnly: Bool?

    public init(
        protocolVersion: Int32 = 0, lastZxidSeen: Int64 = 0, timeOut: Int32, sessionId: Int64 = 0,
        password: [UInt8] = [UInt8](repeating: 0, count: 16), readOnly: Bool? = false
    ) {
        self.protocolVersion = protocolVersion
        self.lastZxidSeen = lastZxidSeen
        self.timeOut = timeOut
        self.sessionId = sessionId
        self.password = password
        self.readOnly = readOnly
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.protocolVersion = try buffer.decodeJuteInt("protocolVersion")
        self.lastZxidSeen = try buffer.decodeJuteLong("lastZxidSeen")
        self.timeOut = try buffer.decodeJuteInt("timeOut")
        self.sessionId = try buffer.decodeJuteLong("sessionId")
        self.password = try buffer.decodeJuteBuffer("passwd") ?? []
        self.readOnly = buffer.readJuteBool()
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.protocolVersion)
        buffer.writeJuteLong(self.lastZxidSeen)
        buffer.writeJuteInt(self.timeOut)
        buffer.writeJuteLong(self.sessionId)
        buffer.writeJuteBuffer(self.password)
        if let readOnly = self.readOnly { buffer.writeJuteBool(readOnly) }
    }
}

/// The server's first frame: the session's id, password and negotiated timeout. No reply header.
///
/// A `timeOut` of 0 or less means the session is invalid or expired.
public struct ConnectResponse: JuteRecord {
    public var protocolVersion: Int32
    /// Negotiated session timeout in milliseconds.
    public var timeOut: Int32
    public var sessionId: Int64
    public var password: [UInt8]
    /// Whether the server is in read-only mode; `nil` when the byte is absent.
    public var readOnly: Bool?

    public init(protocolVersion: Int32 = 0, timeOut: Int32, sessionId: Int64, password: [UInt8], readOnly: Bool? = false) {
        self.protocolVersion = protocolVersion
        self.timeOut = timeOut
        self.sessionId = sessionId
        self.password = password
        self.readOnly = readOnly
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.protocolVersion = try buffer.decodeJuteInt("protocolVersion")
        self.timeOut = try buffer.decodeJuteInt("timeOut")
        self.sessionId = try buffer.decodeJuteLong("sessionId")
        self.password = try buffer.decodeJuteBuffer("passwd") ?? []
        self.readOnly = buffer.readJuteBool()
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.protocolVersion)
        buffer.writeJuteInt(self.timeOut)
        buffer.writeJuteLong(self.sessionId)
        buffer.writeJuteBuffer(self.password)
        if let readOnly = self.readOnly { buffer.writeJuteBool(readOnly) }
    }
}
