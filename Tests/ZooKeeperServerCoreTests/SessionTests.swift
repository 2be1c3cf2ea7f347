import NIOCore
import Testing
@testable import ZooKeeperServerCore

@Suite struct SessionTests {
    @Test func javaRandomMatchesJava() {
        var random = JavaRandom(seed: 0)
        #expect(random.next(32) == -1155484576)
        #expect(random.next(32) == -723955400)
    }

    @Test func digestMatchesZooKeeper() {
        #expect(Authorization.digest("user:password") == "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")
        #expect(Authorization.digest("super:admin") == "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=")
    }

    @Test func newSessionHandshake() {
        var h = Harness()
        #expect(h.open(1).isEmpty)
        let actions = h.connect(1, timeout: 100_000)
        guard case .append(let zxid, let bytes) = actions.first else {
            Issue.record("first action should append")
            return
        }
        #expect(zxid == 1)
        let txn = try! Transaction(bytes: bytes)
        #expect(txn.header.type == .createSession)
        #expect(txn.body == .createSession(timeout: 40_000))
        guard case .connect(let response) = Harness.frames(actions, 1).first else {
            Issue.record("no connect response")
            return
        }
        #expect(response.timeOut == 40_000)  // clamped to 20 * tickTime
        #expect(response.sessionId >> 56 == 1)
        #expect(response.password == ServerCore.sessionPassword(for: response.sessionId))
        #expect(response.readOnly == false)
        #expect(txn.header.clientId == response.sessionId)
    }

    @Test func timeoutClampedToMinimum() {
        var h = Harness()
        _ = h.open(1)
        guard case .connect(let response) = Harness.frames(h.connect(1, timeout: 10), 1).first else {
            Issue.record("no connect response")
            return
        }
        #expect(response.timeOut == 4000)
    }

    @Test func readOnlyByteEchoedOnlyWhenSent() {
        var h = Harness()
        _ = h.open(1)
        let actions = h.connect(1, readOnly: nil)
        guard case .send(_, var buffer) = actions.first(where: { if case .send = $0 { true } else { false } }) else {
            Issue.record("no frame")
            return
        }
        #expect(buffer.readInteger(endianness: .big, as: Int32.self) == 36)
        _ = h.open(2)
        let second = h.connect(2, readOnly: false)
        guard case .send(_, var buffer2) = second.first(where: { if case .send = $0 { true } else { false } }) else {
            Issue.record("no frame")
            return
        }
        #expect(buffer2.readInteger(endianness: .big, as: Int32.self) == 37)
    }

    @Test func lastZxidTooNewClosesWithoutReply() {
        var h = Harness()
        _ = h.open(1)
        let actions = h.connect(1, lastZxid: 5)
        #expect(Harness.frames(actions, 1).isEmpty)
        #expect(Harness.closes(actions) == [1])
    }

    @Test func reconnectRightAndWrongPassword() {
        var h = Harness()
        let session = h.session(1)
        _ = h.open(2)
        let actions = h.connect(2, sessionId: session, password: ServerCore.sessionPassword(for: session))
        #expect(Harness.closes(actions) == [1])  // the old connection is closed
        guard case .connect(let response) = Harness.frames(actions, 2).first else {
            Issue.record("no connect response")
            return
        }
        #expect(response.sessionId == session)
        #expect(response.timeOut == 30000)
        #expect(!actions.contains { if case .append = $0 { true } else { false } })

        _ = h.open(3)
        let wrong = h.connect(3, sessionId: session, password: [UInt8](repeating: 7, count: 16))
        guard case .connect(let invalid) = Harness.frames(wrong, 3).first else {
            Issue.record("no connect response")
            return
        }
        #expect(invalid.timeOut == 0)
        #expect(invalid.sessionId == 0)
        #expect(invalid.password == [UInt8](repeating: 0, count: 16))
        #expect(Harness.closes(wrong).contains(3))

        _ = h.open(4)
        let unknown = h.connect(4, sessionId: 0x1234, password: ServerCore.sessionPassword(for: 0x1234))
        guard case .connect(let invalid2) = Harness.frames(unknown, 4).first else {
            Issue.record("no connect response")
            return
        }
        #expect(invalid2.timeOut == 0)
        #expect(Harness.closes(unknown) == [4])
    }

    @Test func maxConnectionsPerHost() {
        var h = Harness { $0.maxClientConnectionsPerHost = 2 }
        #expect(h.open(1, address: "10.0.0.1:5000").isEmpty)
        #expect(h.open(2, address: "10.0.0.1:5001").isEmpty)
        #expect(Harness.closes(h.open(3, address: "10.0.0.1:5002")) == [3])
        #expect(h.open(4, address: "10.0.0.2:5002").isEmpty)
    }

