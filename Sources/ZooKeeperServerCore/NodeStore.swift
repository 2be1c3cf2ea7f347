import ZooKeeperProtocol

/// One slot of the store: what changes when the node's children do (their links and count,
/// `childCreates`, `pzxid`) and where the rest sits in the blob arena. 40 bytes.
struct NodeRecord: Sendable {
    var pzxid: Int64
    /// The parent's slot (-1 for the root and for a vacant slot).
    var parent: Int32
    /// The children form a doubly linked list: the first child's slot, or -1.
    var firstChild: Int32
    var nextSibling: Int32
    var previousSibling: Int32
    var childCount: Int32
    var childCreates: Int32
    /// The chunk holding the node's blob (-1 for a vacant slot) and the blob's offset in it.
    var blobChunk: Int32
    var blobOffset: Int32

    var isVacant: Bool { self.blobChunk < 0 }
}

/// What a blob holds besides the name and data: the node's stats that change only with its own
/// data or ACL, and its ACL's index.
struct BlobFields: Hashable, Sendable {
    var aclIndex: Int32
    var czxid: Int64
    var mzxid: Int64
    var ctime: Int64
    var mtime: Int64
    var version: Int32
    var aversion: Int32
    var ephemeralOwner: Int64
}

/// A decoded blob header.
struct BlobHeader {
    /// The slot of the node the blob belongs to (or belonged to, once freed).
    var slot: Int32
    var nameLength: Int
    /// -1 for null data.
    var dataLength: Int
    var fields: BlobFields
    /// The encoded header's length.
    var headerLength: Int

    var size: Int { self.headerLength + self.nameLength + max(self.dataLength, 0) }

    /// The longest encoded header: four 32-bit varints, flags, six 64-bit ones and the owner.
    static let maximumLength = 4 * 5 + 1 + 6 * 10 + 8

    private static let mzxidDiffers: UInt8 = 1
    private static let mtimeDiffers: UInt8 = 2
    private static let hasVersion: UInt8 = 4
    private static let hasAversion: UInt8 = 8
    private static let hasOwner: UInt8 = 16

    /// Writes the header: varints for the slot, the name's length, the data's length + 1 (0 for
    /// null) and the ACL index, a flags byte, czxid and ctime, then only the fields that differ
    /// from what a fresh node has (mzxid = czxid, mtime = ctime, zero versions and owner):
    /// mzxid and mtime as their difference from czxid and ctime. Signed values are zigzag
    /// varints; the owner (a session id: large) is 8 bytes. Returns the length written.
    static func encode(slot: Int32, nameLength: Int, dataLength: Int, fields: BlobFields, into out: UnsafeMutableRawBufferPointer) -> Int {
        var writer = ByteWriter(out: out)
        writer.writeVarint(UInt64(UInt32(bitPattern: slot)))
        writer.writeVarint(UInt64(nameLength))
        writer.writeVarint(UInt64(dataLength + 1))
        writer.writeVarint(UInt64(UInt32(bitPattern: fields.aclIndex)))
        var flags: UInt8 = 0
        if fields.mzxid != fields.czxid { flags |= Self.mzxidDiffers }
        if fields.mtime != fields.ctime { flags |= Self.mtimeDiffers }
        if fields.version != 0 { flags |= Self.hasVersion }
        if fields.aversion != 0 { flags |= Self.hasAversion }
        if fields.ephemeralOwner != 0 { flags |= Self.hasOwner }
        writer.writeByte(flags)
        writer.writeSigned(fields.czxid)
        writer.writeSigned(fields.ctime)
        if flags & Self.mzxidDiffers != 0 { writer.writeSigned(fields.mzxid &- fields.czxid) }
        if flags & Self.mtimeDiffers != 0 { writer.writeSigned(fields.mtime &- fields.ctime) }
        if flags & Self.hasVersion != 0 { writer.writeSigned(Int64(fields.version)) }
        if flags & Self.hasAversion != 0 { writer.writeSigned(Int64(fields.aversion)) }
        if flags & Self.hasOwner != 0 { writer.write(fields.ephemeralOwner) }
        return writer.position
    }

