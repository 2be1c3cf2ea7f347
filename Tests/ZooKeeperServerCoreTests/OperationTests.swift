import NIOCore
import Testing
@testable import ZooKeeperServerCore

@Suite struct OperationTests {
    @Test func builtInNodesAndCversionQuirk() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.core.tree.stat(at: "/")?.cversion == -1)
        #expect(h.core.tree.stat(at: "/zookeeper")?.cversion == -2)
        #expect(h.core.tree.stat(at: "/zookeeper/config")?.aversion == -1)
        let (_, acl) = h.call(1, .getACL(PathRequest(path: "/zookeeper/config")))
        #expect(acl == .getACL(GetACLResponse(acl: ACL.readUnsafe, stat: h.core.tree.stat(at: "/zookeeper/config")!)))
        #expect(h.call(1, .getChildren(PathWatchRequest(path: "/", watch: false))).1 == .getChildren(["zookeeper"]))
        #expect(h.call(1, .getAllChildrenNumber(PathRequest(path: "/"))).1 == .getAllChildrenNumber(3))
    }

    @Test func createStatsSequentialAndPzxid() {
        var h = Harness()
        _ = h.session(1)
        let (header, response) = h.call(1, create2("/a", "x"))
        #expect(header.zxid == 2)
        guard case .create2(let created) = response else {
            Issue.record("no create2 response")
            return
        }
        #expect(created.path == "/a")
        #expect(created.stat.czxid == 2 && created.stat.mzxid == 2 && created.stat.pzxid == 2)
        #expect(created.stat.ctime == h.clock.wallClockMilliseconds && created.stat.dataLength == 1)
        #expect(h.call(1, create("/a/q-", flags: .persistentSequential)).1 == .create(CreateResponse(path: "/a/q-0000000000")))
        #expect(h.call(1, create("/a/plain")).1 == .create(CreateResponse(path: "/a/plain")))
        #expect(h.call(1, create("/a/q-", flags: .persistentSequential)).1 == .create(CreateResponse(path: "/a/q-0000000002")))
        #expect(h.err(1, .delete(DeleteRequest(path: "/a/plain", version: -1))) == 0)
        let stat = h.core.tree.stat(at: "/a")!
        #expect(stat.cversion == 4)  // 3 creates + 1 delete
        #expect(stat.pzxid == 6 && stat.mzxid == 2 && stat.numChildren == 2)
        #expect(ServerCore.sequenceSuffix(Int32.min) == "-2147483648")
        #expect(ServerCore.sequenceSuffix(-5) == "-000000005")
    }

    @Test func createErrorsInZooKeeperOrder() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, .create(CreateRequest(path: "/x", data: nil, acl: ACL.openUnsafe, flags: 9))) == -8)
        #expect(h.err(1, create("/x", flags: .persistentWithTTL)) == -6)  // TTL disabled
        #expect(h.err(1, create("nope")) == -8)
        #expect(h.err(1, create("/x", acl: [])) == -114)
        #expect(h.err(1, create("/x", acl: ACL.creatorAll)) == -114)  // auth with no ids
        #expect(h.err(1, create("/missing/x", acl: [])) == -114)  // INVALIDACL before NONODE
        #expect(h.err(1, create("/missing/x")) == -101)
        #expect(h.err(1, create("/bad/")) == -101)
        #expect(h.err(1, create("/x/")) == -101)
        #expect(h.err(1, create("/.")) == -8)
        #expect(h.err(1, create("/a", acl: [ACL(permissions: .read, id: .anyone)])) == 0)
        #expect(h.err(1, create("/a/b")) == -102)  // NOAUTH on the parent
        #expect(h.err(1, create("/missing/x", acl: [ACL(permissions: .all, id: Id(scheme: "digest", id: "a:b:c"))])) == -114)
        #expect(h.err(1, create("/a")) == -110)
        #expect(h.err(1, create("/e", flags: .ephemeral)) == 0)
        #expect(h.err(1, create("/e/c")) == -108)
        // Every write above took a zxid: 1 session + 16 requests.
        #expect(h.core.lastZxid == 17)
    }

    @Test func failedWritesConsumeZxids() {
        var h = Harness()
        _ = h.session(1)
        let (header, _) = h.call(1, .delete(DeleteRequest(path: "/nope", version: -1)))
        #expect(header.err == -101 && header.zxid == 2)
        let txn = try! Transaction(bytes: h.appended.last!.bytes)
        #expect(txn.body == .error(.noNode) && txn.header.type == .error)
    }

    @Test func deleteSetDataSetACLChecks() {
        var h = Harness()
        _ = h.session(1)
        for special in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
            #expect(h.err(1, .delete(DeleteRequest(path: special, version: -1))) == -8)
        }
        #expect(h.err(1, create("/a")) == 0)
        #expect(h.err(1, create("/a/b")) == 0)
        #expect(h.err(1, .delete(DeleteRequest(path: "/a", version: 3))) == -103)  // version before NOTEMPTY
        #expect(h.err(1, .delete(DeleteRequest(path: "/a", version: 0))) == -111)
        #expect(h.err(1, .setData(SetDataRequest(path: "/a/b", data: [1, 2], version: 1))) == -103)
        let (_, set) = h.call(1, .setData(SetDataRequest(path: "/a/b", data: [1, 2], version: 0)))
        guard case .stat(let stat) = set else {
            Issue.record("no stat")
            return
        }
        #expect(stat.version == 1 && stat.mzxid == h.core.lastZxid && stat.dataLength == 2)
        #expect(h.err(1, .setData(SetDataRequest(path: "/nope", data: nil, version: -1))) == -101)
        #expect(h.err(1, .setData(SetDataRequest(path: "bad", data: nil, version: -1))) == -8)
        #expect(h.err(1, .setACL(SetACLRequest(path: "/nope", acl: [], version: -1))) == -114)
        #expect(h.err(1, .setACL(SetACLRequest(path: "/nope", acl: ACL.openUnsafe, version: -1))) == -101)
        #expect(h.err(1, .setACL(SetACLRequest(path: "/a/b", acl: ACL.openUnsafe, version: 4))) == -103)
        let (_, acl) = h.call(1, .setACL(SetACLRequest(path: "/a/b", acl: [ACL(permissions: .read, id: .anyone)], version: 0)))
        guard case .stat(let aclStat) = acl else {
            Issue.record("no stat")
            return
        }
        #expect(aclStat.aversion == 1 && aclStat.mzxid == stat.mzxid)
        #expect(h.err(1, .setData(SetDataRequest(path: "/a/b", data: nil, version: -1))) == -102)
        #expect(h.err(1, .setACL(SetACLRequest(path: "/a/b", acl: ACL.openUnsafe, version: -1))) == -102)
    }

    @Test func readsNoNodeBeforeNoAuth() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/secret", acl: [ACL(permissions: .all, id: Id(scheme: "digest", id: Authorization.digest("u:p")))])) == 0)
        #expect(h.err(1, .getData(PathWatchRequest(path: "/nope", watch: false))) == -101)
        #expect(h.err(1, .getData(PathWatchRequest(path: "/secret", watch: false))) == -102)
        #expect(h.err(1, .exists(PathWatchRequest(path: "/secret", watch: true))) == -102)
        #expect(h.core.watches.watchCount == 0)
        #expect(h.err(1, .exists(PathWatchRequest(path: "/a\u{0}", watch: false))) == -8)
        #expect(h.err(1, .getChildren2(PathWatchRequest(path: "/secret", watch: false))) == -102)
        #expect(h.err(1, .getAllChildrenNumber(PathRequest(path: "/secret"))) == -102)
        #expect(h.err(1, .getACL(PathRequest(path: "/secret"))) == -102)
        // With the credentials: READ, and getACL shows the digest.
        _ = h.request(1, xid: -4, .auth(AuthPacket(scheme: "digest", auth: Array("u:p".utf8))))
        #expect(h.err(1, .getData(PathWatchRequest(path: "/secret", watch: false))) == 0)
        guard case .getACL(let full) = h.call(1, .getACL(PathRequest(path: "/secret"))).1 else {
            Issue.record("no acl")
            return
        }
        #expect(full.acl[0].id.id == Authorization.digest("u:p"))
    }

    @Test func getACLMasksDigestWithoutAdmin() {
        var h = Harness()
        _ = h.session(1)
        let digest = Id(scheme: "digest", id: Authorization.digest("u:p"))
        #expect(h.err(1, create("/m", acl: [ACL(permissions: .read, id: .anyone), ACL(permissions: .all, id: digest)])) == 0)
        guard case .getACL(let masked) = h.call(1, .getACL(PathRequest(path: "/m"))).1 else {
            Issue.record("no acl")
            return
        }
        #expect(masked.acl[1].id == Id(scheme: "digest", id: "u:x"))
    }

    @Test func authACLExpandsAndSuperSkipsChecks() {
        var h = Harness { $0.superDigest = Authorization.digest("super:admin") }
        _ = h.session(1)
        _ = h.request(1, xid: -4, .auth(AuthPacket(scheme: "digest", auth: Array("u:p".utf8))))
        #expect(h.err(1, create("/mine", acl: ACL.creatorAll)) == 0)
        #expect(h.core.tree.node(at: "/mine")?.acl == [ACL(permissions: .all, id: Id(scheme: "digest", id: Authorization.digest("u:p")))])
        _ = h.session(2)
        #expect(h.err(2, .getData(PathWatchRequest(path: "/mine", watch: false))) == -102)
        _ = h.request(2, xid: -4, .auth(AuthPacket(scheme: "digest", auth: Array("super:admin".utf8))))
        #expect(h.err(2, .getData(PathWatchRequest(path: "/mine", watch: false))) == 0)
    }

    @Test func ipACLs() {
        #expect(IPAddress.matches(address: "10.1.2.3", expression: "10.1.0.0/16"))
        #expect(!IPAddress.matches(address: "10.2.2.3", expression: "10.1.0.0/16"))
        #expect(IPAddress.matches(address: "::1", expression: "0:0:0:0:0:0:0:1"))
        #expect(IPAddress.matches(address: "fe80::1:2", expression: "fe80::/64"))
        #expect(!IPAddress.matches(address: "fe81::1", expression: "fe80::/16"))
        #expect(IPAddress.hostPart(of: "[IPv4]127.0.0.1/127.0.0.1:5000") == "127.0.0.1")
        #expect(IPAddress.hostPart(of: "[::1]:5000") == "::1")
        var h = Harness()
        _ = h.session(1, address: "10.1.2.3:4444")
        #expect(h.err(1, create("/ip", acl: [ACL(permissions: .all, id: Id(scheme: "ip", id: "10.1.0.0/16"))])) == 0)
        #expect(h.err(1, .getData(PathWatchRequest(path: "/ip", watch: false))) == 0)
        _ = h.session(2, address: "10.2.2.3:4444")
        #expect(h.err(2, .getData(PathWatchRequest(path: "/ip", watch: false))) == -102)
        #expect(h.err(2, create("/bad", acl: [ACL(permissions: .all, id: Id(scheme: "ip", id: "10.0.0.0/40"))])) == -114)
    }

    @Test func fixupDedupes() {
        let acl = [ACL(permissions: .all, id: .anyone), ACL(permissions: .all, id: .anyone)]
        #expect(Authorization.fixup(acl, authIds: [], digestEnabled: true) == ACL.openUnsafe)
        #expect(Authorization.fixup([ACL(permissions: .all, id: Id(scheme: "world", id: "x"))], authIds: [], digestEnabled: true) == nil)
        #expect(Authorization.fixup([ACL(permissions: .all, id: Id(scheme: "digest", id: "user:"))], authIds: [], digestEnabled: true) == nil)
        #expect(Authorization.fixup([ACL(permissions: .all, id: Id(scheme: "super", id: ""))], authIds: [], digestEnabled: true) == nil)
    }

    @Test func getEphemeralsAndSync() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app")) == 0)
        #expect(h.err(1, create("/app/e1", flags: .ephemeral)) == 0)
        #expect(h.err(1, create("/apple", flags: .ephemeral)) == 0)
        #expect(h.err(1, create("/b", flags: .ephemeral)) == 0)
        #expect(h.call(1, .getEphemerals(PathRequest(path: "/"))).1 == .getEphemerals(["/app/e1", "/apple", "/b"]))
        #expect(h.call(1, .getEphemerals(PathRequest(path: "/app"))).1 == .getEphemerals(["/app/e1", "/apple"]))
        #expect(h.call(1, .sync(PathRequest(path: "/whatever"))).1 == .sync("/whatever"))
        #expect(h.core.tree.stat(at: "/b")?.ephemeralOwner == h.core.statistics.sessions[0].sessionId)
    }

    @Test func multiSuccessAndFailureByteExact() {
        var h = Harness()
        _ = h.session(1)
        let ok = MultiRequest(operations: [
            .create(CreateRequest(path: "/m", data: nil, acl: ACL.openUnsafe, flags: 0), opCode: .create),
            .create(CreateRequest(path: "/m/s-", data: nil, acl: ACL.openUnsafe, flags: 2), opCode: .create2),
            .create(CreateRequest(path: "/m/s-", data: nil, acl: ACL.openUnsafe, flags: 2), opCode: .create),
            .setData(SetDataRequest(path: "/m", data: [1], version: 0)),
            .check(CheckVersionRequest(path: "/m", version: 1)),
            .delete(DeleteRequest(path: "/m/s-0000000001", version: 0)),
        ])
        let (header, response) = h.call(1, .multi(ok))
        #expect(header.err == 0 && header.zxid == 2)
        guard case .multi(let results) = response else {
            Issue.record("no multi")
            return
        }
        #expect(results.results.count == 6)
        #expect(results.results[0] == .create(CreateResponse(path: "/m")))
        if case .create2(let second) = results.results[1] { #expect(second.path == "/m/s-0000000000" && second.stat.czxid == 2) }
        #expect(results.results[2] == .create(CreateResponse(path: "/m/s-0000000001")))
        #expect(results.results[4] == .check && results.results[5] == .delete)
        #expect(h.core.tree.node(at: "/m/s-0000000001") == nil)

        let failing = MultiRequest(operations: [
            .create(CreateRequest(path: "/n", data: nil, acl: ACL.openUnsafe, flags: 0), opCode: .create),
            .check(CheckVersionRequest(path: "/m", version: 7)),
            .delete(DeleteRequest(path: "/m", version: -1)),
        ])
        let frames = Harness.frames(h.request(1, xid: 7, .multi(failing)), 1)
        var expected = ByteBufferAllocator().buffer(capacity: 64)
        MultiResponse(results: [.error(0), .error(-103), .error(-2)]).encode(into: &expected)
        #expect(frames == [.reply(ReplyHeader(xid: 7, zxid: 3, err: 0), Array(expected.readableBytesView))])
        #expect(h.core.tree.node(at: "/n") == nil)
        // The failed multi logged a multi of error txns.
        let txn = try! Transaction(bytes: h.appended.last!.bytes)
        #expect(txn.header.type == .multi)
        #expect(txn.body == .multi([
            .init(type: .error, body: .error(.ok)), .init(type: .error, body: .error(.badVersion)),
            .init(type: .error, body: .error(.runtimeInconsistency)),
        ]))
    }

    @Test func multiReadIndependentResults() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/r", "d")) == 0)
        let (header, response) = h.call(1, .multiRead(MultiRequest(operations: [
            .getData(PathWatchRequest(path: "/r", watch: true)), .getData(PathWatchRequest(path: "/nope", watch: false)),
            .getChildren(PathWatchRequest(path: "/", watch: false)),
        ])))
        #expect(header.err == 0)
        #expect(response == .multi(MultiResponse(results: [
            .getData(GetDataResponse(data: Array("d".utf8), stat: h.core.tree.stat(at: "/r")!)), .error(-101),
            .getChildren(["r", "zookeeper"]),
        ])))
        #expect(h.core.watches.watchCount == 0)
    }

    @Test func containersAndTTLAreReaped() {
        var h = Harness {
            $0.extendedTypesEnabled = true
            $0.containerCheckInterval = 1000
            $0.containerMaxPerMinute = 100_000  // over 60000 a minute: no spacing (see ContainerTests in QuotaTests)
        }
        _ = h.session(1)
        #expect(h.err(1, .createContainer(CreateRequest(path: "/c", data: nil, acl: ACL.openUnsafe, flags: 4))) == 0)
        #expect(h.err(1, .createContainer(CreateRequest(path: "/unused", data: nil, acl: ACL.openUnsafe, flags: 4))) == 0)
        #expect(h.err(1, create("/c/child")) == 0)
        #expect(h.err(1, .createTTL(CreateTTLRequest(path: "/t", data: nil, acl: ACL.openUnsafe, flags: 5, ttl: 500))) == 0)
        #expect(h.err(1, .createTTL(CreateTTLRequest(path: "/t0", data: nil, acl: ACL.openUnsafe, flags: 5, ttl: 0))) == -8)
        #expect(h.err(1, .create(CreateRequest(path: "/t1", data: nil, acl: ACL.openUnsafe, flags: 5))) == -8)
        #expect(h.core.tree.stat(at: "/c")?.ephemeralOwner == 0 && h.core.tree.stat(at: "/t")?.ephemeralOwner == 0)
        #expect(h.core.tree.node(at: "/t")?.ephemeralOwner == Int64(bitPattern: 0xFF00_0000_0000_01F4))
        #expect(h.err(1, .delete(DeleteRequest(path: "/c/child", version: -1))) == 0)
        _ = h.call(1, .exists(PathWatchRequest(path: "/c", watch: true)))
        h.advance(ms: 1500)
        let actions = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/c") == nil)
        #expect(h.core.tree.node(at: "/t") == nil)
        #expect(h.core.tree.node(at: "/unused") != nil)
        #expect(Harness.events(actions, 1) == [WatcherEvent(type: .nodeDeleted, path: "/c")])
        let types = h.appended.suffix(2).map { try! Transaction(bytes: $0.bytes).header.type }
        #expect(types == [.deleteContainer, .deleteContainer])
    }
}
