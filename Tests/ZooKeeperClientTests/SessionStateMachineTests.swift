import NIOCore
import Testing
@testable import ZooKeeperClient

extension SessionStateMachine.Action: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.openConnection(let a), .openConnection(let b)): return a == b
        case (.sendConnectRequest(let a), .sendConnectRequest(let b)): return a == b
        case (.send(let x1, let r1), .send(let x2, let r2)): return x1 == x2 && r1 == r2
        case (.closeConnection, .closeConnection): return true
        case (.succeed(let i1, let r1), .succeed(let i2, let r2)): return i1 == i2 && r1 == r2
        case (.fail(let i1, let e1), .fail(let i2, let e2)): return i1 == i2 && e1.code == e2.code && e1.path == e2.path
        case (.fireWatches(let i1, let e1), .fireWatches(let i2, let e2)): return i1 == i2 && e1 == e2
        case (.finishWatches(let i1, let e1), .finishWatches(let i2, let e2)): return i1 == i2 && e1?.code == e2?.code
        case (.probeReadWrite(let a), .probeReadWrite(let b)): return a == b
        case (.stateChanged(let a), .stateChanged(let b)): return a == b
        default: return false
        }
    }
}

/// Drives a session state machine with a manual clock.
struct Harness {
    var machine: SessionStateMachine
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let hosts = [HostAndPort(host: "127.0.0.1", port: 2181), HostAndPort(host: "127.0.0.1", port: 2182), HostAndPort(host: "127.0.0.1", port: 2183)]

    init(hostCount: Int = 3, timeout: Int32 = 30_000, canBeReadOnly: Bool = false) {
        let configuration = SessionStateMachine.Configuration(hosts: Array(hosts.prefix(hostCount)), sessionTimeout: timeout, canBeReadOnly: canBeReadOnly)
        machine = SessionStateMachine(configuration: configuration, seed: 42, now: now)
    }

    mutating func advance(_ amount: TimeAmount) -> [SessionStateMachine.Action] {
        now = now + amount
        return machine.tick(now: now)
    }

    static let sessionPassword: [UInt8] = Array(1...16)

    /// Opens a connection to the next host and completes the handshake.
    mutating func connect(sessionId: Int64 = 0x100, timeout: Int32 = 30_000, readOnly: Bool = false) -> [SessionStateMachine.Action] {
        var actions = machine.tick(now: now)
        actions += machine.channelConnected(now: now)
        actions += machine.connectResponseReceived(
            ConnectResponse(timeOut: timeout, sessionId: sessionId, password: Self.sessionPassword, readOnly: readOnly), now: now)
        return actions
    }

    mutating func reply(xid: Int32, zxid: Int64 = 10, err: ZooKeeperError.Code = .ok, body: ZooKeeperResponse? = nil) -> [SessionStateMachine.Action] {
        var buffer = ByteBuffer()
        body?.encode(into: &buffer)
        return machine.replyReceived(ReplyHeader(xid: xid, zxid: zxid, err: err.rawValue), body: buffer, now: now)
    }

    mutating func notify(_ type: EventType, _ path: String, zxid: Int64 = -1) -> [SessionStateMachine.Action] {
        let buffer = WatcherEvent(type: type, path: path).encoded()
        return machine.replyReceived(ReplyHeader(xid: -1, zxid: zxid, err: 0), body: buffer, now: now)
    }
}

func rid(_ n: UInt64) -> RequestID { RequestID(rawValue: n) }
func wid(_ n: UInt64) -> WatchID { WatchID(rawValue: n) }
let stat = Stat(czxid: 5, mzxid: 6, version: 1, dataLength: 2, pzxid: 5)

