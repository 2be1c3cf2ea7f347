import NIOCore

/// Splits a byte stream into ZooKeeper frames.
///
/// Every message in either direction is a 4-byte big-endian length followed by that many bytes:
/// ```
/// +----------------+-------------------------------+
/// | length: Int32  | payload (length bytes)        |
/// +----------------+-------------------------------+
/// ```
/// The decoder emits each payload as a `ByteBuffer` slice. A length below zero or above
/// `maximumFrameLength` throws ``ZooKeeperFrameError`` before anything is allocated for it, so a
/// hostile or corrupt peer can never make it buffer an unbounded amount.
public struct ZooKeeperFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Default maximum payload: ZooKeeper's `jute.maxbuffer` (0xfffff) plus room for headers.
    public static let defaultMaximumFrameLength = 0xfffff + 1024

    private enum State {
        case waitingForHeader
        case waitingForFrame(length: Int)
    }

    public let maximumFrameLength: Int
    private var state: State = .waitingForHeader

    public init(maximumFrameLength: Int = ZooKeeperFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }

    /// Takes the next complete frame's payload from `buffer`, or returns nil when more bytes are needed.
    /// Usable without a channel.
    public mutating func nextFrame(from buffer: inout ByteBuffer) throws(ZooKeeperFrameError) -> ByteBuffer? {
        switch self.state {
        case .waitingForHeader:
            guard let length = buffer.readInteger(endianness: .big, as: Int32.self) else { return nil }
            guard length >= 0 else { throw .negativeLength(Int(length)) }
            guard Int(length) <= self.maximumFrameLength else {
                throw .frameTooLarge(length: Int(length), maximum: self.maximumFrameLength)
            }
            self.state = .waitingForFrame(length: Int(length))
            return try self.nextFrame(from: &buffer)
        case .waitingForFrame(let length):
            guard let frame = buffer.readSlice(length: length) else { return nil }
            self.state = .waitingForHeader
            return frame
        }
    }
}

/// A frame that cannot be accepted.
public enum ZooKeeperFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    case negativeLength(Int)
    case frameTooLarge(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .negativeLength(let length):
            return "malformed frame: negative length \(length)"
        case .frameTooLarge(let length, let maximum):
            return "frame of \(length) bytes exceeds the maximum of \(maximum) bytes (jute.maxbuffer)"
        }
    }
}

extension ByteBuffer {
    /// Writes a length-prefixed frame whose payload `body` writes.
    @inlinable
    public mutating func writeZooKeeperFrame(_ body: (inout ByteBuffer) -> Void) {
        let lengthIndex = self.writerIndex
        self.writeInteger(Int32(0), endianness: .big)
        body(&self)
        let length = self.writerIndex - lengthIndex - 4
        self.setInteger(Int32(length), at: lengthIndex, endianness: .big)
    }

    /// Writes a request frame: header and body.
    public mutating func writeRequestFrame(xid: Int32, request: ZooKeeperRequest) {
        self.writeZooKeeperFrame { buffer in
            RequestHeader(xid: xid, type: request.opCode).encode(into: &buffer)
            request.encodeBody(into: &buffer)
        }
    }

    /// Writes a reply frame: header, and the body when there is one.
    public mutating func writeReplyFrame(header: ReplyHeader, response: ZooKeeperResponse?) {
        self.writeZooKeeperFrame { buffer in
            header.encode(into: &buffer)
            response?.encode(into: &buffer)
        }
    }
}
