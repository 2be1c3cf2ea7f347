import NIOCore
import Testing
@testable import ZooKeeperServerCore

@Suite struct WatchTests {
    @Test func everyChangeKind() {
        var h = Harness()
        _ = h.session(1)
        _ = h.session(2)
        #expect(h.err(2, .exists(PathWatchRequest(path: "/w", watch: true))) == -101)  // exist watch on NONODE
        _ = h.call(2, .getChildren(PathWatchRequest(path: "/", watch: true)))
        let created = h.request(1, xid: 3, create("/w"))
        #expect(Harness.events(created, 2) == [
            WatcherEvent(type: .nodeCreated, path: "/w"), WatcherEvent(type: .nodeChildrenChanged, path: "/"),
        ])
        // Events for the write are queued before the writer's reply, and carry the txn zxid.
        let order = created.compactMap { action -> UInt64? in if case .send(let id, _) = action { return id.rawValue } else { return nil } }
        #expect(order == [2, 2, 1])
        if case .event(let zxid, _) = Harness.frames(created, 2)[0] { #expect(zxid == 3) }
        _ = h.call(2, .getData(PathWatchRequest(path: "/w", watch: true)))
        #expect(Harness.events(h.request(1, .setData(SetDataRequest(path: "/w", data: [1], version: -1))), 2) == [
            WatcherEvent(type: .nodeDataChanged, path: "/w"),
        ])
        // One-shot: a second change is silent.
        #expect(Harness.events(h.request(1, .setData(SetDataRequest(path: "/w", data: [2], version: -1))), 2).isEmpty)
        _ = h.call(2, .getData(PathWatchRequest(path: "/w", watch: true)))
        _ = h.call(2, .getChildren(PathWatchRequest(path: "/w", watch: true)))
        _ = h.call(2, .getChildren(PathWatchRequest(path: "/", watch: true)))
        // Data and child watch on the deleted node: one NodeDeleted copy.
        #expect(Harness.events(h.request(1, .delete(DeleteRequest(path: "/w", version: -1))), 2) == [
            WatcherEvent(type: .nodeDeleted, path: "/w"), WatcherEvent(type: .nodeChildrenChanged, path: "/"),
        ])
        #expect(h.core.watches.watchCount == 0, "\(h.core.watches.watchesByPath) \(h.core.watches.dataWatches) \(h.core.watches.childWatches)")
        // setACL fires nothing.
        #expect(h.err(1, create("/q")) == 0)
        _ = h.call(2, .getData(PathWatchRequest(path: "/q", watch: true)))
        #expect(Harness.events(h.request(1, .setACL(SetACLRequest(path: "/q", acl: ACL.openUnsafe, version: -1))), 2).isEmpty)
    }

    @Test func persistentAndRecursive() {
        var h = Harness()
        _ = h.session(1)
        _ = h.session(2)
        let (header, response) = h.call(2, .addWatch(AddWatchRequest(path: "/p", mode: .persistent)))
        #expect(header.err == 0 && response == .addWatch(ErrorResponse(err: 0)))
        _ = h.call(2, .addWatch(AddWatchRequest(path: "/r", mode: .persistentRecursive)))
        #expect(Harness.events(h.request(1, create("/p")), 2) == [WatcherEvent(type: .nodeCreated, path: "/p")])
        #expect(Harness.events(h.request(1, create("/p/c")), 2) == [WatcherEvent(type: .nodeChildrenChanged, path: "/p")])
        #expect(Harness.events(h.request(1, .setData(SetDataRequest(path: "/p", data: nil, version: -1))), 2) == [
            WatcherEvent(type: .nodeDataChanged, path: "/p"),
        ])
        #expect(Harness.events(h.request(1, create("/r")), 2) == [WatcherEvent(type: .nodeCreated, path: "/r")])
        #expect(Harness.events(h.request(1, create("/r/a")), 2) == [WatcherEvent(type: .nodeCreated, path: "/r/a")])
        #expect(Harness.events(h.request(1, create("/r/a/b")), 2) == [WatcherEvent(type: .nodeCreated, path: "/r/a/b")])
        #expect(Harness.events(h.request(1, .delete(DeleteRequest(path: "/r/a/b", version: -1))), 2) == [
            WatcherEvent(type: .nodeDeleted, path: "/r/a/b"),
        ])
        #expect(h.err(2, .addWatch(AddWatchRequest(path: "/x", mode: .persistent)).withMode(7)) == -5)
        // checkWatches / removeWatches.
        #expect(h.err(2, .checkWatches(WatchesRequest(path: "/p", type: .data))) == -121)  // persistent is not standard
        #expect(h.err(2, .checkWatches(WatchesRequest(path: "/p", type: .persistent))) == 0)
        #expect(h.err(2, .removeWatches(WatchesRequest(path: "/r", type: .persistentRecursive))) == 0)
        #expect(h.err(2, .removeWatches(WatchesRequest(path: "/r", type: .any))) == -121)
        #expect(h.err(2, .removeWatches(WatchesRequest(path: "/p", type: .any))) == 0)
        #expect(h.core.watches.watchCount == 0)
    }

    @Test func oneCopyPerConnectionAndACLFiltering() {
        var h = Harness()
        _ = h.session(1)
        _ = h.session(2)
        _ = h.call(2, .addWatch(AddWatchRequest(path: "/", mode: .persistentRecursive)))
        _ = h.call(2, .exists(PathWatchRequest(path: "/s", watch: true)))
        let secret = [ACL(permissions: .all, id: Id(scheme: "digest", id: Authorization.digest("u:p")))]
        // Connection 2 cannot read /s: NodeCreated is dropped; NodeChildrenChanged / is not watched by a child watch.
        #expect(Harness.events(h.request(1, create("/s", acl: secret)), 2).isEmpty)
        #expect(Harness.events(h.request(1, create("/open")), 2) == [WatcherEvent(type: .nodeCreated, path: "/open")])
    }

    @Test func setWatchesCatchUp() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/changed")) == 0)   // zxid 2
        #expect(h.err(1, create("/same")) == 0)      // zxid 3
        #expect(h.err(1, .setData(SetDataRequest(path: "/changed", data: [1], version: -1))) == 0)  // 4
        _ = h.session(2)
        let actions = h.request(2, xid: -8, .setWatches(SetWatches(
            relativeZxid: 3, dataWatches: ["/changed", "/same", "/gone"], existWatches: ["/same", "/absent"],
            childWatches: ["/", "/same"])))
        let frames = Harness.frames(actions, 2)
        #expect(frames == [
            .event(zxid: -1, WatcherEvent(type: .nodeDataChanged, path: "/changed")),
            .event(zxid: -1, WatcherEvent(type: .nodeDeleted, path: "/gone")),
            .event(zxid: -1, WatcherEvent(type: .nodeCreated, path: "/same")),
            .reply(ReplyHeader(xid: -8, zxid: 5, err: 0), []),
        ])
        // Registered: data /same, exist /absent, child / and /same (pzxid 3 is not > 3; / has pzxid 3).
        #expect(h.core.watches.watchCount == 4)
        #expect(Harness.events(h.request(1, create("/absent")), 2) == [
            WatcherEvent(type: .nodeCreated, path: "/absent"), WatcherEvent(type: .nodeChildrenChanged, path: "/"),
        ])
    }

    @Test func watchesGoneWhenConnectionCloses() {
        var h = Harness()
        _ = h.session(1)
        _ = h.call(1, .exists(PathWatchRequest(path: "/a", watch: true)))
        #expect(h.core.statistics.watchCount == 1)
        _ = h.core.connectionClosed(ConnectionID(rawValue: 1), now: h.clock)
        #expect(h.core.statistics.watchCount == 0)
    }
}

extension ZooKeeperRequest {
    func withMode(_ mode: Int32) -> ZooKeeperRequest {
        guard case .addWatch(var request) = self else { return self }
        request.mode = mode
        return .addWatch(request)
    }
}