@Suite struct SessionStateMachineTests {
    @Test func handshakeOpensSessionOnFirstHost() {
        var h = Harness()
        #expect(h.machine.state == .connecting)
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[0])])
        #expect(h.machine.channelConnected(now: h.now) == [.sendConnectRequest(
            ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0,
                           password: [UInt8](repeating: 0, count: 16), readOnly: false))])
        let actions = h.machine.connectResponseReceived(
            ConnectResponse(timeOut: 20_000, sessionId: 0x1234, password: Harness.sessionPassword, readOnly: false), now: h.now)
        #expect(actions == [.stateChanged(.connected)])
        #expect(h.machine.sessionId == 0x1234)
        #expect(h.machine.negotiatedTimeout == 20_000)
    }

    @Test func requestsArePipelinedAndMatchedInOrder() {
        var h = Harness()
        _ = h.connect()
        let requests: [ZooKeeperRequest] = [
            .getData(PathWatchRequest(path: "/a", watch: false)),
            .exists(PathWatchRequest(path: "/b", watch: false)),
            .delete(DeleteRequest(path: "/c", version: -1)),
        ]
        for (index, request) in requests.enumerated() {
            #expect(h.machine.submit(request, id: rid(UInt64(index + 1)), now: h.now) == [.send(xid: Int32(index + 1), request: request)])
        }
        #expect(h.reply(xid: 1, zxid: 7, body: .getData(GetDataResponse(data: [1, 2], stat: stat))) ==
                [.succeed(rid(1), .getData(GetDataResponse(data: [1, 2], stat: stat)))])
        #expect(h.reply(xid: 2, zxid: 8, err: .noNode) == [.fail(rid(2), ZooKeeperError(.noNode, path: "/b"))])
        #expect(h.reply(xid: 3, zxid: 9) == [.succeed(rid(3), .empty)])
        #expect(h.machine.lastZxidSeen == 9)
    }

    @Test func mismatchedReplyDropsTheConnectionAndFailsPending() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.sync(PathRequest(path: "/")), id: rid(1), now: h.now)
        let actions = h.reply(xid: 99)
        #expect(actions.first == .closeConnection)
        #expect(actions.contains(.fail(rid(1), ZooKeeperError(.connectionLoss, path: "/"))))
        #expect(actions.last == .stateChanged(.disconnected))
    }

    @Test func requestsQueuedWhileConnectingAreSentAfterHandshake() {
        var h = Harness()
        let request = ZooKeeperRequest.getChildren2(PathWatchRequest(path: "/", watch: false))
        #expect(h.machine.submit(request, id: rid(1), now: h.now) == [])
        let actions = h.connect()
        #expect(actions.suffix(2) == [.stateChanged(.connected), .send(xid: 1, request: request)])
    }

    @Test func pingsWhenIdleAndReconnectsWhenServerIsSilent() {
        var h = Harness(timeout: 30_000)
        _ = h.connect(timeout: 30_000)
        // Ping interval is T/3 = 10 s; read timeout 2T/3 = 20 s.
        #expect(h.advance(.seconds(9)) == [])
        #expect(h.advance(.seconds(1)) == [.send(xid: -2, request: .ping)])
        #expect(h.reply(xid: -2) == [])
        #expect(h.advance(.seconds(10)) == [.send(xid: -2, request: .ping)])
        let lost = h.advance(.milliseconds(10_001))
        #expect(lost.first == .closeConnection)
        #expect(lost.last == .stateChanged(.disconnected))
        #expect(h.machine.state == .disconnected)
    }

    @Test func reconnectResumesTheSameSessionOnTheNextHost() {
        var h = Harness()
        _ = h.connect(sessionId: 0x77)
        _ = h.machine.submit(.sync(PathRequest(path: "/")), id: rid(1), now: h.now)
        _ = h.reply(xid: 1, zxid: 0x50, body: .sync("/"))
        let lost = h.machine.connectionLost(now: h.now, reason: "reset")
        #expect(lost == [.stateChanged(.disconnected)])
        let open = h.advance(.milliseconds(60))
        #expect(open == [.openConnection(h.hosts[1])])
        #expect(h.machine.channelConnected(now: h.now) == [.sendConnectRequest(
            ConnectRequest(protocolVersion: 0, lastZxidSeen: 0x50, timeOut: 30_000, sessionId: 0x77,
                           password: Harness.sessionPassword, readOnly: false))])
        #expect(h.machine.connectResponseReceived(
            ConnectResponse(timeOut: 30_000, sessionId: 0x77, password: Harness.sessionPassword), now: h.now) == [.stateChanged(.connected)])
    }

    @Test func failedAttemptsRotateHostsThenBackOff() {
        var h = Harness()
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[0])])
        #expect(h.machine.connectFailed(now: h.now, reason: "refused") == [])
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[1])])
        _ = h.machine.connectFailed(now: h.now, reason: "refused")
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[2])])
        _ = h.machine.connectFailed(now: h.now, reason: "refused")
        // A whole round failed: the next attempt waits.
        #expect(h.machine.tick(now: h.now) == [])
        #expect(h.advance(.seconds(1)) == [.openConnection(h.hosts[0])])
    }

    @Test func attemptThatHangsTimesOut() {
        var h = Harness(hostCount: 2, timeout: 4_000)
        _ = h.machine.tick(now: h.now)
        _ = h.machine.channelConnected(now: h.now)
        // T/N = 2 s.
        #expect(h.advance(.milliseconds(1_900)) == [])
        #expect(h.advance(.milliseconds(200)) == [.closeConnection])
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[1])])
    }

    @Test func expiredSessionFailsEverythingAndIsTerminal() {
        var h = Harness()
        _ = h.connect(sessionId: 0x9)
        _ = h.machine.submit(.getData(PathWatchRequest(path: "/w", watch: true)), id: rid(1), watch: .data(wid(1)), now: h.now)
        _ = h.reply(xid: 1, body: .getData(GetDataResponse(data: [], stat: stat)))
        _ = h.machine.connectionLost(now: h.now, reason: "reset")
        _ = h.machine.submit(.exists(PathWatchRequest(path: "/q", watch: false)), id: rid(2), now: h.now)
        _ = h.advance(.milliseconds(100))
        _ = h.machine.channelConnected(now: h.now)
        let actions = h.machine.connectResponseReceived(ConnectResponse(timeOut: 0, sessionId: 0, password: [UInt8](repeating: 0, count: 16)), now: h.now)
        #expect(actions == [
            .closeConnection,
            .fail(rid(2), ZooKeeperError(.sessionExpired, path: "/q")),
            .finishWatches([wid(1)], ZooKeeperError(.sessionExpired)),
            .stateChanged(.expired),
        ])
        #expect(h.machine.submit(.sync(PathRequest(path: "/")), id: rid(3), now: h.now) == [.fail(rid(3), ZooKeeperError(.sessionExpired, path: "/"))])
        #expect(h.advance(.seconds(60)) == [])
    }

    @Test func sessionExpiresLocallyWhenNoServerAnswersFor4TOver3() {
        var h = Harness(hostCount: 1, timeout: 3_000)
        _ = h.connect(timeout: 3_000)
        _ = h.machine.connectionLost(now: h.now, reason: "reset")
        var sawExpiry = false
        for _ in 0..<50 {
            let actions = h.advance(.milliseconds(100))
            if actions.contains(.openConnection(h.hosts[0])) { _ = h.machine.connectFailed(now: h.now, reason: "refused") }
            if actions.contains(.stateChanged(.expired)) { sawExpiry = true; break }
        }
        #expect(sawExpiry)
        #expect(h.machine.state == .expired)
    }

    @Test func oneShotWatchesFireOnceAndPersistentOnesStay() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.getData(PathWatchRequest(path: "/a", watch: true)), id: rid(1), watch: .data(wid(1)), now: h.now)
        _ = h.reply(xid: 1, body: .getData(GetDataResponse(data: [], stat: stat)))
        _ = h.machine.submit(.addWatch(AddWatchRequest(path: "/", mode: .persistentRecursive)), id: rid(2), watch: .persistentRecursive(wid(2)), now: h.now)
        _ = h.reply(xid: 2, body: .addWatch(ErrorResponse(err: 0)))
        _ = h.machine.submit(.addWatch(AddWatchRequest(path: "/a", mode: .persistent)), id: rid(3), watch: .persistent(wid(3)), now: h.now)
        _ = h.reply(xid: 3, body: .addWatch(ErrorResponse(err: 0)))

        #expect(h.notify(.nodeDataChanged, "/a", zxid: 20) == [.fireWatches([wid(1), wid(2), wid(3)], ServerWatchEvent(type: .nodeDataChanged, path: "/a", zxid: 20))])
        #expect(h.notify(.nodeDataChanged, "/a") == [.fireWatches([wid(2), wid(3)], ServerWatchEvent(type: .nodeDataChanged, path: "/a", zxid: -1))])
        // Recursive watches get no NodeChildrenChanged; the persistent one on /a does.
        #expect(h.notify(.nodeChildrenChanged, "/a") == [.fireWatches([wid(3)], ServerWatchEvent(type: .nodeChildrenChanged, path: "/a", zxid: -1))])
        #expect(h.notify(.nodeCreated, "/a/b/c") == [.fireWatches([wid(2)], ServerWatchEvent(type: .nodeCreated, path: "/a/b/c", zxid: -1))])
        #expect(h.notify(.nodeDeleted, "/zzz") == [.fireWatches([wid(2)], ServerWatchEvent(type: .nodeDeleted, path: "/zzz", zxid: -1))])
    }

    @Test func existsOnMissingNodeLeavesAnExistWatch() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.exists(PathWatchRequest(path: "/new", watch: true)), id: rid(1), watch: .data(wid(1)), now: h.now)
        #expect(h.reply(xid: 1, err: .noNode) == [.fail(rid(1), ZooKeeperError(.noNode, path: "/new"))])
        #expect(h.machine.hasLocalWatch(path: "/new", kind: .exist))
        #expect(h.notify(.nodeCreated, "/new") == [.fireWatches([wid(1)], ServerWatchEvent(type: .nodeCreated, path: "/new", zxid: -1))])
        #expect(!h.machine.isWatchRegistered(wid(1)))
    }

    @Test func failedWatchingReadLeavesNoWatch() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.getData(PathWatchRequest(path: "/x", watch: true)), id: rid(1), watch: .data(wid(1)), now: h.now)
        _ = h.reply(xid: 1, err: .noNode)
        #expect(!h.machine.isWatchRegistered(wid(1)))
    }

    @Test func reconnectSendsAuthThenSetWatchesThenQueuedRequests() {
        var h = Harness()
        _ = h.connect(sessionId: 0x5)
        let auth = AuthPacket(scheme: "digest", auth: Array("u:p".utf8))
        #expect(h.machine.addAuth(auth, id: rid(10)) == [.send(xid: -4, request: .auth(auth))])
        #expect(h.reply(xid: -4, zxid: 0) == [.succeed(rid(10), .empty)])
        _ = h.machine.submit(.getData(PathWatchRequest(path: "/d", watch: true)), id: rid(1), watch: .data(wid(1)), now: h.now)
        _ = h.reply(xid: 1, zxid: 0x30, body: .getData(GetDataResponse(data: [], stat: stat)))
        _ = h.machine.submit(.exists(PathWatchRequest(path: "/e", watch: true)), id: rid(2), watch: .data(wid(2)), now: h.now)
        _ = h.reply(xid: 2, zxid: 0x31, err: .noNode)
        _ = h.machine.submit(.getChildren2(PathWatchRequest(path: "/c", watch: true)), id: rid(3), watch: .child(wid(3)), now: h.now)
        _ = h.reply(xid: 3, zxid: 0x32, body: .getChildren2(GetChildren2Response(children: [], stat: stat)))

        _ = h.machine.connectionLost(now: h.now, reason: "reset")
        let queuedRequest = ZooKeeperRequest.sync(PathRequest(path: "/"))
        _ = h.machine.submit(queuedRequest, id: rid(4), now: h.now)
        _ = h.advance(.milliseconds(100))
        _ = h.machine.channelConnected(now: h.now)
        let actions = h.machine.connectResponseReceived(ConnectResponse(timeOut: 30_000, sessionId: 0x5, password: Harness.sessionPassword), now: h.now)
        #expect(actions == [
            .stateChanged(.connected),
            .send(xid: -4, request: .auth(auth)),
            .send(xid: 4, request: .setWatches(SetWatches(relativeZxid: 0x32, dataWatches: ["/d"], existWatches: ["/e"], childWatches: ["/c"]))),
            .send(xid: 5, request: queuedRequest),
        ])
        // The SetWatches reply is internal; catch-up events reach the watches.
        #expect(h.notify(.nodeDataChanged, "/d") == [.fireWatches([wid(1)], ServerWatchEvent(type: .nodeDataChanged, path: "/d", zxid: -1))])
        #expect(h.reply(xid: -4, zxid: 0) == [])
        #expect(h.reply(xid: 4) == [])
        #expect(h.reply(xid: 5, body: .sync("/")) == [.succeed(rid(4), .sync("/"))])
    }

    @Test func persistentWatchesAreRestoredWithSetWatches2() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.addWatch(AddWatchRequest(path: "/p", mode: .persistent)), id: rid(1), watch: .persistent(wid(1)), now: h.now)
        _ = h.reply(xid: 1, zxid: 0x40, body: .addWatch(ErrorResponse(err: 0)))
        _ = h.machine.submit(.addWatch(AddWatchRequest(path: "/r", mode: .persistentRecursive)), id: rid(2), watch: .persistentRecursive(wid(2)), now: h.now)
        _ = h.reply(xid: 2, zxid: 0x41, body: .addWatch(ErrorResponse(err: 0)))
        _ = h.machine.connectionLost(now: h.now, reason: "reset")
        _ = h.advance(.milliseconds(100))
        _ = h.machine.channelConnected(now: h.now)
        let actions = h.machine.connectResponseReceived(ConnectResponse(timeOut: 30_000, sessionId: 0x100, password: Harness.sessionPassword), now: h.now)
        #expect(actions.last == .send(xid: 3, request: .setWatches2(SetWatches2(
            relativeZxid: 0x41, dataWatches: [], existWatches: [], childWatches: [],
            persistentWatches: ["/p"], persistentRecursiveWatches: ["/r"]))))
    }

    @Test func setWatchesIsSplitAtThePacketLimit() {
        var configuration = SessionStateMachine.Configuration(hosts: [HostAndPort(host: "h", port: 1)], sessionTimeout: 30_000)
        configuration.setWatchesPacketLimit = 10
        var machine = SessionStateMachine(configuration: configuration, seed: 1, now: .uptimeNanoseconds(0))
        let now = NIODeadline.uptimeNanoseconds(0)
        _ = machine.tick(now: now)
        _ = machine.channelConnected(now: now)
        _ = machine.connectResponseReceived(ConnectResponse(timeOut: 30_000, sessionId: 1, password: Harness.sessionPassword), now: now)
        for (index, path) in ["/aaaa", "/bbbb", "/cccc"].enumerated() {
            _ = machine.submit(.getData(PathWatchRequest(path: path, watch: true)), id: rid(UInt64(index + 1)), watch: .data(wid(UInt64(index + 1))), now: now)
            var body = ByteBuffer()
            GetDataResponse(data: [], stat: stat).encode(into: &body)
            _ = machine.replyReceived(ReplyHeader(xid: Int32(index + 1), zxid: 1, err: 0), body: body, now: now)
        }
        _ = machine.connectionLost(now: now, reason: "reset")
        let later = now + .seconds(1)
        _ = machine.tick(now: later)
        _ = machine.channelConnected(now: later)
        let actions = machine.connectResponseReceived(ConnectResponse(timeOut: 30_000, sessionId: 1, password: Harness.sessionPassword), now: later)
        let setWatches = actions.compactMap { action -> [String]? in
            if case .send(_, .setWatches(let packet)) = action { return packet.dataWatches }
            return nil
        }
        #expect(setWatches == [["/aaaa", "/bbbb"], ["/cccc"]])
    }

    @Test func rejectedAuthIsTerminal() {
        var h = Harness()
        _ = h.connect()
        let auth = AuthPacket(scheme: "nope", auth: [1])
        _ = h.machine.addAuth(auth, id: rid(1))
        let actions = h.reply(xid: -4, zxid: 0, err: .authFailed)
        #expect(actions == [.fail(rid(1), ZooKeeperError(.authFailed)), .closeConnection, .stateChanged(.authFailed)])
        #expect(h.machine.state == .authFailed)
    }

    @Test func closeSendsCloseSessionAndEndsTheSession() {
        var h = Harness()
        _ = h.connect()
        _ = h.machine.submit(.addWatch(AddWatchRequest(path: "/p", mode: .persistent)), id: rid(1), watch: .persistent(wid(1)), now: h.now)
        _ = h.reply(xid: 1, body: .addWatch(ErrorResponse(err: 0)))
        #expect(h.machine.closeRequested(id: rid(2), now: h.now) == [.send(xid: 2, request: .closeSession)])
        #expect(h.machine.submit(.sync(PathRequest(path: "/")), id: rid(3), now: h.now) == [.fail(rid(3), ZooKeeperError(.sessionExpired, path: "/"))])
        #expect(h.reply(xid: 2) == [.succeed(rid(2), .empty), .finishWatches([wid(1)], nil), .stateChanged(.closed)])
    }

    @Test func closeSucceedsWhenTheConnectionDropsMeanwhile() {
        var h = Harness()
        _ = h.connect()
        #expect(h.machine.closeRequested(id: rid(1), now: h.now) == [.send(xid: 1, request: .closeSession)])
        #expect(h.machine.connectionLost(now: h.now, reason: "reset") == [.succeed(rid(1), .empty), .stateChanged(.closed)])
    }

    @Test func closeWithoutConnectionJustStops() {
        var h = Harness()
        #expect(h.machine.closeRequested(id: rid(1), now: h.now) == [.succeed(rid(1), .empty), .stateChanged(.closed)])
    }

    @Test func readOnlySessionProbesForAReadWriteServerAndMoves() {
        var h = Harness(canBeReadOnly: true)
        let actions = h.connect(sessionId: 0x55, readOnly: true)
        #expect(actions.contains(.stateChanged(.connectedReadOnly)))
        let probe = h.advance(.milliseconds(150))
        #expect(probe == [.probeReadWrite(h.hosts[1])])
        let move = h.machine.readWriteServerFound(h.hosts[1], now: h.now)
        #expect(move == [.closeConnection, .stateChanged(.disconnected)])
        #expect(h.machine.tick(now: h.now) == [.openConnection(h.hosts[1])])
        // A session first made on a read-only server is not carried over.
        #expect(h.machine.channelConnected(now: h.now) == [.sendConnectRequest(
            ConnectRequest(lastZxidSeen: 0, timeOut: 30_000, sessionId: 0, password: [UInt8](repeating: 0, count: 16), readOnly: true))])
    }

    @Test func xidsWrapToOne() {
        var h = Harness()
        _ = h.connect()
        var last: Int32 = 0
        for n in 1...5 {
            if case .send(let xid, _) = h.machine.submit(.ping, id: rid(UInt64(n)), now: h.now).first { last = xid }
        }
        #expect(last == 5)
    }
}
