import NIOCore
import ZooKeeperProtocol
import ZooKeeperServerCore

/// Learner ↔ leader traffic that is not Zab itself: client requests a follower forwards, the
/// leader's replies, and session activity (ZooKeeper's REQUEST packets, and the session list a
/// follower's PING carries).
enum LearnerMessage: Hashable, Sendable {
    /// Follower → leader: a request of the follower's client connection `connection`.
    case forward(connection: UInt64, ForwardedRequest)
    /// Follower → leader: that client connection closed.
    case connectionClosed(connection: UInt64)
    /// Follower → leader: these sessions had activity.
    case touch(sessions: [Int64])
    /// Leader → follower: a reply frame for the client connection.
    case reply(connection: UInt64, frame: [UInt8])
    /// Leader → follower: close the client connection (after the replies sent before).
    case close(connection: UInt64)
}

/// One message between two members on a quorum or election link.
enum PeerMessage: Hashable, Sendable {
    case quorum(QuorumMessage)
    case learner(LearnerMessage)
}

/// The first frame on a link: who is calling. Members accept links only from configured peers.
struct PeerHello: Hashable, Sendable {
    static let magic: UInt32 = 0x5A4B_5351  // "ZKSQ"
    static let version: UInt16 = 1
    var senderId: PeerID
}

/// Why bytes from a peer could not be read.
struct PeerWireError: Error, CustomStringConvertible {
    var description: String
}

/// The member-to-member wire format (zksh's own; only the client port speaks ZooKeeper's).
/// Every frame is a 4-byte big-endian length and that many bytes. Integers are big-endian,
/// byte strings and texts a 4-byte length and the bytes.
enum PeerWire {
    /// Large enough for a snapshot of a big tree sent in one SNAP.
    static let maximumFrameLength = 1 << 30

    static func encode(_ hello: PeerHello, into buffer: inout ByteBuffer) {
        frame(into: &buffer) { buffer in
            buffer.writeInteger(PeerHello.magic)
            buffer.writeInteger(PeerHello.version)
            buffer.writeInteger(hello.senderId)
        }
    }

    static func decodeHello(_ buffer: inout ByteBuffer) throws -> PeerHello {
        guard let magic = buffer.readInteger(as: UInt32.self), magic == PeerHello.magic else {
            throw PeerWireError(description: "not a zksh member (bad hello)")
        }
        guard let version = buffer.readInteger(as: UInt16.self), version == PeerHello.version else {
            throw PeerWireError(description: "unsupported member protocol version")
        }
        return PeerHello(senderId: try read(&buffer))
    }

