import NIOCore
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServerCore

/// Quotas as Apache ZooKeeper keeps them (DataTree.updateQuotaStat / updateQuotaForPath /
/// setupQuota, ZooKeeperServer.checkQuota), and the ContainerManager's rate limit.
@Suite struct QuotaTests {
    /// What zkCli.sh's `setquota -n 3 /app` leaves in the limits node.
    static let softCountThree = "count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"

    /// zkCli.sh's setquota, as requests: /zookeeper/quota/<path>, then the limits, then the stats
    /// node with `count=0,bytes=0` (which the server replaces with the real usage).
    static func setQuota(_ h: inout Harness, _ path: String, limits: String) {
        var quotaPath = Quotas.quotaZookeeper
        for component in path.split(separator: "/") {
            quotaPath += "/" + component
            let err = h.err(1, create(quotaPath))
            #expect(err == 0 || err == ZooKeeperError.Code.nodeExists.rawValue)
        }
        #expect(h.err(1, create(quotaPath + "/zookeeper_limits", limits)) == 0)
        #expect(h.err(1, create(quotaPath + "/zookeeper_stats", "count=0,bytes=0")) == 0)
    }

    static func text(_ h: Harness, _ path: String) -> String? { self.text(h.core.tree, path) }

    static func text(_ tree: DataTree, _ path: String) -> String? {
        tree.node(at: path).map { String(decoding: $0.data ?? [], as: UTF8.self) }
    }

    static func setData(_ path: String, _ data: String, version: Int32 = -1) -> ZooKeeperRequest {
        .setData(SetDataRequest(path: path, data: Array(data.utf8), version: version))
    }

    static func delete(_ path: String) -> ZooKeeperRequest { .delete(DeleteRequest(path: path, version: -1)) }

    // MARK: StatsTrack

    @Test func statsTrackReadsAndWritesZooKeepersFormat() {
        let limits = StatsTrack(Array(Self.softCountThree.utf8))
        #expect(limits.count == 3 && limits.bytes == -1 && limits.countHardLimit == -1 && limits.byteHardLimit == -1)
        #expect(limits.text == Self.softCountThree)
        let hard = StatsTrack(Array("count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=2".utf8))
        #expect(hard.countHardLimit == 2 && hard.byteHardLimit == 100)
        #expect(StatsTrack(Array("count=2,bytes=5".utf8)).text == "count=2,bytes=5")
        // An empty value is -1, runs of separators are one; missing fields read -1 and are not written.
        let loose = StatsTrack(Array("count=,,bytes=7;;zeta=1".utf8))
        #expect(loose.count == -1 && loose.bytes == 7)
        #expect(loose.text == "count=-1,bytes=7=;zeta=1")
        #expect(StatsTrack(nil).text == "count=-1,bytes=-1")
        // Malformed pairs (Java throws) are skipped rather than failing the transaction.
        #expect(StatsTrack(Array("count=x,bytes=3,junk".utf8)).text == "count=-1,bytes=3")
    }

    // MARK: Usage tracking

    @Test func setQuotaCountsTheExistingSubtreeAndWritesWithoutChangingTheStat() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app", "ab")) == 0)
        #expect(h.err(1, create("/app/c", "xyz")) == 0)
        #expect(h.err(1, create("/other", "zzzz")) == 0)
        Self.setQuota(&h, "/app", limits: Self.softCountThree)
        let statPath = "/zookeeper/quota/app/zookeeper_stats"
        // The node itself counts: 2 nodes, 5 bytes.
        #expect(Self.text(h, statPath) == "count=2,bytes=5")
        #expect(h.core.tree.quotaPaths == ["/app"])
        #expect(h.core.tree.maxPrefixWithQuota("/app/c/d") == "/app")
        #expect(h.core.tree.maxPrefixWithQuota("/apple") == nil)
        #expect(h.core.tree.maxPrefixWithQuota("/other") == nil)
        let created = h.core.tree.node(at: statPath)!
        #expect(created.version == 0 && created.mzxid == created.czxid)
        // A data watch on the stats node never fires for the server's in-place updates.
        _ = h.call(1, .getData(PathWatchRequest(path: statPath, watch: true)))

