import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Sessions, ephemerals and watches surviving connection loss, server restarts and member
/// failures, and session expiry. The single-server tests run against both real Apache ZooKeeper
/// and `zksh serve`; the ensemble test against Apache ZooKeeper only.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ClientResilienceTests {
    @Test(arguments: TestServerKind.allCases) func sessionAndWatchesSurviveADroppedConnection(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let proxy = try await TCPProxy.start(targetPort: server.port, group: testEventLoopGroup)
        let client = try await connectedClient("127.0.0.1:\(proxy.port)")
        let writer = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await client.create(path, data: bytes("v0"))
        try await client.create(path + "-eph", mode: .ephemeral)
        let session = await client.sessionID
        let (_, _, dataWatch) = try await client.getDataAndWatch(path)
        let recursive = try await client.addWatch(path, mode: .persistentRecursive)
        let states = await client.sessionStates()

        proxy.cutConnections()
        // Changed while the client is disconnected: SetWatches must report it after reconnecting.
        try await writer.setData(path, data: bytes("v1"))

        var seen: [SessionState] = []
        for await state in states {
            seen.append(state)
            if state == .connected && seen.contains(.disconnected) { break }
        }
        #expect(seen.contains(.disconnected))
        #expect(await client.sessionID == session)
        #expect(try await nextEvent(dataWatch)?.type == .nodeDataChanged)
        // The recursive watch was re-registered: it sees later changes.
        try await writer.create(path + "/after")
        // (The recursive watch may also have seen the data change, if it reached the client
        // before the cut.)
        var event = try await nextEvent(recursive)
        if event?.type == .nodeDataChanged && event?.path == path { event = try await nextEvent(recursive) }
        #expect(event?.type == .nodeCreated && event?.path == path + "/after")
        #expect(try await writer.exists(path + "-eph")?.ephemeralOwner == session)
        try await client.close()
        try await writer.close()
        await proxy.stop()
    }

    @Test(arguments: TestServerKind.allCases) func callsInFlightFailWithConnectionLossAndLaterCallsWork(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let proxy = try await TCPProxy.start(targetPort: server.port, group: testEventLoopGroup)
        let client = try await connectedClient("127.0.0.1:\(proxy.port)")
        let path = uniquePath()
        try await client.create(path)
        proxy.cutConnections()
        let outcome = try await retryingConnectionLoss { try await client.exists(path) }
        #expect(outcome != nil)
        try await client.close()
        await proxy.stop()
    }

    @Test(arguments: TestServerKind.allCases) func sessionEphemeralAndWatchSurviveAServerRestart(kind: TestServerKind) async throws {
        let server = try await kind.start()
        let client = try await connectedClient(server.connectString, sessionTimeout: .seconds(30))
        let path = uniquePath()
        try await client.create(path, data: bytes("before"))
        try await client.create(path + "/eph", mode: .ephemeral)
        let session = await client.sessionID
        let (_, _, watch) = try await client.getDataAndWatch(path)

        try await server.restart()
        // A liveness bound: a JVM restarting beside many other test servers can take a while,
        // and the client's reconnect backoff adds to it (the session lasts 30 s).
        try await eventually("the client is connected again", within: .seconds(28)) { await client.state == .connected }
        #expect(await client.sessionID == session)
        let ephemeral = try await retryingConnectionLoss { try await client.exists(path + "/eph") }
        #expect(ephemeral?.ephemeralOwner == session)
        let writer = try await connectedClient(server.connectString)
        try await writer.setData(path, data: bytes("after"))
        #expect(try await nextEvent(watch)?.type == .nodeDataChanged)
        try await client.close()
        try await writer.close()
        server.stop()
    }

    @Test(arguments: TestServerKind.allCases) func clientFailsOverWhenItsEnsembleMemberDies(kind: TestServerKind) async throws {
        let ensemble = try await kind.startEnsemble(size: 3)
        defer { ensemble.stop() }
        let client = try await connectedClient(ensemble.connectString, sessionTimeout: .seconds(20))
        let root = uniquePath()
        try await client.create(root)
        try await client.create(root + "/eph", mode: .ephemeral)
        let (_, _, watch) = try await client.getChildrenAndWatch(root)
        let session = await client.sessionID
        let host = try #require(await client.connectedHost)
        let member = try #require(ensemble.members.first { $0.clientPort == host.port })
        ensemble.kill(member: member.id)

        // The client keeps working through the other members.
        for index in 0..<20 {
            try await retryingConnectionLoss { _ = try await client.create("\(root)/n\(index)") }
        }
        #expect(await client.sessionID == session)
        #expect(await client.connectedHost?.port != member.clientPort)
        #expect(try await nextEvent(watch)?.type == .nodeChildrenChanged)
        #expect(try await client.exists(root + "/eph")?.ephemeralOwner == session)
        #expect(try await client.getChildren(root).children.count == 21)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func expiredSessionIsReportedToCallsStatesAndWatches(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString, sessionTimeout: .seconds(5))
        let path = uniquePath()
        try await client.create(path, mode: .ephemeral)
        let (_, _, watch) = try await client.getDataAndWatch(path)
        let states = await client.sessionStates()

        // Another client takes over the session and closes it, which ends it on the server.
        var configuration = try ZooKeeperClient.Configuration(connectString: server.connectString)
        configuration.resumeSession = (await client.sessionID, await client.sessionPassword)
        let thief = ZooKeeperClient(configuration: configuration, eventLoopGroup: testEventLoopGroup)
        try await thief.connect()
        #expect(await thief.sessionID == (await client.sessionID))
        try await thief.close()

        var seen: [SessionState] = []
        for await state in states { seen.append(state) }
        #expect(seen.last == .expired)
        await #expect(throws: ZooKeeperError.self) {
            for try await _ in watch {}
        }
        do {
            _ = try await client.exists("/")
            Issue.record("calls after expiry must fail")
        } catch let error as ZooKeeperError {
            #expect(error.code == .sessionExpired)
        }
        let observer = try await connectedClient(server.connectString)
        #expect(try await observer.exists(path) == nil)
        try await observer.close()
    }
}