    static func frame(into buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        body(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }

    static func encode(_ message: PeerMessage, into buffer: inout ByteBuffer) {
        frame(into: &buffer) { buffer in
            switch message {
            case .quorum(.notification(let n)):
                buffer.writeInteger(UInt8(1))
                buffer.writeInteger(n.leader)
                buffer.writeInteger(n.zxid)
                buffer.writeInteger(n.electionEpoch)
                buffer.writeInteger(n.peerEpoch)
                buffer.writeInteger(stateCode(n.state))
            case .quorum(.zab(let envelope)):
                buffer.writeInteger(UInt8(2))
                buffer.writeInteger(envelope.session)
                buffer.writeInteger(envelope.seq)
                encode(envelope.message, into: &buffer)
            case .learner(.forward(let connection, .connect(let request))):
                buffer.writeInteger(UInt8(3))
                buffer.writeInteger(connection)
                var record = ByteBuffer()
                request.encode(into: &record)
                writeBytes(Array(record.readableBytesView), into: &buffer)
            case .learner(.forward(let connection, .request(let sessionId, let authIds, let header, let body))):
                buffer.writeInteger(UInt8(4))
                buffer.writeInteger(connection)
                buffer.writeInteger(sessionId)
                buffer.writeInteger(UInt32(authIds.count))
                for id in authIds {
                    writeBytes(Array(id.scheme.utf8), into: &buffer)
                    writeBytes(Array(id.id.utf8), into: &buffer)
                }
                buffer.writeInteger(header.xid)
                buffer.writeInteger(header.type.rawValue)
                writeBytes(body, into: &buffer)
            case .learner(.connectionClosed(let connection)):
                buffer.writeInteger(UInt8(5))
                buffer.writeInteger(connection)
            case .learner(.touch(let sessions)):
                buffer.writeInteger(UInt8(6))
                buffer.writeInteger(UInt32(sessions.count))
                for id in sessions { buffer.writeInteger(id) }
            case .learner(.reply(let connection, let frame)):
                buffer.writeInteger(UInt8(7))
                buffer.writeInteger(connection)
                writeBytes(frame, into: &buffer)
            case .learner(.close(let connection)):
                buffer.writeInteger(UInt8(8))
                buffer.writeInteger(connection)
            }
        }
    }

    static func encode(_ message: ZabMessage, into buffer: inout ByteBuffer) {
        switch message {
        case .learnerInfo(let acceptedEpoch, let observer):
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(acceptedEpoch)
            buffer.writeInteger(UInt8(observer ? 1 : 0))
        case .leaderInfo(let epoch):
            buffer.writeInteger(UInt8(2))
            buffer.writeInteger(epoch)
        case .ackEpoch(let currentEpoch, let lastZxid):
            buffer.writeInteger(UInt8(3))
            buffer.writeInteger(currentEpoch)
            buffer.writeInteger(lastZxid)
        case .sync(let mode, let entries):
            buffer.writeInteger(UInt8(4))
            switch mode {
            case .diff:
                buffer.writeInteger(UInt8(0))
            case .trunc(let zxid):
                buffer.writeInteger(UInt8(1))
                buffer.writeInteger(zxid)
            case .snap(let snapshot):
                buffer.writeInteger(UInt8(2))
                buffer.writeInteger(snapshot.zxid)
                writeBytes(snapshot.bytes, into: &buffer)
            }
            buffer.writeInteger(UInt32(entries.count))
            for entry in entries { encode(entry, into: &buffer) }
        case .newLeader(let epoch, let zxid):
            buffer.writeInteger(UInt8(5))
            buffer.writeInteger(epoch)
            buffer.writeInteger(zxid)
        case .newLeaderAck(let zxid):
            buffer.writeInteger(UInt8(6))
            buffer.writeInteger(zxid)
        case .upToDate(let zxid):
            buffer.writeInteger(UInt8(7))
            buffer.writeInteger(zxid)
        case .proposal(let entry):
            buffer.writeInteger(UInt8(8))
            encode(entry, into: &buffer)
        case .ack(let zxid):
            buffer.writeInteger(UInt8(9))
            buffer.writeInteger(zxid)
        case .commit(let zxid):
            buffer.writeInteger(UInt8(10))
            buffer.writeInteger(zxid)
        case .inform(let entry):
            buffer.writeInteger(UInt8(11))
            encode(entry, into: &buffer)
        case .ping:
            buffer.writeInteger(UInt8(12))
        }
    }

    static func encode(_ entry: ZabLogEntry, into buffer: inout ByteBuffer) {
        buffer.writeInteger(entry.zxid)
        writeBytes(entry.bytes, into: &buffer)
    }

    /// Decodes one frame's payload (without its length prefix).
    static func decodeMessage(_ buffer: inout ByteBuffer) throws -> PeerMessage {
        let kind: UInt8 = try read(&buffer)
        let message: PeerMessage
        switch kind {
        case 1:
            let leader: Int64 = try read(&buffer)
            let zxid: Int64 = try read(&buffer)
            let electionEpoch: Int64 = try read(&buffer)
            let peerEpoch: Int64 = try read(&buffer)
            let state = try peerState(try read(&buffer))
            message = .quorum(.notification(Notification(
                leader: leader, zxid: zxid, electionEpoch: electionEpoch, peerEpoch: peerEpoch, state: state)))
        case 2:
            let session: UInt64 = try read(&buffer)
            let seq: UInt64 = try read(&buffer)
            message = .quorum(.zab(ZabEnvelope(session: session, seq: seq, message: try decodeZab(&buffer))))
        case 3:
            let connection: UInt64 = try read(&buffer)
            var record = ByteBuffer(bytes: try readBytes(&buffer))
            let request: ConnectRequest
            do {
                request = try ConnectRequest(from: &record)
            } catch {
                throw PeerWireError(description: "bad forwarded ConnectRequest: \(error)")
            }
            message = .learner(.forward(connection: connection, .connect(request)))
        case 4:
            let connection: UInt64 = try read(&buffer)
            let sessionId: Int64 = try read(&buffer)
            let count: UInt32 = try read(&buffer)
            guard Int(count) <= buffer.readableBytes / 8 else { throw PeerWireError(description: "bad auth id count") }
            var authIds: [Id] = []
            for _ in 0..<count {
                let scheme = String(decoding: try readBytes(&buffer), as: UTF8.self)
                let id = String(decoding: try readBytes(&buffer), as: UTF8.self)
                authIds.append(Id(scheme: scheme, id: id))
            }
            let xid: Int32 = try read(&buffer)
            let type: Int32 = try read(&buffer)
            let body = try readBytes(&buffer)
            message = .learner(.forward(
                connection: connection,
                .request(sessionId: sessionId, authIds: authIds, header: RequestHeader(xid: xid, type: OpCode(rawValue: type)), body: body)))
        case 5:
            message = .learner(.connectionClosed(connection: try read(&buffer)))
        case 6:
            let count: UInt32 = try read(&buffer)
            guard Int(count) * 8 <= buffer.readableBytes else { throw PeerWireError(description: "bad session count") }
            var sessions: [Int64] = []
            for _ in 0..<count { sessions.append(try read(&buffer)) }
            message = .learner(.touch(sessions: sessions))
        case 7:
            let connection: UInt64 = try read(&buffer)
            message = .learner(.reply(connection: connection, frame: try readBytes(&buffer)))
        case 8:
            message = .learner(.close(connection: try read(&buffer)))
        default:
            throw PeerWireError(description: "unknown message kind \(kind)")
        }
        guard buffer.readableBytes == 0 else { throw PeerWireError(description: "\(buffer.readableBytes) bytes after a message") }
        return message
    }

    static func decodeZab(_ buffer: inout ByteBuffer) throws -> ZabMessage {
        let kind: UInt8 = try read(&buffer)
        switch kind {
        case 1:
            let epoch: Int64 = try read(&buffer)
            let observer: UInt8 = try read(&buffer)
            return .learnerInfo(acceptedEpoch: epoch, observer: observer != 0)
        case 2: return .leaderInfo(epoch: try read(&buffer))
        case 3:
            let currentEpoch: Int64 = try read(&buffer)
            return .ackEpoch(currentEpoch: currentEpoch, lastZxid: try read(&buffer))
        case 4:
            let modeKind: UInt8 = try read(&buffer)
            let mode: ZabSyncMode
            switch modeKind {
            case 0: mode = .diff
            case 1: mode = .trunc(try read(&buffer))
            case 2:
                let zxid: Int64 = try read(&buffer)
                mode = .snap(ZabSnapshot(zxid: zxid, bytes: try readBytes(&buffer)))
            default: throw PeerWireError(description: "unknown sync mode \(modeKind)")
            }
            let count: UInt32 = try read(&buffer)
            guard Int(count) * 12 <= buffer.readableBytes else { throw PeerWireError(description: "bad entry count") }
            var entries: [ZabLogEntry] = []
            entries.reserveCapacity(Int(count))
            for _ in 0..<count { entries.append(try decodeEntry(&buffer)) }
            return .sync(mode, entries: entries)
        case 5:
            let epoch: Int64 = try read(&buffer)
            return .newLeader(epoch: epoch, zxid: try read(&buffer))
        case 6: return .newLeaderAck(zxid: try read(&buffer))
        case 7: return .upToDate(committedZxid: try read(&buffer))
        case 8: return .proposal(try decodeEntry(&buffer))
        case 9: return .ack(zxid: try read(&buffer))
        case 10: return .commit(zxid: try read(&buffer))
        case 11: return .inform(try decodeEntry(&buffer))
        case 12: return .ping
        default: throw PeerWireError(description: "unknown Zab message \(kind)")
        }
    }

    static func decodeEntry(_ buffer: inout ByteBuffer) throws -> ZabLogEntry {
        let zxid: Int64 = try read(&buffer)
        return ZabLogEntry(zxid: zxid, bytes: try readBytes(&buffer))
    }

    static func stateCode(_ state: PeerState) -> UInt8 {
        switch state {
        case .looking: return 0
        case .following: return 1
        case .leading: return 2
        case .observing: return 3
        }
    }

    static func peerState(_ code: UInt8) throws -> PeerState {
        switch code {
        case 0: return .looking
        case 1: return .following
        case 2: return .leading
        case 3: return .observing
        default: throw PeerWireError(description: "unknown member state \(code)")
        }
    }

    static func read<T: FixedWidthInteger>(_ buffer: inout ByteBuffer) throws -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw PeerWireError(description: "truncated message") }
        return value
    }

    static func writeBytes(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    static func readBytes(_ buffer: inout ByteBuffer) throws -> [UInt8] {
        let count: UInt32 = try read(&buffer)
        guard let bytes = buffer.readBytes(length: Int(count)) else { throw PeerWireError(description: "truncated bytes") }
        return bytes
    }
}

/// Splits a link's byte stream into frames (without their length prefix); refuses oversize ones.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard Int(length) <= PeerWire.maximumFrameLength else {
            throw PeerWireError(description: "frame of \(length) bytes is too long")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}
