import NIOCore
import ZooKeeperProtocol

/// One znode as the server stores it (ZooKeeper's `DataNode` + `StatPersisted`).
public struct DataNode: Hashable, Sendable {
    public var data: [UInt8]?
    public var acl: [ACL]
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    /// Internal child-create counter C: +1 per child create, never changed by deletes.
    public var childCreates: Int32
    public var aversion: Int32
    /// Raw owner: 0 persistent, Int64.min container, 0xFF.. TTL, otherwise the session id.
    public var ephemeralOwner: Int64
    public var pzxid: Int64
    /// How many children the node has (kept by the tree: set by creating and deleting them).
    public internal(set) var childCount: Int

    public init(
        data: [UInt8]?, acl: [ACL], czxid: Int64 = 0, mzxid: Int64 = 0, ctime: Int64 = 0, mtime: Int64 = 0,
        version: Int32 = 0, childCreates: Int32 = 0, aversion: Int32 = 0, ephemeralOwner: Int64 = 0, pzxid: Int64 = 0
    ) {
        self.data = data
        self.acl = acl
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.childCreates = childCreates
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.pzxid = pzxid
        self.childCount = 0
    }
}

/// What `ephemeralOwner` encodes (§13.4).
public enum NodeKind: Hashable, Sendable {
    case persistent
    case ephemeral(sessionId: Int64)
    case container
    case ttl(milliseconds: Int64)

    public static let containerOwner = Int64.min
    public static let maximumTTL: Int64 = 0xFF_FFFF_FFFF

    public static func ttlOwner(_ ttl: Int64) -> Int64 {
        Int64(bitPattern: 0xFF00_0000_0000_0000 | UInt64(ttl & maximumTTL))
    }

    public init(owner: Int64, extendedTypesEnabled: Bool) {
        if owner == 0 {
            self = .persistent
        } else if owner == Int64.min {
            self = .container
        } else if extendedTypesEnabled, UInt64(bitPattern: owner) >> 56 == 0xFF {
            self = .ttl(milliseconds: owner & Self.maximumTTL)
        } else {
            self = .ephemeral(sessionId: owner)
        }
    }
}

/// A change that fires watches; the ACL is the one the delivery filter checks against.
public enum TreeEvent: Hashable, Sendable {
    case created(path: String, acl: [ACL])
    case deleted(path: String, acl: [ACL])
    case dataChanged(path: String, acl: [ACL])
    case childrenChanged(path: String, acl: [ACL])
}

/// The result of applying one (sub-)transaction.
public enum TxnResult: Hashable, Sendable {
    case createSession
    case closeSession
    case create(path: String, stat: Stat)
    case delete
    case setData(Stat)
    case setACL(Stat)
    case check
    case error(ZooKeeperError.Code)
    case multi([TxnResult])
}

/// The in-memory tree: nodes by path, ephemerals by session, container and TTL candidates.
public struct DataTree: Sendable {
    public private(set) var nodes = NodeStore()
    public private(set) var ephemerals: [Int64: Set<String>] = [:]
    public private(set) var containers: Set<String> = []
    public private(set) var ttlNodes: Set<String> = []
    public private(set) var approximateDataSize: Int64 = 0
    /// The paths that have a quota (ZooKeeper's `pTrie`): added when a `zookeeper_limits` node is
    /// created under `/zookeeper/quota`, removed when it is deleted, rebuilt from the tree when a
    /// snapshot is loaded. Kept in `PathTrie`'s form, `/` and the path's non-blank components.
    public private(set) var quotaPaths: Set<String> = []
    public var extendedTypesEnabled: Bool