    init(from bytes: UnsafeRawBufferPointer, at offset: Int) {
        var reader = ByteReader(bytes: bytes, position: offset)
        self.slot = Int32(bitPattern: UInt32(truncatingIfNeeded: reader.readVarint()))
        self.nameLength = Int(reader.readVarint())
        self.dataLength = Int(reader.readVarint()) - 1
        let aclIndex = Int32(bitPattern: UInt32(truncatingIfNeeded: reader.readVarint()))
        let flags = reader.readByte()
        let czxid = reader.readSigned()
        let ctime = reader.readSigned()
        let mzxid = flags & Self.mzxidDiffers != 0 ? czxid &+ reader.readSigned() : czxid
        let mtime = flags & Self.mtimeDiffers != 0 ? ctime &+ reader.readSigned() : ctime
        let version = flags & Self.hasVersion != 0 ? Int32(truncatingIfNeeded: reader.readSigned()) : 0
        let aversion = flags & Self.hasAversion != 0 ? Int32(truncatingIfNeeded: reader.readSigned()) : 0
        let owner = flags & Self.hasOwner != 0 ? reader.read(Int64.self) : 0
        self.fields = BlobFields(
            aclIndex: aclIndex, czxid: czxid, mzxid: mzxid, ctime: ctime, mtime: mtime, version: version, aversion: aversion,
            ephemeralOwner: owner)
        self.headerLength = reader.position - offset
    }
}

/// Writes little-endian integers and varints into a buffer that has room for them.
private struct ByteWriter {
    let out: UnsafeMutableRawBufferPointer
    var position = 0

    init(out: UnsafeMutableRawBufferPointer) { self.out = out }

    mutating func writeByte(_ byte: UInt8) {
        self.out[self.position] = byte
        self.position += 1
    }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        self.out.storeBytes(of: value.littleEndian, toByteOffset: self.position, as: T.self)
        self.position += MemoryLayout<T>.size
    }

    /// Seven bits a byte, low first; the high bit says more follow.
    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            self.writeByte(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        self.writeByte(UInt8(rest))
    }

    /// Zigzag: small magnitudes, either sign, take few bytes.
    mutating func writeSigned(_ value: Int64) {
        self.writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}

/// Reads what `ByteWriter` wrote.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    mutating func readByte() -> UInt8 {
        let byte = self.bytes[self.position]
        self.position += 1
        return byte
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type) -> T {
        let value = T(littleEndian: self.bytes.loadUnaligned(fromByteOffset: self.position, as: T.self))
        self.position += MemoryLayout<T>.size
        return value
    }

    mutating func readVarint() -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = self.readByte()
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    mutating func readSigned() -> Int64 {
        let zigzag = self.readVarint()
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }
}

/// The nodes' names, data and most of their stats, packed into large chunks.
///
/// A blob is a `BlobHeader` (the owner's slot, lengths, the ACL index and the stats, fields a
/// fresh node leaves at their defaults omitted) followed by the name's and the data's bytes. A
/// freed blob's bytes stay until its chunk is compacted (its live blobs moved to the chunk being
/// filled) or wholly freed. Chunks are arrays, so a copy of the arena keeps the bytes it saw.
struct BlobArena: Sendable {
    static let chunkSize = 1 << 20

    private(set) var chunks: [[UInt8]] = []
    /// Freed bytes per chunk.
    private var deadBytes: [Int] = []
    private var freeChunks: [Int32] = []
    /// The chunk new blobs are appended to, or -1.
    private(set) var current: Int32 = -1
    /// Chunks that may be more than half dead, to compact.
    private var compactionCandidates: [Int32] = []

