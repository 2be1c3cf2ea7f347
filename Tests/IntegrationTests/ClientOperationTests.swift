import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Every client operation and its error paths, against both a real Apache ZooKeeper and `zksh serve`.
@Suite(.timeLimit(.minutes(3))) struct ClientOperationTests {
    @Test(arguments: TestServerKind.allCases) func createInEveryModeReturnsPathAndStat(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let root = uniquePath()
        let made = try await client.create(root, data: bytes("root"))
        #expect(made.path == root)
        #expect(made.stat.dataLength == 4 && made.stat.version == 0 && made.stat.czxid == made.stat.mzxid)

        let ephemeral = try await client.create(root + "/e", mode: .ephemeral)
        #expect(ephemeral.stat.ephemeralOwner == (await client.sessionID))
        let sequential = try await client.create(root + "/s-", mode: .persistentSequential)
        #expect(sequential.path == root + "/s-0000000001")
        let ephemeralSequential = try await client.create(root + "/es-", mode: .ephemeralSequential)
        #expect(ephemeralSequential.path == root + "/es-0000000002")
        #expect(ephemeralSequential.stat.ephemeralOwner != 0)
        let container = try await client.create(root + "/c", mode: .container)
        #expect(container.stat.ephemeralOwner == 0)
        let ttl = try await client.create(root + "/t", mode: .persistentWithTTL, ttl: 60_000)
        #expect(ttl.stat.ephemeralOwner == 0)
        let ttlSequential = try await client.create(root + "/ts-", mode: .persistentSequentialWithTTL, ttl: 60_000)
        #expect(ttlSequential.path.hasPrefix(root + "/ts-"))

        let (children, parentStat) = try await client.getChildren(root)
        #expect(Set(children) == ["e", "s-0000000001", "es-0000000002", "c", "t", ttlSequential.path.split(separator: "/").last.map(String.init)!])
        #expect(parentStat.numChildren == 6)
        #expect(try await client.getEphemerals(prefix: root).sorted() == [root + "/e", root + "/es-0000000002"])
        #expect(try await client.getAllChildrenNumber(root) == 6)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func tasksOnTheClientsEventLoopStayThere(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let root = uniquePath()
        let executor = client.taskExecutor
        // Many requests in flight from tasks on the loop: every reply resumes its task there.
        let results = try await withThrowingTaskGroup(of: (Bool, [UInt8]).self) { group in
            for index in 0..<50 {
                group.addTask(executorPreference: executor) {
                    var onLoop = executor.eventLoop.inEventLoop
                    let path = "\(root)-\(index)"
                    _ = try await client.create(path, data: bytes("n\(index)"))
                    onLoop = onLoop && executor.eventLoop.inEventLoop
                    let (data, _) = try await client.getData(path)
                    onLoop = onLoop && executor.eventLoop.inEventLoop
                    try await client.delete(path)
                    return (onLoop && executor.eventLoop.inEventLoop, data)
                }
            }
            var all: [(Bool, [UInt8])] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 50 && results.allSatisfy(\.0))
        #expect(Set(results.map { String(decoding: $0.1, as: UTF8.self) }) == Set((0..<50).map { "n\($0)" }))
        // A task without the preference does not run on the loop.
        #expect(await Task { executor.eventLoop.inEventLoop }.value == false)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func readAndWriteDataWithVersions(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let path = uniquePath()
        #expect(try await client.exists(path) == nil)
        try await client.create(path, data: bytes("v0"))
        let stat1 = try await client.setData(path, data: bytes("v1"), version: 0)
        #expect(stat1.version == 1)
        let (data, stat) = try await client.getData(path)
        #expect(data.text == "v1" && stat == stat1)
        #expect(try await client.exists(path) == stat1)
        await #expect(throws: ZooKeeperError(.badVersion, path: path)) { try await client.setData(path, data: [], version: 0) }
        await #expect(throws: ZooKeeperError(.badVersion, path: path)) { try await client.delete(path, version: 7) }
        try await client.delete(path, version: 1)
        #expect(try await client.exists(path) == nil)
        // Empty data round-trips as empty.
        try await client.create(path)
        #expect(try await client.getData(path).data == [])
        try await client.delete(path)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func errorsNameThePathAndCode(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let root = uniquePath()
        await #expect(throws: ZooKeeperError(.noNode, path: root + "/a/b")) { try await client.getData(root + "/a/b") }
        #expect("\(ZooKeeperError(.noNode, path: "/a/b"))" == "/a/b: node does not exist (NONODE)")
        try await client.create(root)
        await #expect(throws: ZooKeeperError(.nodeExists, path: root)) { try await client.create(root) }
        try await client.create(root + "/child")
        await #expect(throws: ZooKeeperError(.notEmpty, path: root)) { try await client.delete(root) }
        try await client.create(root + "/eph", mode: .ephemeral)
        await #expect(throws: ZooKeeperError(.noChildrenForEphemerals, path: root + "/eph/x")) {
            try await client.create(root + "/eph/x")
        }
        await #expect(throws: ZooKeeperError(.invalidACL, path: root + "/noacl")) { try await client.create(root + "/noacl", acl: []) }
        await #expect(throws: ZooKeeperError(.noNode, path: root + "/missing/x")) { try await client.create(root + "/missing/x") }
        // Invalid paths never reach the server.
        for bad in ["", "a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a\u{0}b"] {
            await #expect(throws: ZooKeeperError.self) { try await client.getData(bad) }
        }
        do {
            _ = try await client.getData("relative")
        } catch let error as ZooKeeperError {
            #expect(error.code == .badArguments)
        }
        // TTL without a TTL mode, and a TTL mode without a TTL, are refused before sending.
        await #expect(throws: ZooKeeperError.self) { try await client.create(root + "/t", mode: .persistentWithTTL) }
        // The connection still works after all that.
        #expect(try await client.exists(root) != nil)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func aclsAuthAndWhoAmI(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let owner = try await connectedClient(server.connectString)
        let other = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await owner.addAuth(scheme: "digest", auth: bytes("alice:secret"))
        let identities = try await owner.whoAmI()
        #expect(identities.contains(ClientInfo(authScheme: "digest", user: "alice")))
        #expect(identities.contains { $0.authScheme == "ip" })
        try await owner.create(path, data: bytes("private"), acl: ACL.creatorAll)
        let (acl, stat) = try await owner.getACL(path)
        #expect(acl == [ACL(permissions: .all, id: Id(scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="))])
        #expect(stat.aversion == 0)
        await #expect(throws: ZooKeeperError(.noAuth, path: path)) { try await other.getData(path) }
        try await other.addAuth(scheme: "digest", auth: bytes("alice:secret"))
        #expect(try await other.getData(path).data.text == "private")

        // setACL with aversion; then open it to everyone for reading.
        let newStat = try await owner.setACL(path, acl: ACL.readUnsafe + ACL.creatorAll, version: 0)
        #expect(newStat.aversion == 1)
        await #expect(throws: ZooKeeperError(.badVersion, path: path)) { try await owner.setACL(path, acl: ACL.openUnsafe, version: 0) }
        let stranger = try await connectedClient(server.connectString)
        #expect(try await stranger.getData(path).data.text == "private")
        await #expect(throws: ZooKeeperError(.noAuth, path: path)) { try await stranger.setData(path, data: []) }
        // The super digest bypasses every ACL.
        try await stranger.addAuth(scheme: "digest", auth: bytes("super:admin"))
        try await stranger.setData(path, data: bytes("by super"))
        for client in [owner, other, stranger] { try await client.close() }
    }

    @Test(arguments: TestServerKind.allCases) func unknownAuthSchemeFailsTheSession(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        await #expect(throws: ZooKeeperError(.authFailed)) {
            try await client.addAuth(scheme: "no-such-scheme", auth: [1, 2, 3])
        }
        #expect(await client.state == .authFailed)
        await #expect(throws: ZooKeeperError.self) { try await client.exists("/") }
    }

    @Test(arguments: TestServerKind.allCases) func transactionsAreAtomic(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let root = uniquePath()
        try await client.create(root)
        let results = try await client.multi([
            .create(path: root + "/a", data: bytes("1")),
            .create(path: root + "/q-", mode: .persistentSequential),
            .setData(path: root, data: bytes("x"), version: 0),
            .check(path: root, version: 1),
        ])
        #expect(results.count == 4)
        if case .created(let path, _) = results[1] { #expect(path == root + "/q-0000000001") } else { Issue.record("create result") }
        if case .dataSet(let stat) = results[2] { #expect(stat.version == 1) } else { Issue.record("setData result") }
        #expect(results[3] == .checked)

        do {
            try await client.multi([
                .delete(path: root + "/a"),
                .check(path: root, version: 42),
                .create(path: root + "/never"),
            ])
            Issue.record("transaction should have failed")
        } catch let error as TransactionError {
            #expect(error.failedIndex == 1)
            #expect(error.error == ZooKeeperError(.badVersion, path: root))
            #expect(error.codes == [.ok, .badVersion, .runtimeInconsistency])
        }
        // Nothing of the failed transaction was applied.
        #expect(try await client.exists(root + "/a") != nil)
        #expect(try await client.exists(root + "/never") == nil)

        let reads = try await client.multiRead([.getData(path: root), .getChildren(path: root), .getData(path: root + "/zzz")])
        if case .data(let data, _) = reads[0] { #expect(data.text == "x") } else { Issue.record("getData") }
        if case .children(let children) = reads[1] { #expect(Set(children) == ["a", "q-0000000001"]) } else { Issue.record("children") }
        #expect(reads[2] == .failed(ZooKeeperError(.noNode, path: root + "/zzz")))
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func configOfAStandaloneServerAndDisabledReconfig(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let (_, stat) = try await client.getConfig()
        #expect(stat.czxid == 0)
        await #expect(throws: ZooKeeperError(.reconfigDisabled)) {
            try await client.reconfig(joining: "server.9=127.0.0.1:1:2;3", leaving: nil, newMembers: nil)
        }
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func syncReturnsThePath(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        #expect(try await client.sync("/zookeeper") == "/zookeeper")
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func manyConcurrentRequestsArePipelined(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let root = uniquePath()
        try await client.create(root)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let path = "\(root)/n\(index)"
                    try await client.create(path, data: bytes("\(index)"))
                    let (data, _) = try await client.getData(path)
                    #expect(data.text == "\(index)")
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.getChildren(root).children.count == 300)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func chrootIsAppliedBothWays(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let admin = try await connectedClient(server.connectString)
        let root = uniquePath("chroot")
        try await admin.create(root)
        let client = try await connectedClient(server.connectString + root)
        let made = try await client.create("/app-", mode: .persistentSequential)
        #expect(made.path == "/app-0000000000")
        #expect(try await admin.exists(root + "/app-0000000000") != nil)
        let (_, _, watch) = try await client.getDataAndWatch(made.path)
        try await admin.setData(root + made.path, data: bytes("x"))
        let event = try await nextEvent(watch)
        #expect(event?.type == .nodeDataChanged && event?.path == made.path)
        let results = try await client.multi([.create(path: "/m")])
        guard case .created(let createdPath, _) = results.first else {
            Issue.record("expected a create result, got \(results)")
            return
        }
        #expect(createdPath == "/m")
        #expect(try await client.getChildren("/").children.sorted() == ["app-0000000000", "m"])
        try await client.close()
        try await admin.close()
    }

    @Test func deadServerFailsFastWithAClearError() async throws {
        let port = try freeLoopbackPort()
        var configuration = try ZooKeeperClient.Configuration(connectString: "127.0.0.1:\(port)")
        configuration.connectTimeout = .seconds(2)
        let client = ZooKeeperClient(configuration: configuration, eventLoopGroup: testEventLoopGroup)
        let started = ContinuousClock.now
        do {
            try await client.connect()
            Issue.record("connect should fail")
        } catch let error as ZooKeeperError {
            #expect(error.code == .connectionLoss)
            #expect("\(error)".contains("127.0.0.1:\(port)"))
        }
        // A liveness bound (no hang), not a speed check: generous for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(90))
        #expect(await client.state == .closed)
    }

    @Test(arguments: TestServerKind.allCases) func closeEndsTheSessionAndDeletesEphemerals(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let observer = try await connectedClient(server.connectString)
        let client = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await client.create(path, mode: .ephemeral)
        let (_, watch) = try await observer.existsAndWatch(path)
        try await client.close()
        #expect(await client.state == .closed)
        #expect(try await nextEvent(watch)?.type == .nodeDeleted)
        await #expect(throws: ZooKeeperError.self) { try await client.exists("/") }
        try await observer.close()
    }
}
