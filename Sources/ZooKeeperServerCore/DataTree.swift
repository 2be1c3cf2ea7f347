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
    public var children: Set<String>

    public init(
        data: [UInt8]?, acl: [ACL], czxid: Int64 = 0, mzxid: Int64 = 0, ctime: Int64 = 0, mtime: Int64 = 0,
        version: Int32 = 0, childCreates: Int32 = 0, aversion: Int32 = 0, ephemeralOwner: Int64 = 0, pzxid: Int64 = 0,
        children: Set<String> = []
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
        self.children = children
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
    public private(set) var nodes: [String: DataNode] = [:]
    public private(set) var ephemerals: [Int64: Set<String>] = [:]
    public private(set) var containers: Set<String> = []
    public private(set) var ttlNodes: Set<String> = []
    public private(set) var approximateDataSize: Int64 = 0
    public var extendedTypesEnabled: Bool

    public static let specialPaths: Set<String> = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]

    public init(extendedTypesEnabled: Bool = false) {
        self.extendedTypesEnabled = extendedTypesEnabled
        self.insert("/", DataNode(data: [], acl: ACL.openUnsafe, children: ["zookeeper"]))
        self.insert("/zookeeper", DataNode(data: [], acl: ACL.openUnsafe, children: ["quota", "config"]))
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
        let numChildren = Int32(truncatingIfNeeded: node.children.count)
        return Stat(
            czxid: node.czxid, mzxid: node.mzxid, ctime: node.ctime, mtime: node.mtime, version: node.version,
            cversion: node.childCreates &* 2 &- numChildren, aversion: node.aversion, ephemeralOwner: owner,
            dataLength: Int32(truncatingIfNeeded: node.data?.count ?? 0), numChildren: numChildren, pzxid: node.pzxid)
    }

    public func stat(at path: String) -> Stat? { self.nodes[path].map { self.stat(of: $0) } }

    public func children(of path: String) -> [String]? { self.nodes[path].map { Array($0.children) } }

    /// Every descendant of `path`, not counting the node itself.
    public func allChildrenNumber(of path: String) -> Int? {
        guard self.nodes[path] != nil else { return nil }
        if path == "/" { return self.nodes.count - 1 }
        var count = 0
        var stack = [path]
        while let next = stack.popLast() {
            guard let node = self.nodes[next] else { continue }
            count += node.children.count
            for child in node.children { stack.append(ZooKeeperPath.join(next, child)) }
        }
        return count
    }

    public func ephemerals(of sessionId: Int64) -> Set<String> { self.ephemerals[sessionId] ?? [] }

    public var ephemeralCount: Int { self.ephemerals.values.reduce(0) { $0 + $1.count } }

    // MARK: Mutation

    private mutating func insert(_ path: String, _ node: DataNode) {
        self.nodes[path] = node
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
            guard var parent = self.nodes[parentPath] else { return .error(.noNode) }
            guard self.nodes[path] == nil else { return .error(.nodeExists) }
            let node = DataNode(
                data: data, acl: acl, czxid: header.zxid, mzxid: header.zxid, ctime: header.time, mtime: header.time,
                ephemeralOwner: owner, pzxid: header.zxid)
            parent.children.insert(ZooKeeperPath.name(of: path))
            let newC = parentCVersion == -1 ? parent.childCreates &+ 1 : parentCVersion
            if newC > parent.childCreates || parentCVersion == -1 {
                parent.childCreates = newC
                parent.pzxid = header.zxid
            }
            self.nodes[parentPath] = parent
            self.insert(path, node)
            events.append(.created(path: path, acl: acl))
            events.append(.childrenChanged(path: parentPath, acl: parent.acl))
            return .create(path: path, stat: self.stat(of: node))
        case .delete(let path), .deleteContainer(let path):
            return self.deleteNode(path, zxid: header.zxid, events: &events)
        case .setData(let path, let data, let version):
            guard var node = self.nodes[path] else { return .error(.noNode) }
            self.approximateDataSize += Int64((data?.count ?? 0) - (node.data?.count ?? 0))
            node.data = data
            node.version = version
            node.mzxid = header.zxid
            node.mtime = header.time
            self.nodes[path] = node
            events.append(.dataChanged(path: path, acl: node.acl))
            return .setData(self.stat(of: node))
        case .setACL(let path, let acl, let version):
            guard var node = self.nodes[path] else { return .error(.noNode) }
            node.acl = acl
            node.aversion = version
            self.nodes[path] = node
            return .setACL(self.stat(of: node))
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
        guard let node = self.nodes[path] else { return .error(.noNode) }
        guard node.children.isEmpty else { return .error(.notEmpty) }
        let parentPath = ZooKeeperPath.parent(of: path)
        self.nodes[path] = nil
        self.approximateDataSize -= Int64(path.utf8.count + (node.data?.count ?? 0))
        self.index(path, owner: node.ephemeralOwner, add: false)
        var parentACL: [ACL] = []
        if var parent = self.nodes[parentPath] {
            parent.children.remove(ZooKeeperPath.name(of: path))
            if zxid > parent.pzxid { parent.pzxid = zxid }
            parentACL = parent.acl
            self.nodes[parentPath] = parent
        }
        events.append(.deleted(path: path, acl: node.acl))
        events.append(.childrenChanged(path: parentPath, acl: parentACL))
        return .delete
    }

    // MARK: Snapshot

    func encode(into buffer: inout ByteBuffer) {
        let paths = self.nodes.keys.sorted()
        buffer.writeJuteInt(Int32(paths.count))
        for path in paths {
            let node = self.nodes[path]!
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

    init(from buffer: inout ByteBuffer, extendedTypesEnabled: Bool) throws(JuteDecodingError) {
        self.extendedTypesEnabled = extendedTypesEnabled
        let count = try buffer.txnInt("count")
        guard count >= 0 else { throw .unreasonableLength(field: "count", length: Int(count)) }
        for _ in 0..<count {
            let path = try buffer.decodeJuteStringNonNull("path")
            let node = DataNode(
                data: try buffer.decodeJuteBuffer("data"), acl: try buffer.decodeACLVector(),
                czxid: try buffer.txnLong("czxid"), mzxid: try buffer.txnLong("mzxid"),
                ctime: try buffer.txnLong("ctime"), mtime: try buffer.txnLong("mtime"),
                version: try buffer.txnInt("version"), childCreates: try buffer.txnInt("cversion"),
                aversion: try buffer.txnInt("aversion"), ephemeralOwner: try buffer.txnLong("ephemeralOwner"),
                pzxid: try buffer.txnLong("pzxid"))
            self.insert(path, node)
        }
        for path in self.nodes.keys where path != "/" {
            let parent = ZooKeeperPath.parent(of: path)
            guard self.nodes[parent] != nil else { throw .invalidValue(field: "parent", value: 0) }
            self.nodes[parent]!.children.insert(ZooKeeperPath.name(of: path))
        }
    }
}
