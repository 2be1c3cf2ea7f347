import ZooKeeperProtocol

/// A node's persisted stat fields, as the store keeps them.
struct NodeStats: Hashable, Sendable {
    var czxid: Int64
    var mzxid: Int64
    var ctime: Int64
    var mtime: Int64
    var ephemeralOwner: Int64
    var pzxid: Int64
    var version: Int32
    var childCreates: Int32
    var aversion: Int32

    init(_ node: DataNode) {
        self.czxid = node.czxid
        self.mzxid = node.mzxid
        self.ctime = node.ctime
        self.mtime = node.mtime
        self.ephemeralOwner = node.ephemeralOwner
        self.pzxid = node.pzxid
        self.version = node.version
        self.childCreates = node.childCreates
        self.aversion = node.aversion
    }
}

/// One slot of the store: a node's stats, its ACL's index, its links in the tree, and where its
/// name and data sit in the blob arena. 96 bytes.
struct NodeRecord: Sendable {
    var stats: NodeStats
    var aclIndex: Int32
    /// The parent's slot (-1 for the root).
    var parent: Int32
    /// The children form a doubly linked list: the first child's slot, or -1.
    var firstChild: Int32
    var nextSibling: Int32
    var previousSibling: Int32
    var childCount: Int32
    /// The hash of (parent, name), kept so the child table never rereads names to move entries.
    var keyHash: UInt32
    /// The chunk holding the node's blob (-1 for a vacant slot) and the blob's offset in it.
    var blobChunk: Int32
    var blobOffset: Int32

    var isVacant: Bool { self.blobChunk < 0 }
}

/// The nodes' names and data, packed into large chunks.
///
/// A blob is a 12-byte header (the owner's slot, the name's length, the data's length or -1 for
/// null data) followed by the name's and the data's bytes. A freed blob's bytes stay until its
/// chunk is compacted (its live blobs moved to the chunk being filled) or wholly freed. Chunks
/// are arrays, so a copy of the arena keeps the bytes it saw.
struct BlobArena: Sendable {
    static let chunkSize = 1 << 20
    static let headerSize = 12

    private(set) var chunks: [[UInt8]] = []
    /// Freed bytes per chunk.
    private var deadBytes: [Int] = []
    private var freeChunks: [Int32] = []
    /// The chunk new blobs are appended to, or -1.
    private(set) var current: Int32 = -1
    /// Chunks that may be more than half dead, to compact.
    private var compactionCandidates: [Int32] = []

    struct Header {
        var slot: Int32
        var nameLength: Int
        /// -1 for null data.
        var dataLength: Int
        var size: Int { BlobArena.headerSize + self.nameLength + max(self.dataLength, 0) }
    }

