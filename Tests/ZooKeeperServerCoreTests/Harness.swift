import NIOCore
import Testing
@testable import ZooKeeperServerCore

enum Frame: Equatable {
    case connect(ConnectResponse)
    case reply(ReplyHeader, [UInt8])
    case event(zxid: Int64, WatcherEvent)
}

/// Drives a ServerCore like the driver would, with a manual clock and (by default) instant durability.
struct Harness {
    var core: ServerCore
    var clock: ServerClock
    var autoDurable = true
    var appended: [(zxid: Int64, bytes: [UInt8])] = []
    var snapshots = 0

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) {
        var configuration = ServerConfiguration()
        configuration.tickTime = 2000
        configure(&configuration)
        self.clock = ServerClock(monotonic: .uptimeNanoseconds(1_000_000_000_000), wallClockMilliseconds: 1_700_000_000_000)
        self.core = ServerCore(configuration: configuration, now: self.clock)
    }

    mutating func advance(ms: Int64) {
        self.clock.monotonic = self.clock.monotonic + .milliseconds(ms)
        self.clock.wallClockMilliseconds += ms
    }

    mutating func finish(_ actions: [ServerAction]) -> [ServerAction] {
        for action in actions {
            switch action {
            case .append(let zxid, let bytes): self.appended.append((zxid, bytes))
            case .takeSnapshot: self.snapshots += 1
            case .send, .close: break
            case .forward: Issue.record("a standalone core forwarded a request")
            }
        }
        guard self.autoDurable else { return actions }
        return actions + self.core.transactionsDurable(upTo: self.core.lastZxid, now: self.clock)
    }

    mutating func open(_ n: UInt64, address: String = "127.0.0.1") -> [ServerAction] {
        self.finish(self.core.connectionOpened(ConnectionID(rawValue: n), remoteAddress: address, now: self.clock))
    }

    mutating func connect(
        _ n: UInt64, sessionId: Int64 = 0, password: [UInt8]? = nil, readOnly: Bool? = false, lastZxid: Int64 = 0,
        timeout: Int32 = 30000
    ) -> [ServerAction] {
        let request = ConnectRequest(
            protocolVersion: 0, lastZxidSeen: lastZxid, timeOut: timeout, sessionId: sessionId,
            password: password ?? [UInt8](repeating: 0, count: 16), readOnly: readOnly)
        return self.finish(self.core.connectRequestReceived(ConnectionID(rawValue: n), request, now: self.clock))
    }

    /// Opens and connects; returns the session id.
    @discardableResult
    mutating func session(_ n: UInt64, address: String = "127.0.0.1") -> Int64 {
        _ = self.open(n, address: address)
        let frames = Harness.frames(self.connect(n), n)
        guard case .connect(let response) = frames.first else {
            Issue.record("no connect response")
            return 0
        }
        return response.sessionId
    }

    mutating func raw(_ n: UInt64, xid: Int32, op: OpCode, body: [UInt8]) -> [ServerAction] {
        let buffer = ByteBufferAllocator().buffer(bytes: body)
        return self.finish(
            self.core.requestReceived(ConnectionID(rawValue: n), header: RequestHeader(xid: xid, type: op), body: buffer, now: self.clock))
    }

    mutating func request(_ n: UInt64, xid: Int32 = 1, _ request: ZooKeeperRequest) -> [ServerAction] {
        var body = ByteBufferAllocator().buffer(capacity: 64)
        request.encodeBody(into: &body)
        return self.finish(
            self.core.requestReceived(
                ConnectionID(rawValue: n), header: RequestHeader(xid: xid, type: request.opCode), body: body, now: self.clock))
    }

    /// The reply to a request (asserts there is exactly one non-event frame for `n`).
    mutating func call(_ n: UInt64, xid: Int32 = 1, _ request: ZooKeeperRequest) -> (ReplyHeader, ZooKeeperResponse?) {
        let frames = Harness.frames(self.request(n, xid: xid, request), n)
        let replies = frames.compactMap { frame -> (ReplyHeader, [UInt8])? in
            if case .reply(let h, let b) = frame { return (h, b) }
            return nil
        }
        guard replies.count == 1 else {
            Issue.record("expected one reply, got \(frames)")
            return (ReplyHeader(xid: 0, zxid: 0, err: -999), nil)
        }
        let (header, body) = replies[0]
        guard header.err == 0 else { return (header, nil) }
        var buffer = ByteBufferAllocator().buffer(bytes: body)
        return (header, try? ZooKeeperResponse.decode(opCode: request.opCode, from: &buffer))
    }

    mutating func err(_ n: UInt64, _ request: ZooKeeperRequest) -> Int32 { self.call(n, request).0.err }

    static func frames(_ actions: [ServerAction], _ n: UInt64) -> [Frame] {
        var out: [Frame] = []
        for action in actions {
            guard case .send(let id, var buffer) = action, id.rawValue == n else { continue }
            let length = buffer.readInteger(endianness: .big, as: Int32.self)!
            #expect(Int(length) == buffer.readableBytes)
            if buffer.readableBytes <= 37, let response = try? ConnectResponse.decodeExactly(buffer),
                response.password.count == 16, response.protocolVersion == 0, buffer.readableBytes >= 36
            {
                out.append(.connect(response))
                continue
            }
            let header = try! ReplyHeader(from: &buffer)
            if header.xid == -1 {
                out.append(.event(zxid: header.zxid, try! WatcherEvent(from: &buffer)))
            } else {
                out.append(.reply(header, Array(buffer.readableBytesView)))
            }
        }
        return out
    }

    static func events(_ actions: [ServerAction], _ n: UInt64) -> [WatcherEvent] {
        frames(actions, n).compactMap { if case .event(_, let e) = $0 { return e } else { return nil } }
    }

    static func closes(_ actions: [ServerAction]) -> [UInt64] {
        actions.compactMap { if case .close(let id) = $0 { return id.rawValue } else { return nil } }
    }
}

func create(_ path: String, _ data: String = "", flags: CreateMode = .persistent, acl: [ACL] = ACL.openUnsafe) -> ZooKeeperRequest {
    .create(CreateRequest(path: path, data: Array(data.utf8), acl: acl, flags: flags.rawValue))
}

func create2(_ path: String, _ data: String = "", flags: CreateMode = .persistent, acl: [ACL] = ACL.openUnsafe) -> ZooKeeperRequest {
    .create2(CreateRequest(path: path, data: Array(data.utf8), acl: acl, flags: flags.rawValue))
}
