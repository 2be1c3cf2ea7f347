import NIOCore
import Testing
@testable import ZooKeeperServerCore

@Suite struct DurabilityTests {
    @Test func framesHeldUntilDurable() {
        var h = Harness()
        h.autoDurable = false
        _ = h.open(1)
        let connect = h.connect(1)
        #expect(Harness.frames(connect, 1).isEmpty)
        let released = h.core.transactionsDurable(upTo: 1)
        guard case .connect(let response) = Harness.frames(released, 1).first else {
            Issue.record("no connect response")
            return
        }
        #expect(response.sessionId != 0)
        // A write and a read after it: both held; the read must not overtake.
        let write = h.request(1, xid: 1, create("/a"))
        #expect(Harness.frames(write, 1).isEmpty)
        let read = h.request(1, xid: 2, .getData(PathWatchRequest(path: "/a", watch: false)))
        #expect(Harness.frames(read, 1).isEmpty)
        #expect(h.core.statistics.outstandingRequests == 2)
        let out = Harness.frames(h.core.transactionsDurable(upTo: 2), 1)
        #expect(out.count == 2)
        if case .reply(let first, _) = out[0] { #expect(first.xid == 1) }
        if case .reply(let second, _) = out[1] { #expect(second.xid == 2) }
        // With nothing pending, replies leave at once.
        #expect(Harness.frames(h.request(1, xid: 3, .ping), 1).count == 1)
    }

    @Test func snapshotRestoreIsIdentical() throws {
        var h = Harness { $0.snapCount = 5 }
        let session = h.session(1)
        #expect(h.err(1, create("/a", "1")) == 0)
        #expect(h.err(1, create("/a/e", flags: .ephemeral)) == 0)
        #expect(h.snapshots == 0)
        let snapshot = h.core.snapshot()
        #expect(snapshot.zxid == 3)
        #expect(h.err(1, .setData(SetDataRequest(path: "/a", data: [9], version: -1))) == 0)
        #expect(h.err(1, create("/b", flags: .persistentSequential)) == 0)
        #expect(h.snapshots == 1)
        _ = h.session(2)
        let tail = h.appended.filter { $0.zxid > snapshot.zxid }
        let restored = try ServerCore(configuration: h.core.configuration, snapshot: snapshot.bytes, transactions: tail, now: h.clock)
        #expect(restored.lastZxid == h.core.lastZxid)
        #expect(restored.tree.nodes == h.core.tree.nodes)
        #expect(restored.tree.ephemerals == h.core.tree.ephemerals)
        #expect(restored.sessionTimeouts == h.core.sessionTimeouts)
        #expect(restored.sessionTimeouts[session] == 30000)
        #expect(restored.tree.approximateDataSize == h.core.tree.approximateDataSize)
        // Also from the log alone.
        let fromLog = try ServerCore(configuration: h.core.configuration, snapshot: nil, transactions: h.appended, now: h.clock)
        #expect(fromLog.tree.nodes == h.core.tree.nodes)
        // A restored session can be resumed with its password.
        var r = Harness()
        r.core = restored
        _ = r.open(9)
        guard case .connect(let resumed) = Harness.frames(r.connect(9, sessionId: session, password: ServerCore.sessionPassword(for: session)), 9).first else {
            Issue.record("no connect response")
            return
        }
        #expect(resumed.sessionId == session && resumed.timeOut == 30000)
    }

    @Test func undecodableInputThrows() {
        #expect(throws: ServerCoreError.self) {
            try ServerCore(configuration: ServerConfiguration(), snapshot: [1, 2, 3], transactions: [], now: Harness().clock)
        }
        #expect(throws: ServerCoreError.self) {
            try ServerCore(configuration: ServerConfiguration(), snapshot: nil, transactions: [(1, [0])], now: Harness().clock)
        }
    }

    @Test func statistics() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/a", "abc", flags: .ephemeral)) == 0)
        _ = h.call(1, .exists(PathWatchRequest(path: "/a", watch: true)))
        let stats = h.core.statistics
        #expect(stats.nodeCount == 5)
        #expect(stats.ephemeralsCount == 1)
        #expect(stats.watchCount == 1)
        #expect(stats.connections.count == 1)
        #expect(stats.connections[0].packetsReceived == 3)
        #expect(stats.connections[0].packetsSent == 3)
        #expect(stats.connections[0].lastOperation == "exists")
        #expect(stats.sessions.count == 1 && stats.sessions[0].ephemeralPaths == ["/a"])
        #expect(stats.lastZxid == 2)
    }
}