    static func header(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Header {
        let slot = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        let nameLength = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: Int32.self))
        let dataLength = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self))
        return Header(slot: slot, nameLength: Int(nameLength), dataLength: Int(dataLength))
    }

    /// Calls `body` with the blob's header and its name's and data's bytes.
    func withBlob<R>(
        chunk: Int32, offset: Int32, _ body: (Header, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try self.chunks[Int(chunk)].withUnsafeBytes { bytes in
            let start = Int(offset)
            let header = Self.header(in: bytes, at: start)
            let nameStart = start + Self.headerSize
            let nameEnd = nameStart + header.nameLength
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let data = UnsafeRawBufferPointer(rebasing: bytes[nameEnd..<(nameEnd + max(header.dataLength, 0))])
            return try body(header, name, data)
        }
    }

    /// Stores a blob for `slot` and tells where.
    mutating func append(slot: Int32, name: UnsafeRawBufferPointer, data: [UInt8]?) -> (chunk: Int32, offset: Int32) {
        let dataLength = data.map { Int32($0.count) } ?? -1
        let size = Self.headerSize + name.count + (data?.count ?? 0)
        let chunk = self.chunkWithRoom(for: size)
        let offset = Int32(self.chunks[Int(chunk)].count)
        withUnsafeBytes(of: slot.littleEndian) { self.chunks[Int(chunk)].append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(name.count).littleEndian) { self.chunks[Int(chunk)].append(contentsOf: $0) }
        withUnsafeBytes(of: dataLength.littleEndian) { self.chunks[Int(chunk)].append(contentsOf: $0) }
        self.chunks[Int(chunk)].append(contentsOf: name)
        if let data { self.chunks[Int(chunk)].append(contentsOf: data) }
        return (chunk, offset)
    }

    /// Stores a copy of a whole blob (header included) and tells where.
    mutating func append(blob: UnsafeRawBufferPointer) -> (chunk: Int32, offset: Int32) {
        let chunk = self.chunkWithRoom(for: blob.count)
        let offset = Int32(self.chunks[Int(chunk)].count)
        self.chunks[Int(chunk)].append(contentsOf: blob)
        return (chunk, offset)
    }

    /// The chunk to append `size` bytes to: the current one, a fresh one, or (for a blob over half
    /// a chunk) one of its own.
    private mutating func chunkWithRoom(for size: Int) -> Int32 {
        if size > Self.chunkSize / 2 { return self.newChunk(capacity: size) }
        if self.current >= 0, self.chunks[Int(self.current)].count + size <= Self.chunkSize { return self.current }
        if self.current >= 0 {
            let retired = self.current
            self.current = -1
            self.check(retired)
        }
        self.current = self.newChunk(capacity: Self.chunkSize)
        return self.current
    }

    private mutating func newChunk(capacity: Int) -> Int32 {
        let chunk: Int32
        if let free = self.freeChunks.popLast() {
            chunk = free
        } else {
            chunk = Int32(self.chunks.count)
            self.chunks.append([])
            self.deadBytes.append(0)
        }
        self.chunks[Int(chunk)].reserveCapacity(capacity)
        return chunk
    }

    /// Marks the blob at `offset` in `chunk` as freed.
    mutating func release(chunk: Int32, offset: Int32) {
        let size = self.chunks[Int(chunk)].withUnsafeBytes { Self.header(in: $0, at: Int(offset)).size }
        self.deadBytes[Int(chunk)] += size
        self.check(chunk)
    }

    /// Frees a chunk that is wholly dead, or queues it for compaction when it is more than half
    /// dead. The current chunk waits until it is full.
    private mutating func check(_ chunk: Int32) {
        guard chunk != self.current else { return }
        let used = self.chunks[Int(chunk)].count
        if self.deadBytes[Int(chunk)] >= used {
            self.drop(chunk)
        } else if self.deadBytes[Int(chunk)] * 2 > used {
            self.compactionCandidates.append(chunk)
        }
    }

    /// The next chunk to compact, if any is still more than half dead.
    mutating func nextCompactionCandidate() -> Int32? {
        while let chunk = self.compactionCandidates.popLast() {
            let used = self.chunks[Int(chunk)].count
            if chunk != self.current, used > 0, self.deadBytes[Int(chunk)] * 2 > used { return chunk }
        }
        return nil
    }

    /// Gives a chunk's memory back (copies of the arena keep theirs).
    mutating func drop(_ chunk: Int32) {
        self.chunks[Int(chunk)] = []
        self.deadBytes[Int(chunk)] = 0
        self.freeChunks.append(chunk)
    }

    /// Bytes held in chunks, live or dead (for tests).
    var usedBytes: Int { self.chunks.reduce(0) { $0 + $1.count } }
    var liveBytes: Int { self.usedBytes - self.deadBytes.reduce(0, +) }
}

/// The tree's nodes, stored compactly.
///
/// Each node has a slot in one array of fixed-size records (freed slots are reused) holding its
/// stats, its ACL as an index into a table of distinct ACLs, and links to its parent, first
/// child and siblings. Names and data sit together in a `BlobArena`. One open-addressing table
/// for the whole store finds a child by (parent slot, name): linear probing, backward-shift
/// deletion. A path is found by walking its components from the root.
///
/// A value type made of arrays: a copy (a snapshot's) shares storage until either changes, and
/// never sees the other's changes.
public struct NodeStore: Sendable, Sequence, Equatable {
    private var records: [NodeRecord] = []
    private var freeSlots: [Int32] = []
    private var arena = BlobArena()
    /// Slots of every node but the root, by (parent, name); -1 marks an empty entry.
    private var table: [Int32] = Array(repeating: -1, count: NodeStore.minimumTableSize)
    private var acls: [[ACL]] = []
    private var aclIndexes: [[ACL]: Int32] = [:]
    private var lastACLIndex: Int32 = -1
    public private(set) var count = 1