    @Test func pingAuthWhoAmI() {
        var h = Harness()
        _ = h.session(1)
        let ping = Harness.frames(h.request(1, xid: -2, .ping), 1)
        #expect(ping == [.reply(ReplyHeader(xid: -2, zxid: 1, err: 0), [])])
        let auth = Harness.frames(h.request(1, xid: -4, .auth(AuthPacket(scheme: "digest", auth: Array("user:password".utf8)))), 1)
        #expect(auth == [.reply(ReplyHeader(xid: -4, zxid: 0, err: 0), [])])
        let (header, response) = h.call(1, xid: 5, .whoAmI)
        #expect(header.xid == 5)
        #expect(response == .whoAmI([ClientInfo(authScheme: "ip", user: "127.0.0.1"), ClientInfo(authScheme: "digest", user: "user")]))
        let bad = h.request(1, xid: -4, .auth(AuthPacket(scheme: "kerberos", auth: [1])))
        #expect(Harness.frames(bad, 1) == [.reply(ReplyHeader(xid: -4, zxid: 0, err: -115), [])])
        #expect(Harness.closes(bad) == [1])
    }

    @Test func unimplementedOpsCloseTheConnection() {
        for op: Int32 in [0, 10, 13, 20, 108, -10] {
            var h = Harness()
            _ = h.session(1)
            let actions = h.raw(1, xid: 3, op: OpCode(rawValue: op), body: [])
            #expect(Harness.frames(actions, 1) == [.reply(ReplyHeader(xid: 3, zxid: 1, err: -6), [])], "op \(op)")
            #expect(Harness.closes(actions) == [1])
        }
    }

    @Test func marshallingErrors() {
        var h = Harness()
        _ = h.session(1)
        // A read with a truncated body: no zxid.
        #expect(Harness.frames(h.raw(1, xid: 3, op: .getData, body: [0, 0]), 1) == [.reply(ReplyHeader(xid: 3, zxid: 1, err: -5), [])])
        // A write with a truncated body: an error transaction.
        #expect(Harness.frames(h.raw(1, xid: 4, op: .create, body: [0, 0]), 1) == [.reply(ReplyHeader(xid: 4, zxid: 2, err: -5), [])])
    }

    @Test func sessionExpiryDeletesEphemeralsAndFiresEvents() {
        var h = Harness()
        _ = h.session(1)
        let watcher = h.session(2)
        #expect(watcher != 0)
        #expect(h.err(1, create("/e", flags: .ephemeral)) == 0)
        _ = h.call(2, .exists(PathWatchRequest(path: "/e", watch: true)))
        _ = h.call(2, .getChildren(PathWatchRequest(path: "/", watch: true)))
        // Connection 2 stays alive through pings.
        var expired: [ServerAction] = []
        for _ in 0..<20 {
            h.advance(ms: 2000)
            _ = h.request(2, xid: -2, .ping)
            expired += h.finish(h.core.tick(now: h.clock))
            if !Harness.closes(expired).isEmpty { break }
        }
        #expect(Harness.closes(expired) == [1])
        #expect(Harness.frames(expired, 1).isEmpty)
        #expect(Harness.events(expired, 2) == [
            WatcherEvent(type: .nodeDeleted, path: "/e"), WatcherEvent(type: .nodeChildrenChanged, path: "/"),
        ])
        #expect(h.core.tree.node(at: "/e") == nil)
        #expect(h.core.sessionTimeouts.count == 1)
        // Requests on the expired connection are dropped.
        #expect(h.request(1, .sync(PathRequest(path: "/"))).isEmpty)
    }

    @Test func closeSessionDeletesEphemeralsRepliesAndCloses() {
        var h = Harness()
        let session = h.session(1)
        #expect(h.err(1, create("/e1", flags: .ephemeral)) == 0)
        #expect(h.err(1, create("/e2", flags: .ephemeral)) == 0)
        let actions = h.request(1, xid: 9, .closeSession)
        #expect(Harness.frames(actions, 1) == [.reply(ReplyHeader(xid: 9, zxid: 4, err: 0), [])])
        #expect(Harness.closes(actions) == [1])
        #expect(h.core.tree.ephemerals(of: session).isEmpty)
        #expect(h.core.tree.node(at: "/e1") == nil)
        #expect(h.core.sessionTimeouts[session] == nil)
    }
}
