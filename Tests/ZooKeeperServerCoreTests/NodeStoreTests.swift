import NIOCore
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServerCore

/// The compact node store: the child table, the sibling links, the blob arena and copy-on-write.
@Suite struct NodeStoreTests {
    static func node(_ data: [UInt8]?, czxid: Int64 = 1) -> DataNode {
        DataNode(data: data, acl: ACL.openUnsafe, czxid: czxid, mzxid: czxid)
    }

    /// A tree changed through transactions, as the server changes it.
    struct TreeDriver {
        var tree = DataTree()
        var zxid: Int64 = 0

        @discardableResult
        mutating func run(_ type: OpCode, _ body: TxnBody) -> TxnResult {
            self.zxid += 1
            var events: [TreeEvent] = []
            let header = TxnHeader(clientId: 1, cxid: 0, zxid: self.zxid, time: 1000 + self.zxid, type: type)
            return self.tree.apply(header, body, events: &events)
        }

        mutating func create(_ path: String, _ data: [UInt8]?) {
            let result = self.run(.create, .create(path: path, data: data, acl: ACL.openUnsafe, ephemeralOwner: 0, parentCVersion: -1))
            #expect(result != .error(.nodeExists) && result != .error(.noNode), "create \(path): \(result)")
        }

        mutating func delete(_ path: String) {
            #expect(self.run(.delete, .delete(path: path)) == .delete, "delete \(path)")
        }

        mutating func setData(_ path: String, _ data: [UInt8]?) {
            self.run(.setData, .setData(path: path, data: data, version: 1))
        }

        func encoded(_ tree: DataTree) -> [UInt8] {
            var buffer = ByteBuffer()
            tree.encode(into: &buffer, flush: { _ in })
            return Array(buffer.readableBytesView)
        }
    }

    @Test func childTableGrowsAndShrinksWithManyChildren() throws {
        var store = NodeStore()
        let parent = store.insert(Self.node([1]), named: "parent", under: NodeStore.rootSlot)
        let count = 20_000
        for index in 0..<count {
            store.insert(Self.node(Array("value-\(index)".utf8)), named: "child-\(index)", under: parent)
        }
        #expect(store.count == count + 2)
        #expect(store.childCount(ofSlot: parent) == count)
        #expect(store.tableSize >= (count + 2) * 4 / 3)
        #expect(store.verify())
        for index in stride(from: 0, to: count, by: 997) {
            #expect(store["/parent/child-\(index)"]?.data == Array("value-\(index)".utf8))
        }
        #expect(store["/parent/child-\(count)"] == nil)
        let grownSize = store.tableSize
        // Keep every 100th child.
        for index in 0..<count where index % 100 != 0 {
            let slot = try #require(store.slot(of: "/parent/child-\(index)"))
            store.remove(slot: slot)
        }
        #expect(store.count == count / 100 + 2)
        #expect(store.tableSize < grownSize / 8)
        #expect(store.verify())
        for index in 0..<count {
            let expected: [UInt8]? = index % 100 == 0 ? Array("value-\(index)".utf8) : nil
            #expect(store["/parent/child-\(index)"]?.data == expected)
        }
        #expect(Set(store.childNames(ofSlot: parent)) == Set(stride(from: 0, to: count, by: 100).map { "child-\($0)" }))
    }