    /// Calls `body` with the blob's header and its name's and data's bytes.
    func withBlob<R>(
        chunk: Int32, offset: Int32, _ body: (BlobHeader, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try self.chunks[Int(chunk)].withUnsafeBytes { bytes in
            let header = BlobHeader(from: bytes, at: Int(offset))
            let nameStart = Int(offset) + header.headerLength
            let nameEnd = nameStart + header.nameLength
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let data = UnsafeRawBufferPointer(rebasing: bytes[nameEnd..<(nameEnd + max(header.dataLength, 0))])
            return try body(header, name, data)
        }
    }

    /// Stores a blob for `slot` and tells where.
    mutating func append(
        slot: Int32, name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer?, fields: BlobFields
    ) -> (chunk: Int32, offset: Int32) {
        withUnsafeTemporaryAllocation(byteCount: BlobHeader.maximumLength, alignment: 8) { header in
            let dataLength = data?.count ?? -1
            let headerLength = BlobHeader.encode(
                slot: slot, nameLength: name.count, dataLength: dataLength, fields: fields, into: header)
            let size = headerLength + name.count + (data?.count ?? 0)
            let chunk = self.chunkWithRoom(for: size)
            let offset = Int32(self.chunks[Int(chunk)].count)
            self.chunks[Int(chunk)].append(contentsOf: UnsafeRawBufferPointer(rebasing: header[0..<headerLength]))
            self.chunks[Int(chunk)].append(contentsOf: name)
            if let data { self.chunks[Int(chunk)].append(contentsOf: data) }
            return (chunk, offset)
        }
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
        let size = self.chunks[Int(chunk)].withUnsafeBytes { BlobHeader(from: $0, at: Int(offset)).size }
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
/// Each node has a slot in one array of small fixed-size records (freed slots are reused)
/// holding links to its parent, first child and siblings, and what its children change. Its
/// name, data, other stats and ACL (an index into a table of distinct ACLs) sit together in a
/// `BlobArena`. One open-addressing table for the whole store finds a child by (parent slot,
/// name), names compared as Strings: linear probing, backward-shift deletion. A path is found by
/// walking its components from the root.
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
        let fields = BlobFields(aclIndex: 0, czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, aversion: 0, ephemeralOwner: 0)
        let location = self.arena.append(slot: 0, name: UnsafeRawBufferPointer(start: nil, count: 0), data: nil, fields: fields)
        let record = NodeRecord(
            pzxid: 0, parent: -1, firstChild: -1, nextSibling: -1, previousSibling: -1, childCount: 0, childCreates: 0,
            blobChunk: location.chunk, blobOffset: location.offset)
        self.records.append(record)
        self.replace(slot: Self.rootSlot, with: DataNode(data: [], acl: ACL.openUnsafe))
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
        return self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { header, _, data -> DataNode in
            let fields = header.fields
            let bytes: [UInt8]? = header.dataLength < 0 ? nil : Array(data)
            var node = DataNode(
                data: bytes, acl: self.acls[Int(fields.aclIndex)], czxid: fields.czxid, mzxid: fields.mzxid,
                ctime: fields.ctime, mtime: fields.mtime, version: fields.version, childCreates: record.childCreates,
                aversion: fields.aversion, ephemeralOwner: fields.ephemeralOwner, pzxid: record.pzxid)
            node.childCount = Int(record.childCount)
            return node
        }
    }

    private func header(ofSlot slot: Int) -> BlobHeader {
        let record = self.records[slot]
        return self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { header, _, _ in header }
    }

    func acl(ofSlot slot: Int) -> [ACL] { self.acls[Int(self.header(ofSlot: slot).fields.aclIndex)] }

    func childCount(ofSlot slot: Int) -> Int { Int(self.records[slot].childCount) }

    func childCreates(ofSlot slot: Int) -> Int32 { self.records[slot].childCreates }

    func pzxid(ofSlot slot: Int) -> Int64 { self.records[slot].pzxid }

    /// The length of the node's data (0 for null data).
    func dataCount(ofSlot slot: Int) -> Int { Swift.max(self.header(ofSlot: slot).dataLength, 0) }

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
    func sortedChildSlots(ofSlot slot: Int) -> [Int32] {
        // Large sibling sets are what a snapshot sorts: 4-byte slots, and the names side by side
        // in one buffer of the exact size, so sorting needs no string per child.
        var slots: [Int32] = []
        slots.reserveCapacity(Int(self.records[slot].childCount))
        var namesLength = 0
        var child = self.records[slot].firstChild
        while child >= 0 {
            slots.append(child)
            let record = self.records[Int(child)]
            namesLength += self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { header, _, _ in header.nameLength }
            child = record.nextSibling
        }
        guard slots.count > 1 else { return slots }
        var names: [UInt8] = []
        names.reserveCapacity(namesLength)
        var starts: [Int] = []
        starts.reserveCapacity(slots.count + 1)
        var ascii = true
        for child in slots {
            starts.append(names.count)
            let record = self.records[Int(child)]
            self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in
                names.append(contentsOf: name)
                if name.contains(where: { $0 >= 0x80 }) { ascii = false }
            }
        }
        starts.append(names.count)
        var order: [Int32] = Array(0..<Int32(slots.count))
        if ascii {
            // For ASCII, String's order is the bytes' order.
            names.withUnsafeBytes { bytes in
                order.sort { a, b in
                    let left = UnsafeRawBufferPointer(rebasing: bytes[starts[Int(a)]..<starts[Int(a) + 1]])
                    let right = UnsafeRawBufferPointer(rebasing: bytes[starts[Int(b)]..<starts[Int(b) + 1]])
                    return left.lexicographicallyPrecedes(right)
                }
            }
        } else {
            let strings: [String] = slots.indices.map { String(decoding: names[starts[$0]..<starts[$0 + 1]], as: UTF8.self) }
            order.sort { a, b in strings[Int(a)] < strings[Int(b)] }
        }
        return order.map { slots[Int($0)] }
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
            if sortingChildren {
                // Pushed in reverse, popped in order.
                for child in self.sortedChildSlots(ofSlot: Int(slot)).reversed() { stack.append((child, depth + 1)) }
            } else {
                for child in self.childSlots(ofSlot: Int(slot)) { stack.append((Int32(child), depth + 1)) }
            }
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
        let (slot, isNew) = name.withUTF8 { self.insertOrFind(node, named: UnsafeRawBufferPointer($0), under: parent) }
        if !isNew { self.replace(slot: slot, with: node) }
        return slot
    }