        var events: [WatcherEvent] = []
        events += Harness.events(h.request(1, Self.setData("/app", "a")), 1)  // bytes -1
        #expect(Self.text(h, statPath) == "count=2,bytes=4")
        events += Harness.events(h.request(1, create("/app/c/d", "1234")), 1)
        #expect(Self.text(h, statPath) == "count=3,bytes=8")
        events += Harness.events(h.request(1, .create2(CreateRequest(path: "/app/e", data: nil, acl: ACL.openUnsafe, flags: 0))), 1)
        #expect(Self.text(h, statPath) == "count=4,bytes=8")
        events += Harness.events(h.request(1, Self.delete("/app/c/d")), 1)
        #expect(Self.text(h, statPath) == "count=3,bytes=4")
        // Outside the quota: no change.
        events += Harness.events(h.request(1, create("/other/x", "12345")), 1)
        events += Harness.events(h.request(1, Self.setData("/other", "")), 1)
        #expect(Self.text(h, statPath) == "count=3,bytes=4")
        // Ephemerals count too, and leave with their session.
        _ = h.session(2)
        #expect(h.err(2, create("/app/eph", "zz", flags: .ephemeral)) == 0)
        #expect(Self.text(h, statPath) == "count=4,bytes=6")
        _ = h.request(2, .closeSession)
        #expect(Self.text(h, statPath) == "count=3,bytes=4")
        // A multi is applied op by op.
        let (header, _) = h.call(1, .multi(MultiRequest(operations: [
            .create(CreateRequest(path: "/app/m", data: Array("mm".utf8), acl: ACL.openUnsafe, flags: 0), opCode: .create),
            .setData(SetDataRequest(path: "/app/m", data: Array("m".utf8), version: -1)),
            .delete(DeleteRequest(path: "/app/e", version: -1)),
        ])))
        #expect(header.err == 0)
        #expect(Self.text(h, statPath) == "count=3,bytes=5")

