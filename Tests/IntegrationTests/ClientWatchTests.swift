import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Watches against both a real Apache ZooKeeper and `zksh serve`: each kind fires exactly the
/// events ZooKeeper sends.
@Suite(.timeLimit(.minutes(3))) struct ClientWatchTests {
    @Test(arguments: TestServerKind.allCases) func dataWatchFiresOnceOnChange(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let writer = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await client.create(path, data: bytes("a"))
        let (_, _, watch) = try await client.getDataAndWatch(path)
        try await writer.setData(path, data: bytes("b"))
        try await writer.setData(path, data: bytes("c"))
        var events: [WatchedEvent] = []
        for try await event in watch { events.append(event) }  // one-shot: the sequence ends
        #expect(events.map(\.type) == [.nodeDataChanged])
        #expect(events.first?.path == path)
        try await client.close()
        try await writer.close()
    }

    @Test(arguments: TestServerKind.allCases) func existsWatchSeesCreationAndDeletion(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let path = uniquePath()
        let (missing, created) = try await client.existsAndWatch(path)
        #expect(missing == nil)
        try await client.create(path)
        #expect(try await nextEvent(created)?.type == .nodeCreated)
        let (stat, deleted) = try await client.existsAndWatch(path)
        #expect(stat != nil)
        try await client.delete(path)
        #expect(try await nextEvent(deleted)?.type == .nodeDeleted)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func childWatchSeesChildrenChange(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await client.create(path)
        let (children, _, watch) = try await client.getChildrenAndWatch(path)
        #expect(children.isEmpty)
        try await client.create(path + "/kid")
        let event = try await nextEvent(watch)
        #expect(event == WatchedEvent(type: .nodeChildrenChanged, path: path, zxid: event?.zxid ?? 0))
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func persistentAndRecursiveWatchesStay(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        // A server keeps one watch mode per connection and path (a recursive watch added on the
        // same path hides the persistent one's child events), so each kind gets its own session.
        let recursiveClient = try await connectedClient(server.connectString)
        let root = uniquePath()
        try await client.create(root)
        let persistent = try await client.addWatch(root, mode: .persistent)
        let recursive = try await recursiveClient.addWatch(root, mode: .persistentRecursive)
        try await client.create(root + "/a")
        try await client.setData(root + "/a", data: [1])
        try await client.setData(root, data: [2])
        try await client.delete(root + "/a")

        var persistentEvents: [EventType] = []
        for _ in 0..<3 { persistentEvents.append(try #require(try await nextEvent(persistent)).type) }
        #expect(persistentEvents == [.nodeChildrenChanged, .nodeDataChanged, .nodeChildrenChanged])

        var recursiveEvents: [String] = []
        for _ in 0..<4 {
            let event = try #require(try await nextEvent(recursive))
            recursiveEvents.append("\(event.type.name) \(event.path)")
        }
        #expect(recursiveEvents == [
            "NodeCreated \(root)/a", "NodeDataChanged \(root)/a", "NodeDataChanged \(root)", "NodeDeleted \(root)/a",
        ])
        // removeWatches ends the sequences.
        try await client.removeWatches(root, type: .any)
        #expect(try await nextEvent(persistent) == nil)
        // stopWatching ends one watch and removes it from the server.
        try await recursiveClient.stopWatching(recursive)
        #expect(try await nextEvent(recursive) == nil)
        await #expect(throws: ZooKeeperError(.noWatcher, path: root)) { try await recursiveClient.checkWatches(root, type: .any) }
        try await client.close()
        try await recursiveClient.close()
    }

    @Test(arguments: TestServerKind.allCases) func removeWatchesAndCheckWatches(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let client = try await connectedClient(server.connectString)
        let path = uniquePath()
        try await client.create(path)
        let (_, _, watch) = try await client.getDataAndWatch(path)
        try await client.checkWatches(path, type: .data)
        await #expect(throws: ZooKeeperError(.noWatcher, path: path)) { try await client.checkWatches(path, type: .children) }
        try await client.removeWatches(path, type: .data)
        var iterator = watch.makeAsyncIterator()
        #expect(try await iterator.next() == nil)
        await #expect(throws: ZooKeeperError(.noWatcher, path: path)) { try await client.removeWatches(path, type: .data) }
        // Local removal works without the server.
        let (_, _, local) = try await client.getChildrenAndWatch(path)
        try await client.removeWatches(path, type: .children, local: true)
        var localIterator = local.makeAsyncIterator()
        #expect(try await localIterator.next() == nil)
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases) func ephemeralDeletionOnCloseFiresDeleteAndChildEvents(kind: TestServerKind) async throws {
        let server = try await SharedServer.get(kind)
        let observer = try await connectedClient(server.connectString)
        let member = try await connectedClient(server.connectString)
        let registry = uniquePath("registry")
        try await observer.create(registry)
        let (_, _, childrenWatch) = try await observer.getChildrenAndWatch(registry)
        try await member.create(registry + "/m1", data: bytes("host:1"), mode: .ephemeral)
        #expect(try await nextEvent(childrenWatch)?.type == .nodeChildrenChanged)
        let (_, _, again) = try await observer.getChildrenAndWatch(registry)
        try await member.close()
        #expect(try await nextEvent(again)?.type == .nodeChildrenChanged)
        #expect(try await observer.getChildren(registry).children.isEmpty)
        try await observer.close()
    }
}