    /// Where the ensemble's membership is kept.
    public static let configPath = "/zookeeper/config"
    public static let specialPaths: Set<String> = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]

    public init(extendedTypesEnabled: Bool = false) {
        self.extendedTypesEnabled = extendedTypesEnabled
        self.insert("/", DataNode(data: [], acl: ACL.openUnsafe))
        self.insert("/zookeeper", DataNode(data: [], acl: ACL.openUnsafe))
        self.insert("/zookeeper/quota", DataNode(data: [], acl: ACL.openUnsafe))
        self.insert("/zookeeper/config", DataNode(data: [], acl: ACL.readUnsafe, aversion: -1))
    }

    public var nodeCount: Int { self.nodes.count }

    public func node(at path: String) -> DataNode? { self.nodes[path] }

    public func kind(of node: DataNode) -> NodeKind {
        NodeKind(owner: node.ephemeralOwner, extendedTypesEnabled: self.extendedTypesEnabled)
    }

    /// The Stat as clients see it.
    public func stat(of node: DataNode) -> Stat {
        let owner: Int64
        switch self.kind(of: node) {
        case .persistent, .container, .ttl: owner = 0
        case .ephemeral(let session): owner = session
        }
        let numChildren = Int32(truncatingIfNeeded: node.childCount)
        return Stat(
            czxid: node.czxid, mzxid: node.mzxid, ctime: node.ctime, mtime: node.mtime, version: node.version,
            cversion: node.childCreates &* 2 &- numChildren, aversion: node.aversion, ephemeralOwner: owner,
            dataLength: Int32(truncatingIfNeeded: node.data?.count ?? 0), numChildren: numChildren, pzxid: node.pzxid)
    }

    public func stat(at path: String) -> Stat? { self.nodes[path].map { self.stat(of: $0) } }

    /// The names of the node's children, in no particular order.
    public func children(of path: String) -> [String]? {
        self.nodes.slot(of: path).map { self.nodes.childNames(ofSlot: $0) }
    }

    /// Every descendant of `path`, not counting the node itself.
    public func allChildrenNumber(of path: String) -> Int? {
        guard let slot = self.nodes.slot(of: path) else { return nil }
        if path == "/" { return self.nodes.count - 1 }
        var count = 0
        var stack = [slot]
        while let next = stack.popLast() {
            let children = self.nodes.childSlots(ofSlot: next)
            count += children.count
            stack.append(contentsOf: children)
        }
        return count
    }

    public func ephemerals(of sessionId: Int64) -> Set<String> { self.ephemerals[sessionId] ?? [] }

    public var ephemeralCount: Int { self.ephemerals.values.reduce(0) { $0 + $1.count } }

    // MARK: Mutation

    /// Adds (or replaces) the node at `path`; `parent` is its parent's slot when the caller has
    /// already found it (the path is then not walked again).
    private mutating func insert(_ path: String, _ node: DataNode, parent: Int? = nil) {
        if path == "/" {
            self.nodes.replace(slot: NodeStore.rootSlot, with: node)
        } else {
            guard let parentSlot = parent ?? self.nodes.slot(of: ZooKeeperPath.parent(of: path)) else {
                preconditionFailure("\(path): no parent to insert it under")
            }
            self.nodes.insert(node, named: ZooKeeperPath.name(of: path), under: parentSlot)
        }
        self.noteInserted(path, node)
    }

    /// The bookkeeping of a node added at `path`: the data size and the kind indexes.
    private mutating func noteInserted(_ path: String, _ node: DataNode) {
        self.approximateDataSize += Int64(path.utf8.count + (node.data?.count ?? 0))
        self.index(path, owner: node.ephemeralOwner, add: true)
    }

    private mutating func index(_ path: String, owner: Int64, add: Bool) {
        switch NodeKind(owner: owner, extendedTypesEnabled: self.extendedTypesEnabled) {
        case .persistent: break
        case .container:
            if add { self.containers.insert(path) } else { self.containers.remove(path) }
        case .ttl:
            if add { self.ttlNodes.insert(path) } else { self.ttlNodes.remove(path) }
        case .ephemeral(let session):
            if add {
                self.ephemerals[session, default: []].insert(path)
            } else {
                self.ephemerals[session]?.remove(path)
                if self.ephemerals[session]?.isEmpty == true { self.ephemerals[session] = nil }
            }
        }
    }

    /// Applies a transaction's effect on the tree. Session bookkeeping is the caller's.
    public mutating func apply(_ header: TxnHeader, _ body: TxnBody, events: inout [TreeEvent]) -> TxnResult {
        switch body {
        case .createSession:
            return .createSession
        case .closeSession(let paths):
            for path in paths.sorted(by: >) { _ = self.deleteNode(path, zxid: header.zxid, events: &events) }
            // Anything else the session still owns (defensive; normally `paths` lists all of them).
            for path in self.ephemerals(of: header.clientId).sorted(by: >) {
                _ = self.deleteNode(path, zxid: header.zxid, events: &events)
            }
            return .closeSession
        case .create(let path, let data, let acl, let owner, let parentCVersion):
            let parentPath = ZooKeeperPath.parent(of: path)
            guard let parentIndex = self.nodes.slot(of: parentPath) else { return .error(.noNode) }
            let node = DataNode(
                data: data, acl: acl, czxid: header.zxid, mzxid: header.zxid, ctime: header.time, mtime: header.time,
                ephemeralOwner: owner, pzxid: header.zxid)
            let childName = ZooKeeperPath.name(of: path)
            // One lookup: the store inserts the node (linking it into the parent's children)
            // unless the parent has a child by that name.
            guard path != "/", self.nodes.insertNew(node, named: childName, under: parentIndex) != nil else {
                return .error(.nodeExists)
            }
            self.noteInserted(path, node)
            // The parent's stats are changed in place.
            let childCreates = self.nodes.childCreates(ofSlot: parentIndex)
            let newC = parentCVersion == -1 ? childCreates &+ 1 : parentCVersion
            if newC > childCreates || parentCVersion == -1 {
                self.nodes.setChildCreates(newC, ofSlot: parentIndex)
                self.nodes.setPzxid(header.zxid, ofSlot: parentIndex)
            }
            let parentACL = self.nodes.acl(ofSlot: parentIndex)
            // Quota bookkeeping, after the node is in the tree (DataTree.createNode).
            if parentPath.hasPrefix(Quotas.quotaZookeeper), childName == Quotas.limitNode || childName == Quotas.statNode {
                // ZooKeeper ≤ 3.9.4 throws on an empty namespace (a limit/stat node directly under
                // /zookeeper/quota); newer versions ignore it, as here.
                let quotaPrefix = Quotas.trimQuotaPath(parentPath)
                if Quotas.components(quotaPrefix).isEmpty {
                    // ignored
                } else if childName == Quotas.limitNode {
                    self.quotaPaths.insert(Quotas.normalized(quotaPrefix))
                } else {
                    self.updateQuotaForPath(quotaPrefix)
                }
            }
            if let lastPrefix = self.maxPrefixWithQuota(path) {
                self.updateQuotaStat(lastPrefix, bytesDiff: Int64(data?.count ?? 0), countDiff: 1)
            }
            events.append(.created(path: path, acl: acl))
            events.append(.childrenChanged(path: parentPath, acl: parentACL))
            // The Stat is the one the node had before any quota update (ZooKeeper copies it first).
            return .create(path: path, stat: self.stat(of: node))
        case .delete(let path), .deleteContainer(let path):
            return self.deleteNode(path, zxid: header.zxid, events: &events)
        case .setData(let path, let data, let version):
            guard let slot = self.nodes.slot(of: path) else { return .error(.noNode) }
            let lastLength = Int64(self.nodes.dataCount(ofSlot: slot))
            self.approximateDataSize += Int64(data?.count ?? 0) - lastLength
            self.nodes.setData(data, ofSlot: slot) { fields in
                fields.version = version
                fields.mzxid = header.zxid
                fields.mtime = header.time
            }
            let node = self.nodes[slot: slot]
            if let lastPrefix = self.maxPrefixWithQuota(path) {
                self.updateQuotaStat(lastPrefix, bytesDiff: Int64(data?.count ?? 0) - lastLength, countDiff: 0)
            }
            events.append(.dataChanged(path: path, acl: node.acl))
            return .setData(self.stat(of: node))
        case .setACL(let path, let acl, let version):
            guard let slot = self.nodes.slot(of: path) else { return .error(.noNode) }
            self.nodes.setACL(acl, aversion: version, ofSlot: slot)
            return .setACL(self.stat(of: self.nodes[slot: slot]))
        case .check:
            return .check
        case .error(let code):
            return .error(code)
        case .multi(let subs):
            var results: [TxnResult] = []
            for sub in subs {
                results.append(self.apply(header, sub.body, events: &events))
            }
            return .multi(results)
        }
    }

    private mutating func deleteNode(_ path: String, zxid: Int64, events: inout [TreeEvent]) -> TxnResult {
        guard let slot = self.nodes.slot(of: path) else { return .error(.noNode) }
        let node = self.nodes[slot: slot]
        guard node.childCount == 0 else { return .error(.notEmpty) }
        let parentPath = ZooKeeperPath.parent(of: path)
        if slot != NodeStore.rootSlot { self.nodes.remove(slot: slot) }
        self.approximateDataSize -= Int64(path.utf8.count + (node.data?.count ?? 0))
        self.index(path, owner: node.ephemeralOwner, add: false)
        var parentACL: [ACL] = []
        if let parentIndex = self.nodes.slot(of: parentPath) {
            // In place, as in create. (The store unlinked the child when it was removed.)
            if zxid > self.nodes.pzxid(ofSlot: parentIndex) { self.nodes.setPzxid(zxid, ofSlot: parentIndex) }
            parentACL = self.nodes.acl(ofSlot: parentIndex)
        }
        // Quota bookkeeping (DataTree.deleteNode): a deleted limits node ends its quota, then the
        // deleted node leaves the usage of the quota it was under.
        if parentPath.hasPrefix(Quotas.quotaZookeeper), ZooKeeperPath.name(of: path) == Quotas.limitNode {
            let quotaPrefix = Quotas.trimQuotaPath(parentPath)
            if !Quotas.components(quotaPrefix).isEmpty {
                self.quotaPaths.remove(Quotas.normalized(quotaPrefix))
            }
        }
        if let lastPrefix = self.maxPrefixWithQuota(path) {
            self.updateQuotaStat(lastPrefix, bytesDiff: -Int64(node.data?.count ?? 0), countDiff: -1)
        }
        events.append(.deleted(path: path, acl: node.acl))
        events.append(.childrenChanged(path: parentPath, acl: parentACL))
        return .delete
    }

    // MARK: Quotas

    /// The deepest path with a quota that is `path` or one of its ancestors; nil when there is
    /// none (a quota on `/` is never tracked). ZooKeeper's `getMaxPrefixWithQuota`.
    public func maxPrefixWithQuota(_ path: String) -> String? {
        guard !self.quotaPaths.isEmpty else { return nil }
        var prefix = ""
        var deepest: String?
        for component in Quotas.components(path) {
            prefix += "/" + component
            if self.quotaPaths.contains(prefix) { deepest = prefix }
        }
        return deepest
    }

    /// Adds to the usage in a quota's stats node, in place: the node's version, mzxid and mtime do
    /// not change and no watch fires (ZooKeeper's `updateQuotaStat`). Other fields in the data are
    /// kept. Nothing happens when the stats node is missing.
    mutating func updateQuotaStat(_ lastPrefix: String, bytesDiff: Int64, countDiff: Int64) {
        let statPath = Quotas.statPath(lastPrefix)
        guard let slot = self.nodes.slot(of: statPath) else { return }
        var stats = StatsTrack(self.nodes[slot: slot].data)
        stats.count &+= countDiff
        stats.bytes &+= bytesDiff
        self.nodes.setData(stats.bytesValue, ofSlot: slot)
    }

    /// Sets a quota's stats node, in place, to the node count (the node itself included) and the
    /// data bytes of the subtree at `path` (ZooKeeper's `updateQuotaForPath`); `count=0,bytes=0`
    /// when the node does not exist. Fields other than count and bytes are dropped.
    mutating func updateQuotaForPath(_ path: String) {
        var count: Int64 = 0
        var bytes: Int64 = 0
        // ZooKeeper resolves "" to the root too (its node map has "" as an alias of "/").
        var stack: [Int] = []
        if let slot = self.nodes.slot(of: path.isEmpty ? "/" : path) { stack.append(slot) }
        while let next = stack.popLast() {
            count += 1
            bytes += Int64(self.nodes.dataCount(ofSlot: next))
            stack.append(contentsOf: self.nodes.childSlots(ofSlot: next))
        }
        var stats = StatsTrack()
        stats.bytes = bytes
        stats.count = count
        let statPath = Quotas.statPath(path)
        guard let slot = self.nodes.slot(of: statPath) else { return }
        self.nodes.setData(stats.bytesValue, ofSlot: slot)
    }

    /// Rebuilds the quota paths and recomputes every quota's usage from the tree, as ZooKeeper
    /// does after loading a snapshot (`setupQuota`): each leaf under `/zookeeper/quota` whose path
    /// ends in `/zookeeper_limits` names a quota.
    mutating func setupQuota() {
        guard let quotaSlot = self.nodes.slot(of: Quotas.quotaZookeeper) else { return }
        var leaves: [String] = []
        var stack: [(path: String, slot: Int)] = [(Quotas.quotaZookeeper, quotaSlot)]
        while let (next, slot) = stack.popLast() {
            let children = self.nodes.childSlots(ofSlot: slot)
            if children.isEmpty {
                leaves.append(next)
            } else {
                for child in children { stack.append((next + "/" + self.nodes.name(ofSlot: child), child)) }
            }
        }
        let ending = "/" + Quotas.limitNode
        for leaf in leaves.sorted() where leaf.hasSuffix(ending) {
            // Java: path.substring(quotaZookeeper.length(), path.indexOf(endString)).
            let bytes = Array(leaf.utf8)
            let needle = Array(ending.utf8)
            guard let first = (0...(bytes.count - needle.count)).first(where: { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }),
                  first >= Quotas.quotaZookeeper.utf8.count
            else { continue }
            let realPath = String(decoding: bytes[Quotas.quotaZookeeper.utf8.count..<first], as: UTF8.self)
            guard !Quotas.components(realPath).isEmpty else { continue }
            self.updateQuotaForPath(realPath)
            self.quotaPaths.insert(Quotas.normalized(realPath))
        }
    }

    // MARK: Snapshot

    /// Encodes every node into `buffer`, handing it to `flush` whenever it holds `pieceSize`
    /// bytes or more (`flush` empties it), so a large tree never sits encoded whole in memory.
    func encode(
        into buffer: inout ByteBuffer, pieceSize: Int = .max, flush: (inout ByteBuffer) throws -> Void = { _ in }
    ) rethrows {
        buffer.writeJuteInt(Int32(self.nodes.count))
        // Parents before their children, siblings by name.
        try self.nodes.forEachNode(sortingChildren: true) { path, node in
            if buffer.readableBytes >= pieceSize { try flush(&buffer) }
            buffer.writeJuteString(path)
            buffer.writeJuteBuffer(node.data)
            buffer.writeACLVector(node.acl)
            buffer.writeJuteLong(node.czxid)
            buffer.writeJuteLong(node.mzxid)
            buffer.writeJuteLong(node.ctime)
            buffer.writeJuteLong(node.mtime)
            buffer.writeJuteInt(node.version)
            buffer.writeJuteInt(node.childCreates)
            buffer.writeJuteInt(node.aversion)
            buffer.writeJuteLong(node.ephemeralOwner)
            buffer.writeJuteLong(node.pzxid)
        }
    }

    /// Decodes a tree. The buffer may hold only the start of the input: `refill` then appends
    /// more of it (returning false at its end), and `inputBytes` tells the whole input's size.
    init(
        from buffer: inout ByteBuffer, extendedTypesEnabled: Bool, inputBytes: Int? = nil,
        refill: (inout ByteBuffer) -> Bool = { _ in false }
    ) throws(JuteDecodingError) {
        self.extendedTypesEnabled = extendedTypesEnabled
        let count = try buffer.txnInt("count")
        guard count >= 0 else { throw .unreasonableLength(field: "count", length: Int(count)) }
        // Each node takes at least a few dozen bytes: a count the input cannot hold is a lie.
        let available = inputBytes ?? buffer.readableBytes
        self.nodes.reserveCapacity(min(Int(count), available / 40 + 16))
        // Snapshots list parents first (ours and ZooKeeper's); any node that comes before its
        // parent is inserted after the rest.
        var early: [(path: String, node: DataNode)] = []
        // Siblings come together: the parent found for one serves the next.
        var lastParentPath = ""
        var lastParentSlot: Int?
        for _ in 0..<count {
            var decoded: (path: String, node: DataNode)
            while true {
                let start = buffer.readerIndex
                do throws(JuteDecodingError) {
                    decoded = try Self.decodeNode(from: &buffer)
                    break
                } catch {
                    // A node cut off by the end of the buffer is read again with more input.
                    switch error {
                    case .truncated, .unreasonableLength: break
                    default: throw error
                    }
                    buffer.moveReaderIndex(to: start)
                    guard refill(&buffer) else { throw error }
                }
            }
            let (path, node) = decoded
            guard ZooKeeperPath.isValid(path) else { throw .invalidValue(field: "path", value: 0) }
            if path == "/" {
                self.insert(path, node)
                continue
            }
            let parentPath = ZooKeeperPath.parent(of: path)
            if parentPath != lastParentPath || lastParentSlot == nil {
                lastParentPath = parentPath
                lastParentSlot = self.nodes.slot(of: parentPath)
            }
            if let parent = lastParentSlot {
                self.insert(path, node, parent: parent)
            } else {
                early.append((path, node))
            }
        }
        for (path, node) in early.sorted(by: { $0.path < $1.path }) {
            guard self.nodes.slot(of: ZooKeeperPath.parent(of: path)) != nil else {
                throw .invalidValue(field: "parent", value: 0)
            }
            self.insert(path, node)
        }
        // ZooKeeper rebuilds its quota trie and recomputes the stats after loading a snapshot.
        self.setupQuota()
    }

    private static func decodeNode(from buffer: inout ByteBuffer) throws(JuteDecodingError) -> (path: String, node: DataNode) {
        let path = try buffer.decodeJuteStringNonNull("path")
        let node = DataNode(
            data: try buffer.decodeJuteBuffer("data"), acl: try buffer.decodeACLVector(),
            czxid: try buffer.txnLong("czxid"), mzxid: try buffer.txnLong("mzxid"),
            ctime: try buffer.txnLong("ctime"), mtime: try buffer.txnLong("mtime"),
            version: try buffer.txnInt("version"), childCreates: try buffer.txnInt("cversion"),
            aversion: try buffer.txnInt("aversion"), ephemeralOwner: try buffer.txnLong("ephemeralOwner"),
            pzxid: try buffer.txnLong("pzxid"))
        return (path, node)
    }
}

/// Bytes handed to a decoder a window at a time: the decoding buffer holds the current window
/// (and what is left of the one before), never the whole input.
struct WindowedInput {
    private let input: [UInt8]
    private let window: Int
    private var copied = 0

    init(_ input: [UInt8], window: Int) {
        self.input = input
        self.window = window
    }

    /// The whole input's size.
    var count: Int { input.count }

    /// A buffer holding the first window.
    mutating func firstBuffer() -> ByteBuffer {
        copied = min(window, input.count)
        return ByteBuffer(bytes: input[0..<copied])
    }

    /// Drops what `buffer` has read and appends the next window; false once all is in.
    mutating func refill(_ buffer: inout ByteBuffer) -> Bool {
        guard copied < input.count else { return false }
        let end = min(copied + window, input.count)
        buffer.discardReadBytes()
        buffer.writeBytes(input[copied..<end])
        copied = end
        return true
    }
}