        #expect(events.isEmpty)
        let after = h.core.tree.node(at: statPath)!
        #expect(after.version == 0 && after.mzxid == created.mzxid && after.mtime == created.mtime)
        #expect(h.core.tree.stat(at: statPath)?.dataLength == Int32("count=3,bytes=5".utf8.count))
    }

    @Test func theCreateReplyShowsTheStatsNodeAsTheClientWroteIt() {
        // ZooKeeper copies the Stat before updating the stats node, so create2 reports the length
        // of `count=0,bytes=0`.
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app", "abc")) == 0)
        #expect(h.err(1, create("/zookeeper/quota/app")) == 0)
        #expect(h.err(1, create("/zookeeper/quota/app/zookeeper_limits", Self.softCountThree)) == 0)
        let (_, response) = h.call(1, create2("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0"))
        guard case .create2(let reply) = response else {
            Issue.record("no create2 reply: \(String(describing: response))")
            return
        }
        #expect(reply.stat.dataLength == 15)
        #expect(Self.text(h, "/zookeeper/quota/app/zookeeper_stats") == "count=1,bytes=3")
    }

    @Test func deletingTheLimitsNodeEndsTheQuota() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app")) == 0)
        Self.setQuota(&h, "/app", limits: Self.softCountThree)
        #expect(h.err(1, Self.delete("/zookeeper/quota/app/zookeeper_limits")) == 0)
        #expect(h.core.tree.quotaPaths.isEmpty)
        #expect(h.err(1, create("/app/x", "x")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/app/zookeeper_stats") == "count=1,bytes=0")
        // A stats node created with no limits node is still filled in, but not tracked.
        #expect(h.err(1, create("/zookeeper/quota/app/zookeeper_stats2")) == 0)
        #expect(h.err(1, Self.delete("/zookeeper/quota/app/zookeeper_stats")) == 0)
        #expect(h.err(1, create("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/app/zookeeper_stats") == "count=2,bytes=1")
        #expect(h.err(1, create("/app/y", "y")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/app/zookeeper_stats") == "count=2,bytes=1")
    }

    @Test func theDeepestQuotaIsTheOneUpdated() {
        // zkCli.sh refuses nested quotas, but a client can create the nodes itself.
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/a")) == 0)
        #expect(h.err(1, create("/a/b")) == 0)
        Self.setQuota(&h, "/a", limits: Self.softCountThree)
        Self.setQuota(&h, "/a/b", limits: Self.softCountThree)
        #expect(Self.text(h, "/zookeeper/quota/a/zookeeper_stats") == "count=2,bytes=0")
        #expect(Self.text(h, "/zookeeper/quota/a/b/zookeeper_stats") == "count=1,bytes=0")
        #expect(h.err(1, create("/a/b/c", "cc")) == 0)
        #expect(h.err(1, create("/a/d", "d")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/a/zookeeper_stats") == "count=3,bytes=1")
        #expect(Self.text(h, "/zookeeper/quota/a/b/zookeeper_stats") == "count=2,bytes=2")
        // Limit or stats nodes right under /zookeeper/quota have no namespace and are ignored.
        #expect(h.err(1, create("/zookeeper/quota/zookeeper_limits", "count=1,bytes=1")) == 0)
        #expect(h.err(1, create("/zookeeper/quota/zookeeper_stats", "x")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/zookeeper_stats") == "x")
        #expect(h.core.tree.quotaPaths == ["/a", "/a/b"])
    }

    @Test func otherFieldsOfTheStatsNodeAreKept() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app")) == 0)
        Self.setQuota(&h, "/app", limits: Self.softCountThree)
        let statPath = "/zookeeper/quota/app/zookeeper_stats"
        #expect(h.err(1, Self.setData(statPath, "count=10,bytes=20,extra=3")) == 0)
        #expect(h.err(1, create("/app/x", "12")) == 0)
        #expect(Self.text(h, statPath) == "count=11,bytes=22=;extra=3")
        #expect(h.core.tree.node(at: statPath)?.version == 1)
    }

    // MARK: Replay

    @Test func replayFromTheLogAndFromASnapshotReproducesTheStats() throws {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app", "ab")) == 0)
        #expect(h.err(1, create("/app/c", "xyz")) == 0)
        Self.setQuota(&h, "/app", limits: Self.softCountThree)
        #expect(h.err(1, create("/app/d", "1")) == 0)
        let snapshot = h.core.snapshot()
        #expect(h.err(1, create("/app/c/e", "4444")) == 0)
        #expect(h.err(1, Self.delete("/app/d")) == 0)
        #expect(h.err(1, Self.setData("/app", "")) == 0)
        let statPath = "/zookeeper/quota/app/zookeeper_stats"
        #expect(Self.text(h, statPath) == "count=3,bytes=7")

        let fromLog = try ServerCore(configuration: h.core.configuration, snapshot: nil, transactions: h.appended, now: h.clock)
        #expect(fromLog.tree.nodes == h.core.tree.nodes)
        #expect(fromLog.tree.quotaPaths == ["/app"])
        let tail = h.appended.filter { $0.zxid > snapshot.zxid }
        let fromSnapshot = try ServerCore(configuration: h.core.configuration, snapshot: snapshot.bytes, transactions: tail, now: h.clock)
        #expect(fromSnapshot.tree.nodes == h.core.tree.nodes)
        #expect(fromSnapshot.tree.quotaPaths == ["/app"])
    }

    @Test func loadingASnapshotRecomputesTheStatsAsZooKeeperDoes() throws {
        // setupQuota: after a snapshot is loaded every quota's usage is counted afresh, so a stats
        // node a client overwrote is repaired (and only count and bytes are kept).
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/app", "ab")) == 0)
        Self.setQuota(&h, "/app", limits: Self.softCountThree)
        let statPath = "/zookeeper/quota/app/zookeeper_stats"
        #expect(h.err(1, Self.setData(statPath, "count=100,bytes=100,extra=1")) == 0)
        let snapshot = h.core.snapshot()
        let restored = try ServerCore(configuration: h.core.configuration, snapshot: snapshot.bytes, transactions: [], now: h.clock)
        #expect(Self.text(restored.tree, statPath) == "count=1,bytes=2")
        #expect(restored.tree.node(at: statPath)?.version == 1)
        // From the log alone the client's data stays (ZooKeeper without a snapshot does the same).
        let fromLog = try ServerCore(configuration: h.core.configuration, snapshot: nil, transactions: h.appended, now: h.clock)
        #expect(Self.text(fromLog.tree, statPath) == "count=100,bytes=100,extra=1")
    }

    // MARK: Enforcement

    static func enforcing() -> Harness {
        var h = Harness { $0.enforceQuota = true }
        _ = h.session(1)
        return h
    }

    @Test func aHardCountLimitRefusesTheCreateBeyondIt() {
        var h = Self.enforcing()
        #expect(h.err(1, create("/q")) == 0)
        Self.setQuota(&h, "/q", limits: "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3")
        #expect(h.err(1, create("/q/a")) == 0)
        #expect(h.err(1, create("/q/b")) == 0)
        let zxid = h.core.lastZxid
        #expect(h.err(1, create("/q/c")) == ZooKeeperError.Code.quotaExceeded.rawValue)
        #expect(h.err(1, create("/q/a/deeper", flags: .persistentSequential)) == -125)
        #expect(h.err(1, .createContainer(CreateRequest(path: "/q/k", data: nil, acl: ACL.openUnsafe, flags: 4))) == -125)
        // Like every refused write, each consumed a zxid with an error transaction.
        #expect(h.core.lastZxid == zxid + 3)
        #expect(h.core.tree.node(at: "/q/c") == nil)
        #expect(Self.text(h, "/zookeeper/quota/q/zookeeper_stats") == "count=3,bytes=0")
        // Data changes do not count nodes; outside the quota anything goes.
        #expect(h.err(1, Self.setData("/q/a", "lots of data")) == 0)
        #expect(h.err(1, create("/elsewhere")) == 0)
        // After a delete there is room again.
        #expect(h.err(1, Self.delete("/q/b")) == 0)
        #expect(h.err(1, create("/q/c")) == 0)
    }

    @Test func aSoftLimitIsNotEnforced() {
        var h = Self.enforcing()
        #expect(h.err(1, create("/q")) == 0)
        Self.setQuota(&h, "/q", limits: "count=1,bytes=1=;byteHardLimit=-1;countHardLimit=-1")
        #expect(h.err(1, create("/q/a", "data")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/q/zookeeper_stats") == "count=2,bytes=4")
    }

    @Test func aHardByteLimitRefusesCreatesAndSetData() {
        var h = Self.enforcing()
        #expect(h.err(1, create("/q", "12")) == 0)
        Self.setQuota(&h, "/q", limits: "count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=-1")
        #expect(h.err(1, create("/q/a", "123456")) == 0)  // 8 bytes
        #expect(h.err(1, create("/q/b", "123")) == -125)  // would be 11
        #expect(h.err(1, create("/q/b")) == 0)  // no data: no byte check
        #expect(h.err(1, Self.setData("/q/a", "12345678")) == 0)  // 10
        #expect(h.err(1, Self.setData("/q/a", "123456789")) == -125)
        // The quota check comes before the version check, as in PrepRequestProcessor.
        #expect(h.err(1, Self.setData("/q/a", "123456789", version: 42)) == -125)
        #expect(h.err(1, Self.setData("/q/a", "1", version: 42)) == ZooKeeperError.Code.badVersion.rawValue)
        #expect(Self.text(h, "/zookeeper/quota/q/zookeeper_stats") == "count=3,bytes=10")
        // Lowering the limit below the usage (as setquota may) makes even a shrinking setData fail:
        // ZooKeeper compares the new total with the limit whatever the sign of the change.
        #expect(h.err(1, Self.setData("/zookeeper/quota/q/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=5;countHardLimit=-1")) == 0)
        #expect(h.err(1, Self.setData("/q/a", "1234")) == -125)
        #expect(h.err(1, Self.setData("/q/a", "12345678")) == 0)  // no change in length: not checked
    }

    @Test func aMultiIsCheckedAgainstTheCommittedUsage() {
        var h = Self.enforcing()
        #expect(h.err(1, create("/q")) == 0)
        Self.setQuota(&h, "/q", limits: "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2")
        func multiCreate(_ paths: [String]) -> MultiRequest {
            MultiRequest(operations: paths.map {
                .create(CreateRequest(path: $0, data: nil, acl: ACL.openUnsafe, flags: 0), opCode: .create)
            })
        }
        // Each create is checked against the stats as committed, so two creates that together
        // pass the limit go through (ZooKeeper does not count earlier ops of the same multi).
        let (ok, _) = h.call(1, .multi(multiCreate(["/q/a", "/q/b"])))
        #expect(ok.err == 0)
        #expect(Self.text(h, "/zookeeper/quota/q/zookeeper_stats") == "count=3,bytes=0")
        let (refused, response) = h.call(1, xid: 2, .multi(multiCreate(["/elsewhere", "/q/c"])))
        #expect(refused.err == 0)
        #expect(response == .multi(MultiResponse(results: [.error(0), .error(-125)])))
        #expect(h.core.tree.node(at: "/elsewhere") == nil)
    }

    @Test func withoutEnforcementHardLimitsOnlyTrack() {
        var h = Harness()
        _ = h.session(1)
        #expect(h.err(1, create("/q")) == 0)
        Self.setQuota(&h, "/q", limits: "count=-1,bytes=-1=;byteHardLimit=1;countHardLimit=1")
        #expect(h.err(1, create("/q/a", "abc")) == 0)
        #expect(Self.text(h, "/zookeeper/quota/q/zookeeper_stats") == "count=2,bytes=3")
    }

    // MARK: Containers

    static func containers(_ configure: @escaping (inout ServerConfiguration) -> Void) -> Harness {
        var h = Harness {
            $0.containerCheckInterval = 1000
            configure(&$0)
        }
        _ = h.session(1)
        return h
    }

    static func createContainer(_ h: inout Harness, _ path: String, used: Bool) {
        #expect(h.err(1, .createContainer(CreateRequest(path: path, data: nil, acl: ACL.openUnsafe, flags: 4))) == 0)
        if used {
            #expect(h.err(1, create(path + "/child")) == 0)
            #expect(h.err(1, Self.delete(path + "/child")) == 0)
        }
    }

    static func remaining(_ h: Harness, _ paths: [String]) -> [String] {
        paths.filter { h.core.tree.node(at: $0) != nil }
    }

    @Test func containerDeletionsAreSpacedByMaxPerMinute() {
        // 60 a minute: one deletion a second, the first at once.
        var h = Self.containers { $0.containerMaxPerMinute = 60 }
        let paths = ["/c1", "/c2", "/c3"]
        for path in paths { Self.createContainer(&h, path, used: true) }
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths) == ["/c2", "/c3"])
        h.advance(ms: 500)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths) == ["/c2", "/c3"])
        h.advance(ms: 500)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths) == ["/c3"])
        // A late tick catches up, but never beyond the rate.
        h.advance(ms: 1200)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths).isEmpty)
        // The next check waits for the previous one's spacing: a new candidate found at once
        // (the check is overdue) is deleted only a second after the last deletion.
        Self.createContainer(&h, "/c4", used: true)
        h.advance(ms: 700)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, ["/c4"]) == ["/c4"])
        h.advance(ms: 200)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, ["/c4"]).isEmpty)
    }

    @Test func theDefaultRateDeletesManyInAShortTime() {
        // 10000 a minute: 6 ms apart.
        var h = Self.containers { _ in }
        #expect(h.core.configuration.containerMaxPerMinute == 10_000)
        let paths = (0..<20).map { "/c\($0)" }
        for path in paths { Self.createContainer(&h, path, used: true) }
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths).count == 19)
        h.advance(ms: 60)  // 10 more are due
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths).count == 9)
        h.advance(ms: 100)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(Self.remaining(h, paths).isEmpty)
    }

    @Test func aContainerThatGotAChildBeforeItsTurnIsKept() {
        var h = Self.containers { $0.containerMaxPerMinute = 60 }
        Self.createContainer(&h, "/c1", used: true)
        Self.createContainer(&h, "/c2", used: true)
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.err(1, create("/c2/new")) == 0)
        let before = h.core.lastZxid
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/c2") != nil)
        // The attempt is an error transaction (NOTEMPTY), as ZooKeeper's deleteContainer request.
        #expect(h.core.lastZxid == before + 1)
        let last = try? Transaction(bytes: h.appended.last!.bytes)
        #expect(last?.header.type == .error)
    }

    @Test func neverUsedContainersFollowMaxNeverUsedInterval() {
        var h = Self.containers { $0.containerMaxNeverUsedInterval = 5000 }
        Self.createContainer(&h, "/unused", used: false)
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/unused") != nil)
        h.advance(ms: 3000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/unused") != nil)
        h.advance(ms: 1000)  // exactly 5 s old: not yet ("more than" the interval)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/unused") != nil)
        h.advance(ms: 1000)
        _ = h.finish(h.core.tick(now: h.clock))
        #expect(h.core.tree.node(at: "/unused") == nil)

        // 0 (the default) keeps them forever; a negative value reaps them at the first check.
        var keep = Self.containers { _ in }
        Self.createContainer(&keep, "/unused", used: false)
        keep.advance(ms: 100_000)
        _ = keep.finish(keep.core.tick(now: keep.clock))
        #expect(keep.core.tree.node(at: "/unused") != nil)
        var negative = Self.containers { $0.containerMaxNeverUsedInterval = -1 }
        Self.createContainer(&negative, "/unused", used: false)
        negative.advance(ms: 1000)
        _ = negative.finish(negative.core.tick(now: negative.clock))
        #expect(negative.core.tree.node(at: "/unused") == nil)
    }
}