    /// Stores `node` as the child `name` of the node in `parent` unless it has a child by that
    /// name: returns the new node's slot, or nil.
    mutating func insertNew(_ node: DataNode, named name: String, under parent: Int) -> Int? {
        var name = name
        let (slot, isNew) = name.withUTF8 { self.insertOrFind(node, named: UnsafeRawBufferPointer($0), under: parent) }
        return isNew ? slot : nil
    }

    /// Stores `node` as the child `name` of the node in `parent`, or finds the child there.
    private mutating func insertOrFind(
        _ node: DataNode, named name: UnsafeRawBufferPointer, under parent: Int
    ) -> (slot: Int, isNew: Bool) {
        let hash = Self.keyHash(parent: parent, name: name)
        if (self.count + 1) * 4 > self.table.count * 3 { self.resizeTable(self.table.count * 2) }
        let entry = self.find(parent: Int32(parent), name: name, hash: hash)
        if let existing = entry.slot { return (Int(existing), false) }
        let slot: Int32
        if let free = self.freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(self.records.count)
            self.records.append(self.records[Self.rootSlot])
        }
        let fields = self.fields(of: node)
        let location = self.appendBlob(slot: slot, name: name, data: node.data, fields: fields)
        let oldFirst = self.records[parent].firstChild
        self.records[Int(slot)] = NodeRecord(
            pzxid: node.pzxid, parent: Int32(parent), firstChild: -1, nextSibling: oldFirst, previousSibling: -1,
            childCount: 0, childCreates: node.childCreates, blobChunk: location.chunk, blobOffset: location.offset)
        if oldFirst >= 0 { self.records[Int(oldFirst)].previousSibling = slot }
        self.records[parent].firstChild = slot
        self.records[parent].childCount += 1
        self.table[entry.index] = slot
        self.count += 1
        self.compactPending()
        return (Int(slot), true)
    }

    /// Replaces the node in `slot` (stats, ACL, data), keeping its name and children.
    mutating func replace(slot: Int, with node: DataNode) {
        self.records[slot].childCreates = node.childCreates
        self.records[slot].pzxid = node.pzxid
        let fields = self.fields(of: node)
        self.rewriteBlob(ofSlot: slot, data: node.data, fields: fields)
    }

    /// Sets the node's data, and changes the stats that go with it in `update`.
    mutating func setData(_ data: [UInt8]?, ofSlot slot: Int, update: (inout BlobFields) -> Void = { _ in }) {
        var fields = self.header(ofSlot: slot).fields
        update(&fields)
        self.rewriteBlob(ofSlot: slot, data: data, fields: fields)
    }

    mutating func setACL(_ acl: [ACL], aversion: Int32, ofSlot slot: Int) {
        var fields = self.header(ofSlot: slot).fields
        fields.aclIndex = self.aclIndex(acl)
        fields.aversion = aversion
        let data = self[slot: slot].data
        self.rewriteBlob(ofSlot: slot, data: data, fields: fields)
    }

    mutating func setChildCreates(_ childCreates: Int32, ofSlot slot: Int) { self.records[slot].childCreates = childCreates }

    mutating func setPzxid(_ pzxid: Int64, ofSlot slot: Int) { self.records[slot].pzxid = pzxid }

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
        self.removeEntry(of: Int32(slot))
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

    private mutating func fields(of node: DataNode) -> BlobFields {
        BlobFields(
            aclIndex: self.aclIndex(node.acl), czxid: node.czxid, mzxid: node.mzxid, ctime: node.ctime, mtime: node.mtime,
            version: node.version, aversion: node.aversion, ephemeralOwner: node.ephemeralOwner)
    }

    private mutating func appendBlob(
        slot: Int32, name: UnsafeRawBufferPointer, data: [UInt8]?, fields: BlobFields
    ) -> (chunk: Int32, offset: Int32) {
        guard let data else { return self.arena.append(slot: slot, name: name, data: nil, fields: fields) }
        return data.withUnsafeBytes { self.arena.append(slot: slot, name: name, data: $0, fields: fields) }
    }

    /// Writes the node's blob anew (same name) and frees the old one.
    private mutating func rewriteBlob(ofSlot slot: Int, data: [UInt8]?, fields: BlobFields) {
        let record = self.records[slot]
        let name = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in Array(name) }
        let location = name.withUnsafeBytes { self.appendBlob(slot: Int32(slot), name: $0, data: data, fields: fields) }
        self.records[slot].blobChunk = location.chunk
        self.records[slot].blobOffset = location.offset
        self.arena.release(chunk: record.blobChunk, offset: record.blobOffset)
        self.compactPending()
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

    /// Names are compared as `String` compares them (canonically equivalent spellings are one
    /// name), as the tree's path-keyed indexes and watches do: the hash is the String's.
    static func keyHash(parent: Int, name: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(parent)
        hasher.combine(String(decoding: name, as: UTF8.self))
        return hasher.finalize()
    }

    /// Whether two names are one: the same bytes, or canonically equivalent (only possible when
    /// one has non-ASCII bytes).
    static func sameName(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        if left.count == right.count, left.elementsEqual(right) { return true }
        let ascii = !left.contains(where: { $0 >= 0x80 }) && !right.contains(where: { $0 >= 0x80 })
        if ascii { return false }
        return String(decoding: left, as: UTF8.self) == String(decoding: right, as: UTF8.self)
    }

    /// The hash of the node's (parent, name), from its stored name.
    private func keyHash(ofSlot slot: Int32) -> Int {
        let record = self.records[Int(slot)]
        return self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, name, _ in
            Self.keyHash(parent: Int(record.parent), name: name)
        }
    }

    /// The table entry holding the child `name` of `parent`, or the empty entry where it would go.
    private func find(parent: Int32, name: UnsafeRawBufferPointer, hash: Int) -> (index: Int, slot: Int32?) {
        let mask = self.table.count - 1
        var index = hash & mask
        while true {
            let slot = self.table[index]
            if slot < 0 { return (index, nil) }
            let record = self.records[Int(slot)]
            if record.parent == parent {
                let same = self.arena.withBlob(chunk: record.blobChunk, offset: record.blobOffset) { _, stored, _ in
                    Self.sameName(stored, name)
                }
                if same { return (index, slot) }
            }
            index = (index + 1) & mask
        }
    }

    /// Removes the entry for `slot`, shifting back the entries after it that belong before the gap.
    private mutating func removeEntry(of slot: Int32) {
        let mask = self.table.count - 1
        var gap = self.keyHash(ofSlot: slot) & mask
        while self.table[gap] != slot { gap = (gap + 1) & mask }
        var index = gap
        while true {
            index = (index + 1) & mask
            let moving = self.table[index]
            if moving < 0 { break }
            let home = self.keyHash(ofSlot: moving) & mask
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
            var index = self.keyHash(ofSlot: slot) & mask
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
                    let size = BlobHeader(from: bytes, at: offset).size
                    let slot = Int(BlobHeader(from: bytes, at: offset).slot)
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
            self.table[index] >= 0 && self.keyHash(ofSlot: self.table[index]) & mask != index
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
                self.find(parent: record.parent, name: name, hash: Self.keyHash(parent: Int(record.parent), name: name)).slot
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