    static let rootSlot = 0
    private static let minimumTableSize = 16

    init() {
        var name = ""
        name.withUTF8 { bytes in
            let location = self.arena.append(slot: 0, name: UnsafeRawBufferPointer(bytes), data: [])
            let record = NodeRecord(
                stats: NodeStats(DataNode(data: [], acl: [])), aclIndex: 0, parent: -1, firstChild: -1, nextSibling: -1,
                previousSibling: -1, childCount: 0, keyHash: 0, blobChunk: location.chunk, blobOffset: location.offset)
            self.records.append(record)
        }
        self.records[Self.rootSlot].aclIndex = self.aclIndex(ACL.openUnsafe)
    }

    // MARK: Reading

    /// The slot of the node at `path`, if there is one.
    func slot(of path: String) -> Int? {
        var path = path
        return path.withUTF8 { utf8 -> Int? in
            guard utf8.first == UInt8(ascii: "/") else { return nil }
            var slot = Self.rootSlot
            var start = 1
            while start < utf8.count {
                var end = start
                while end < utf8.count, utf8[end] != UInt8(ascii: "/") { end += 1 }
                let name = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start..<end]))
                guard let child = self.childSlot(named: name, under: slot) else { return nil }
                slot = child
                start = end + 1
            }
            return slot
        }
    }

    /// The slot of the child `name` of the node in `parent`.
    func childSlot(named name: String, under parent: Int) -> Int? {
        var name = name
        return name.withUTF8 { self.childSlot(named: UnsafeRawBufferPointer($0), under: parent) }
    }

    private func childSlot(named name: UnsafeRawBufferPointer, under parent: Int) -> Int? {
        let hash = Self.keyHash(parent: parent, name: name)
        guard let slot = self.find(parent: Int32(parent), name: name, hash: hash).slot else { return nil }
        return Int(slot)
    }

    public subscript(path: String) -> DataNode? {
        self.slot(of: path).map { self[slot: $0] }
    }

    /// The node in `slot`.
    subscript(slot slot: Int) -> DataNode {
        let record = self.records[slot]
        let data = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { header, _, data -> [UInt8]? in
            header.dataLength < 0 ? nil : Array(data)
        }
        let stats = record.stats
        var node = DataNode(
            data: data, acl: self.acls[Int(record.aclIndex)], czxid: stats.czxid, mzxid: stats.mzxid, ctime: stats.ctime,
            mtime: stats.mtime, version: stats.version, childCreates: stats.childCreates, aversion: stats.aversion,
            ephemeralOwner: stats.ephemeralOwner, pzxid: stats.pzxid)
        node.childCount = Int(record.childCount)
        return node
    }

    /// The stats of the node in `slot`, changed in place.
    subscript(stats slot: Int) -> NodeStats {
        get { self.records[slot].stats }
        _modify { yield &self.records[slot].stats }
    }

    func acl(ofSlot slot: Int) -> [ACL] { self.acls[Int(self.records[slot].aclIndex)] }

    func childCount(ofSlot slot: Int) -> Int { Int(self.records[slot].childCount) }

    /// The length of the node's data (0 for null data).
    func dataCount(ofSlot slot: Int) -> Int {
        let record = self.records[slot]
        return self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { header, _, _ in
            Swift.max(header.dataLength, 0)
        }
    }

    func name(ofSlot slot: Int) -> String {
        let record = self.records[slot]
        return self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in
            String(decoding: name, as: UTF8.self)
        }
    }

    /// The slots of the node's children, in no particular order.
    func childSlots(ofSlot slot: Int) -> [Int] {
        var slots: [Int] = []
        slots.reserveCapacity(Int(self.records[slot].childCount))
        var child = self.records[slot].firstChild
        while child >= 0 {
            slots.append(Int(child))
            child = self.records[Int(child)].nextSibling
        }
        return slots
    }

    /// The names of the node's children, in no particular order.
    func childNames(ofSlot slot: Int) -> [String] {
        self.childSlots(ofSlot: slot).map { self.name(ofSlot: $0) }
    }

    /// The slots of the node's children, by name (as `String` orders them).
    func sortedChildSlots(ofSlot slot: Int) -> [Int] {
        let slots = self.childSlots(ofSlot: slot)
        guard slots.count > 1 else { return slots }
        // The names side by side in one buffer: sorting needs no string per child.
        var names: [UInt8] = []
        var starts: [Int] = []
        starts.reserveCapacity(slots.count + 1)
        var ascii = true
        for child in slots {
            starts.append(names.count)
            let record = self.records[child]
            self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in
                names.append(contentsOf: name)
                if name.contains(where: { $0 >= 0x80 }) { ascii = false }
            }
        }
        starts.append(names.count)
        var order = Array(0..<slots.count)
        if ascii {
            // For ASCII, String's order is the bytes' order.
            names.withUnsafeBytes { bytes in
                order.sort { a, b in
                    let left = UnsafeRawBufferPointer(rebasing: bytes[starts[a]..<starts[a + 1]])
                    let right = UnsafeRawBufferPointer(rebasing: bytes[starts[b]..<starts[b + 1]])
                    return left.lexicographicallyPrecedes(right)
                }
            }
        } else {
            let strings: [String] = order.map { String(decoding: names[starts[$0]..<starts[$0 + 1]], as: UTF8.self) }
            order.sort { a, b in
                if strings[a] != strings[b] { return strings[a] < strings[b] }
                // Canonically equivalent names: the bytes decide, so the order is stable.
                return strings[a].utf8.lexicographicallyPrecedes(strings[b].utf8)
            }
        }
        return order.map { slots[$0] }
    }

    /// Visits every node, parents before their children (siblings by name when sorting).
    func forEachNode(sortingChildren: Bool, _ body: (String, DataNode) throws -> Void) rethrows {
        // Depth first. A node's parent is the node last visited one level up, whose path is
        // kept: the stack holds slots and depths, not a path per waiting node.
        var stack: [(slot: Int32, depth: Int32)] = [(Int32(Self.rootSlot), 0)]
        var paths: [String] = []
        while let (slot, depth) = stack.popLast() {
            var path = "/"
            if depth > 0 {
                path = paths[Int(depth) - 1]
                if depth > 1 { path += "/" }
                path += self.name(ofSlot: Int(slot))
            }
            if paths.count > Int(depth) { paths.removeLast(paths.count - Int(depth)) }
            paths.append(path)
            try body(path, self[slot: Int(slot)])
            let children = sortingChildren ? self.sortedChildSlots(ofSlot: Int(slot)) : self.childSlots(ofSlot: Int(slot))
            // Pushed in reverse, popped in order.
            for child in children.reversed() { stack.append((Int32(child), depth + 1)) }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: DataNode)]> {
        var all: [(key: String, value: DataNode)] = []
        all.reserveCapacity(self.count)
        self.forEachNode(sortingChildren: false) { path, node in all.append((key: path, value: node)) }
        return all.makeIterator()
    }

    /// Equal when both hold the same nodes at the same paths (slots may differ).
    public static func == (lhs: NodeStore, rhs: NodeStore) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var equal = true
        lhs.forEachNode(sortingChildren: false) { path, node in
            if equal, rhs[path] != node { equal = false }
        }
        return equal
    }

    // MARK: Changing

    /// Stores `node` as the child `name` of the node in `parent` (found once by the caller),
    /// replacing the node there but not its children. Returns the node's slot.
    @discardableResult
    mutating func insert(_ node: DataNode, named name: String, under parent: Int) -> Int {
        var name = name
        return name.withUTF8 { self.insert(node, named: UnsafeRawBufferPointer($0), under: parent) }
    }

    private mutating func insert(_ node: DataNode, named name: UnsafeRawBufferPointer, under parent: Int) -> Int {
        let hash = Self.keyHash(parent: parent, name: name)
        if (self.count + 1) * 4 > self.table.count * 3 { self.resizeTable(self.table.count * 2) }
        let entry = self.find(parent: Int32(parent), name: name, hash: hash)
        if let existing = entry.slot {
            self.replace(slot: Int(existing), with: node)
            return Int(existing)
        }
        let slot: Int32
        if let free = self.freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(self.records.count)
            self.records.append(self.records[Self.rootSlot])
        }
        let location = self.arena.append(slot: slot, name: name, data: node.data)
        let oldFirst = self.records[parent].firstChild
        self.records[Int(slot)] = NodeRecord(
            stats: NodeStats(node), aclIndex: self.aclIndex(node.acl), parent: Int32(parent), firstChild: -1,
            nextSibling: oldFirst, previousSibling: -1, childCount: 0, keyHash: hash, blobChunk: location.chunk,
            blobOffset: location.offset)
        if oldFirst >= 0 { self.records[Int(oldFirst)].previousSibling = slot }
        self.records[parent].firstChild = slot
        self.records[parent].childCount += 1
        self.table[entry.index] = slot
        self.count += 1
        self.compactPending()
        return Int(slot)
    }

    /// Replaces the node in `slot` (stats, ACL, data), keeping its name and children.
    mutating func replace(slot: Int, with node: DataNode) {
        self.records[slot].stats = NodeStats(node)
        self.records[slot].aclIndex = self.aclIndex(node.acl)
        self.setData(node.data, ofSlot: slot)
    }

    mutating func setData(_ data: [UInt8]?, ofSlot slot: Int) {
        let record = self.records[slot]
        let name = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in Array(name) }
        let location = name.withUnsafeBytes { self.arena.append(slot: Int32(slot), name: $0, data: data) }
        self.records[slot].blobChunk = location.chunk
        self.records[slot].blobOffset = location.offset
        self.arena.release(chunk: record.blobChunk, offset: record.blobOffset)
        self.compactPending()
    }

    mutating func setACL(_ acl: [ACL], ofSlot slot: Int) {
        self.records[slot].aclIndex = self.aclIndex(acl)
    }

    /// Removes the node in `slot`, which has no children.
    mutating func remove(slot: Int) {
        let record = self.records[slot]
        precondition(slot != Self.rootSlot && !record.isVacant, "no node in slot \(slot) to remove")
        precondition(record.childCount == 0, "slot \(slot): removed with children")
        let parent = Int(record.parent)
        if record.previousSibling >= 0 {
            self.records[Int(record.previousSibling)].nextSibling = record.nextSibling
        } else {
            self.records[parent].firstChild = record.nextSibling
        }
        if record.nextSibling >= 0 { self.records[Int(record.nextSibling)].previousSibling = record.previousSibling }
        self.records[parent].childCount -= 1
        self.removeEntry(of: Int32(slot), hash: record.keyHash)
        self.records[slot].blobChunk = -1
        self.records[slot].parent = -1
        self.freeSlots.append(Int32(slot))
        self.count -= 1
        self.arena.release(chunk: record.blobChunk, offset: record.blobOffset)
        self.compactPending()
        if self.table.count > Self.minimumTableSize, self.count * 8 < self.table.count {
            self.resizeTable(self.table.count / 2)
        }
    }

    mutating func reserveCapacity(_ count: Int) {
        self.records.reserveCapacity(count)
        var size = self.table.count
        while count * 4 > size * 3 { size *= 2 }
        if size > self.table.count { self.resizeTable(size) }
    }

    // MARK: ACLs

    /// The index of `acl` in the table of distinct ACLs (ZooKeeper's ACL cache): a million nodes
    /// with the same ACL hold one copy of it.
    private mutating func aclIndex(_ acl: [ACL]) -> Int32 {
        // Neighbouring nodes (a snapshot's order, a client's creates) mostly share their ACL.
        if self.lastACLIndex >= 0, self.acls[Int(self.lastACLIndex)] == acl { return self.lastACLIndex }
        let index: Int32
        if let existing = self.aclIndexes[acl] {
            index = existing
        } else {
            index = Int32(self.acls.count)
            self.acls.append(acl)
            self.aclIndexes[acl] = index
        }
        self.lastACLIndex = index
        return index
    }

    // MARK: Child table

    static func keyHash(parent: Int, name: UnsafeRawBufferPointer) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(parent)
        hasher.combine(bytes: name)
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    /// The table entry holding the child `name` of `parent`, or the empty entry where it would go.
    private func find(parent: Int32, name: UnsafeRawBufferPointer, hash: UInt32) -> (index: Int, slot: Int32?) {
        let mask = self.table.count - 1
        var index = Int(hash) & mask
        while true {
            let slot = self.table[index]
            if slot < 0 { return (index, nil) }
            let record = self.records[Int(slot)]
            if record.keyHash == hash, record.parent == parent {
                let same = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, stored, _ in
                    stored.elementsEqual(name)
                }
                if same { return (index, slot) }
            }
            index = (index + 1) & mask
        }
    }

    /// Removes the entry for `slot`, shifting back the entries after it that belong before the gap.
    private mutating func removeEntry(of slot: Int32, hash: UInt32) {
        let mask = self.table.count - 1
        var gap = Int(hash) & mask
        while self.table[gap] != slot { gap = (gap + 1) & mask }
        var index = gap
        while true {
            index = (index + 1) & mask
            let moving = self.table[index]
            if moving < 0 { break }
            let home = Int(self.records[Int(moving)].keyHash) & mask
            // The entry may fill the gap unless its home lies in (gap, index], cyclically.
            let homeAfterGap = gap <= index ? (home > gap && home <= index) : (home > gap || home <= index)
            if homeAfterGap { continue }
            self.table[gap] = moving
            gap = index
        }
        self.table[gap] = -1
    }

    private mutating func resizeTable(_ size: Int) {
        var table = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for slot in self.table where slot >= 0 {
            var index = Int(self.records[Int(slot)].keyHash) & mask
            while table[index] >= 0 { index = (index + 1) & mask }
            table[index] = slot
        }
        self.table = table
    }

    // MARK: Compaction

    /// Moves the live blobs out of chunks that are more than half dead.
    private mutating func compactPending() {
        while let chunk = self.arena.nextCompactionCandidate() {
            let source = self.arena.chunks[Int(chunk)]
            source.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let header = BlobArena.header(in: bytes, at: offset)
                    let size = header.size
                    let slot = Int(header.slot)
                    let record = self.records[slot]
                    if record.blobChunk == chunk, Int(record.blobOffset) == offset {
                        let blob = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])
                        let location = self.arena.append(blob: blob)
                        self.records[slot].blobChunk = location.chunk
                        self.records[slot].blobOffset = location.offset
                    }
                    offset += size
                }
            }
            self.arena.drop(chunk)
        }
    }

    // MARK: Checks (for tests)

    var tableSize: Int { self.table.count }
    /// Table entries that sit past their home entry (collisions).
    var displacedEntryCount: Int {
        let mask = self.table.count - 1
        return self.table.indices.filter { index in
            self.table[index] >= 0 && Int(self.records[Int(self.table[index])].keyHash) & mask != index
        }.count
    }
    var arenaUsedBytes: Int { self.arena.usedBytes }
    var arenaLiveBytes: Int { self.arena.liveBytes }
    var arenaChunkCount: Int { self.arena.chunks.filter { !$0.isEmpty }.count }

    /// Checks the links, the child counts and the table against each other.
    func verify() -> Bool {
        var entries = 0
        for slot in self.table where slot >= 0 {
            entries += 1
            let record = self.records[Int(slot)]
            if record.isVacant { return false }
            let found = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in
                self.find(parent: record.parent, name: name, hash: record.keyHash).slot
            }
            if found != slot { return false }
        }
        if entries != self.count - 1 { return false }
        var visited = 0
        var stack = [Self.rootSlot]
        while let slot = stack.popLast() {
            visited += 1
            let children = self.childSlots(ofSlot: slot)
            if children.count != Int(self.records[slot].childCount) { return false }
            for child in children where Int(self.records[child].parent) != slot { return false }
            stack.append(contentsOf: children)
        }
        return visited == self.count
    }
}