/// Read-only mode: a member cut off from its quorum keeps serving reads to clients that allow it.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ClientReadOnlyTests {
    @Test(arguments: TestServerKind.allCases) func readOnlyMemberServesReadsAndTheClientMovesBackToReadWrite(kind: TestServerKind) async throws {
        var configuration = ApacheZooKeeperConfiguration()
        switch kind {
        case .apache:
            configuration.extraJVMOptions = ["-Dreadonlymode.enabled=true"]
            // A read-only server gives new clients local sessions; without them it refuses them.
            configuration.extraConfiguration = ["localSessionsEnabled": "true"]
        case .zksh:
            configuration.extraConfiguration = ["readonlymode.enabled": "true"]
        }
        let ensemble = try await kind.startEnsemble(size: 3, configuration: configuration)
        defer { ensemble.stop() }
        let path = uniquePath()
        let writer = try await connectedClient(ensemble.connectString)
        try await writer.create(path, data: bytes("kept"))
        try await writer.close()

        let survivor = ensemble.members[0]
        ensemble.kill(member: 2)
        ensemble.kill(member: 3)
        try await eventually("the survivor is read-only", within: .seconds(60)) {
            (try? fourLetterWord("isro", port: survivor.clientPort)) == "ro"
        }
        let client = try await connectedClient(ensemble.connectString, connectTimeout: .seconds(30)) {
            $0.canBeReadOnly = true
        }
        #expect(await client.state == .connectedReadOnly)
        #expect(try await client.getData(path).data.text == "kept")
        await #expect(throws: ZooKeeperError(.notReadOnly, path: path)) { try await client.setData(path, data: []) }

        _ = try await ensemble.start(member: 2)
        _ = try await ensemble.start(member: 3)
        try await eventually("the client is on a read-write server", within: .seconds(90)) {
            await client.state == .connected
        }
        try await retryingConnectionLoss { try await client.setData(path, data: bytes("written")) }
        #expect(try await client.getData(path).data.text == "written")
        try await client.close()
    }
}