    @Test func backwardShiftDeletionKeepsCollidingEntriesReachable() throws {
        // Ten names in the smallest table (16 entries), picked to collide: four whose home is
        // the last entry (their run wraps around), three at entry 3 and three at entry 4.
        var store = NodeStore()
        let parent = store.insert(Self.node(nil), named: "p", under: NodeStore.rootSlot)
        func home(_ name: String) -> Int {
            var utf8 = name
            return utf8.withUTF8 { Int(NodeStore.keyHash(parent: parent, name: UnsafeRawBufferPointer($0))) & 15 }
        }
        var wanted: [Int: Int] = [15: 4, 3: 3, 4: 3]
        var names: [String] = []
        for index in 0..<100_000 where names.count < 10 {
            let name = "n\(index)"
            if let left = wanted[home(name)], left > 0 {
                wanted[home(name)] = left - 1
                names.append(name)
            }
        }
        #expect(names.count == 10)
        for name in names { store.insert(Self.node(Array(name.utf8)), named: name, under: parent) }
        #expect(store.tableSize == 16)
        #expect(store.displacedEntryCount >= 6)
        #expect(store.verify())
        // Remove each name alone, and then all in several orders: the others stay reachable.
        for removed in names {
            var copy = store
            copy.remove(slot: try #require(copy.slot(of: "/p/" + removed)))
            #expect(copy.verify())
            for name in names where name != removed { #expect(copy["/p/" + name]?.data == Array(name.utf8)) }
            #expect(copy["/p/" + removed] == nil)
        }
        for order in [names, names.reversed(), names.sorted { $0.hashValue < $1.hashValue }] {
            var copy = store
            var left = Set(names)
            for removed in order {
                copy.remove(slot: try #require(copy.slot(of: "/p/" + removed)))
                left.remove(removed)
                #expect(copy.verify())
                for name in left { #expect(copy.slot(of: "/p/" + name) != nil, "\(name) lost after removing \(removed)") }
            }
            #expect(copy.childCount(ofSlot: parent) == 0)
        }
    }

    @Test func sameNameUnderDifferentParentsAndDeleteThenRecreate() {
        var driver = TreeDriver()
        driver.create("/a", [1])
        driver.create("/b", [2])
        driver.create("/a/x", [10])
        driver.create("/b/x", [20])
        #expect(driver.tree.node(at: "/a/x")?.data == [10])
        #expect(driver.tree.node(at: "/b/x")?.data == [20])
        driver.delete("/a/x")
        #expect(driver.tree.node(at: "/a/x") == nil)
        #expect(driver.tree.node(at: "/b/x")?.data == [20])
        driver.create("/a/x", nil)
        let recreated = driver.tree.node(at: "/a/x")
        #expect(recreated != nil && recreated?.data == nil)
        #expect(driver.tree.stat(at: "/a")?.cversion == 3)
        #expect(driver.tree.stat(at: "/a")?.numChildren == 1)
        #expect(driver.run(.delete, .delete(path: "/a")) == .error(.notEmpty))
        #expect(driver.tree.nodes.verify())
    }

    @Test func arenaCompactsWhenBlobsAreFreed() {
        var store = NodeStore()
        let data = [UInt8](repeating: 7, count: 1000)
        let count = 5000
        for index in 0..<count { store.insert(Self.node(data + [UInt8(index % 256)]), named: "c\(index)", under: NodeStore.rootSlot) }
        let filled = store.arenaUsedBytes
        #expect(store.arenaChunkCount >= 4)
        // Free four in five, spread over every chunk.
        for index in 0..<count where index % 5 != 0 {
            store.remove(slot: store.slot(of: "/c\(index)")!)
        }
        #expect(store.arenaUsedBytes <= 2 * store.arenaLiveBytes + BlobArena.chunkSize)
        #expect(store.arenaUsedBytes < filled / 2)
        for index in stride(from: 0, to: count, by: 5) {
            #expect(store["/c\(index)"]?.data == data + [UInt8(index % 256)])
        }
        // Rewriting data frees the old blobs too.
        for _ in 0..<3 {
            for index in stride(from: 0, to: count, by: 5) { store.setData(Array(data.prefix(index % 50)), ofSlot: store.slot(of: "/c\(index)")!) }
        }
        #expect(store.arenaUsedBytes <= 2 * store.arenaLiveBytes + BlobArena.chunkSize)
        for index in stride(from: 0, to: count, by: 5) { #expect(store["/c\(index)"]?.data == Array(data.prefix(index % 50))) }
        #expect(store.verify())
    }

    @Test func largeDataHasAChunkOfItsOwn() {
        var store = NodeStore()
        let big = [UInt8](repeating: 1, count: BlobArena.chunkSize * 2)
        store.insert(Self.node([1, 2]), named: "small", under: NodeStore.rootSlot)
        let slot = store.insert(Self.node(big), named: "big", under: NodeStore.rootSlot)
        #expect(store.arenaChunkCount == 2)
        #expect(store["/big"]?.data == big)
        store.setData([3], ofSlot: slot)
        #expect(store.arenaChunkCount == 1)
        #expect(store.arenaUsedBytes < BlobArena.chunkSize)
        #expect(store["/big"]?.data == [3])
        #expect(store["/small"]?.data == [1, 2])
    }

    @Test func aCopyKeepsTheStateItWasTakenIn() throws {
        var driver = TreeDriver()
        driver.create("/app", Array("root".utf8))
        for index in 0..<3000 { driver.create("/app/n\(index)", [UInt8](repeating: UInt8(index % 251), count: 300)) }
        let copy = driver.tree
        let before = driver.encoded(copy)
        // Enough changes to fill, free and compact chunks the copy still reads.
        for index in 0..<3000 where index % 3 != 0 { driver.delete("/app/n\(index)") }
        for index in stride(from: 0, to: 3000, by: 3) { driver.setData("/app/n\(index)", [UInt8](repeating: 9, count: 500)) }
        for index in 0..<2000 { driver.create("/app/m\(index)", [UInt8](repeating: 1, count: 400)) }
        driver.run(.setACL, .setACL(path: "/app", acl: ACL.readUnsafe, version: 1))
        #expect(driver.encoded(copy) == before)
        #expect(copy.node(at: "/app/n1")?.data == [UInt8](repeating: 1, count: 300))
        #expect(copy.node(at: "/app/n3")?.data == [UInt8](repeating: 3, count: 300))
        #expect(copy.node(at: "/app/m0") == nil)
        #expect(copy.node(at: "/app")?.acl == ACL.openUnsafe)
        #expect(copy.nodes.verify() && driver.tree.nodes.verify())
        // And the copy's snapshot loads back to the copy.
        var buffer = ByteBuffer(bytes: before)
        let restored = try DataTree(from: &buffer, extendedTypesEnabled: false)
        #expect(restored.nodes == copy.nodes)
        #expect(restored.nodes != driver.tree.nodes)
        #expect(driver.encoded(restored) == before)
    }

    @Test func aSnapshotDecodesAWindowAtATime() throws {
        var driver = TreeDriver()
        driver.create("/w", nil)
        for index in 0..<300 { driver.create("/w/n\(index)", [UInt8](repeating: UInt8(index % 256), count: index * 37)) }
        driver.create("/w/big", [UInt8](repeating: 1, count: 50_000))
        let bytes = driver.encoded(driver.tree)
        func decode(_ bytes: [UInt8], window: Int) throws(JuteDecodingError) -> DataTree {
            var input = WindowedInput(bytes, window: window)
            var buffer = input.firstBuffer()
            return try DataTree(from: &buffer, extendedTypesEnabled: false, inputBytes: input.count) { input.refill(&$0) }
        }
        for window in [64, 1000, bytes.count] {
            #expect(try decode(bytes, window: window).nodes == driver.tree.nodes)
        }
        #expect(throws: JuteDecodingError.self) { try decode(Array(bytes.dropLast(5)), window: 1000) }
    }

    @Test func snapshotListsSiblingsByName() throws {
        var driver = TreeDriver()
        let names = ["b", "a", "c10", "c9", "Z", "é", "ö", "z", "aa", "\u{212B}x"]
        for name in names { driver.create("/" + name, Array(name.utf8)) }
        let asciiNames = ["b", "a", "c10", "c9", "B", "ab", "a-", "_"]
        for name in asciiNames { driver.create("/a/" + name, nil) }
        var buffer = ByteBuffer(bytes: driver.encoded(driver.tree))
        _ = buffer.readInteger(as: Int32.self)
        var paths: [String] = []
        while buffer.readableBytes > 0 {
            let length = Int(buffer.readInteger(as: Int32.self)!)
            paths.append(buffer.readString(length: length)!)
            let dataLength = Int(buffer.readInteger(as: Int32.self)!)
            buffer.moveReaderIndex(forwardBy: max(dataLength, 0))
            let aclCount = Int(buffer.readInteger(as: Int32.self)!)
            for _ in 0..<aclCount {
                buffer.moveReaderIndex(forwardBy: 4)
                for _ in 0..<2 {
                    let textLength = Int(buffer.readInteger(as: Int32.self)!)
                    buffer.moveReaderIndex(forwardBy: textLength)
                }
            }
            buffer.moveReaderIndex(forwardBy: 8 * 4 + 4 * 3 + 8 * 2)
        }
        let topLevel = paths.filter { $0 != "/" && ZooKeeperPath.parent(of: $0) == "/" }.map { ZooKeeperPath.name(of: $0) }
        #expect(topLevel.count == names.count + 1)
        let underA = paths.filter { ZooKeeperPath.parent(of: $0) == "/a" }.map { ZooKeeperPath.name(of: $0) }
        #expect(underA == ["B", "_", "a", "a-", "ab", "b", "c10", "c9"])
        #expect(topLevel == topLevel.sorted())
    }

    @Test func canonicallyEquivalentNamesAreOneName() {
        // As with the String-keyed tables the tree had (and its path-keyed indexes still are):
        // the first spelling is kept, the others find it.
        var driver = TreeDriver()
        driver.create("/é", [1])
        #expect(driver.run(.create, .create(path: "/e\u{301}", data: nil, acl: ACL.openUnsafe, ephemeralOwner: 0, parentCVersion: -1)) == .error(.nodeExists))
        #expect(driver.tree.node(at: "/e\u{301}")?.data == [1])
        driver.create("/K", [2])
        // KELVIN SIGN is canonically equivalent to the ASCII K.
        #expect(driver.run(.create, .create(path: "/\u{212A}", data: nil, acl: ACL.openUnsafe, ephemeralOwner: 0, parentCVersion: -1)) == .error(.nodeExists))
        #expect(driver.tree.node(at: "/\u{212A}")?.data == [2])
        #expect(driver.tree.children(of: "/")?.sorted() == ["K", "zookeeper", "é"])
        driver.delete("/e\u{301}")
        #expect(driver.tree.node(at: "/é") == nil)
        #expect(driver.tree.nodes.verify())
    }

    @Test func statsThatDifferFromAFreshNodeRoundTrip() {
        var store = NodeStore()
        let longName = String(repeating: "x", count: 300)
        let data = [UInt8](repeating: 5, count: 20_000)
        let nodes: [DataNode] = [
            DataNode(data: nil, acl: ACL.readUnsafe, czxid: 5, mzxid: 5, ctime: 7, mtime: 7),
            DataNode(
                data: data, acl: ACL.openUnsafe, czxid: 0x1_0000_0005, mzxid: 0x2_0000_0009, ctime: 100, mtime: 200, version: -1,
                childCreates: 3, aversion: Int32.max, ephemeralOwner: Int64.min, pzxid: 77),
            DataNode(
                data: [], acl: [], czxid: -1, mzxid: -1, ctime: -5, mtime: Int64.max, version: 1, childCreates: 0, aversion: 0,
                ephemeralOwner: NodeKind.ttlOwner(1234), pzxid: -1),
            DataNode(
                data: [0], acl: ACL.openUnsafe, czxid: Int64.max, mzxid: Int64.min, ctime: Int64.min, mtime: Int64.max,
                version: Int32.min, childCreates: Int32.max, aversion: Int32.min, ephemeralOwner: -1, pzxid: Int64.min),
        ]
        for (index, node) in nodes.enumerated() {
            let name = index == 1 ? longName : "n\(index)"
            let slot = store.insert(node, named: name, under: NodeStore.rootSlot)
            #expect(store[slot: slot] == node)
            #expect(store["/" + name] == node)
            #expect(store.name(ofSlot: slot) == name)
        }
        // Changing the data keeps the other stats unless told otherwise.
        let slot = store.slot(of: "/" + longName)!
        store.setData([1], ofSlot: slot) { $0.version = 9 }
        var expected = nodes[1]
        expected.data = [1]
        expected.version = 9
        #expect(store[slot: slot] == expected)
    }
}
