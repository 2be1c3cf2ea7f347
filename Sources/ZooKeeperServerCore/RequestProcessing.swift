import NIOCore
import ZooKeeperProtocol

/// A failed check: the error code ZooKeeper would answer with.
struct Reject: Error {
    var code: ZooKeeperError.Code
    init(_ code: ZooKeeperError.Code) { self.code = code }
}

/// What validation needs to know about a node, before or after pending sub-ops of a multi
/// (ZooKeeper's `ChangeRecord`).
struct NodeState {
    var acl: [ACL]
    var version: Int32
    var aversion: Int32
    var childCreates: Int32
    var numChildren: Int
    var owner: Int64
    /// The data (for the quota check of a setData).
    var data: [UInt8]?

    init(_ node: DataNode) {
        self.acl = node.acl
        self.version = node.version
        self.aversion = node.aversion
        self.childCreates = node.childCreates
        self.numChildren = node.childCount
        self.owner = node.ephemeralOwner
        self.data = node.data
    }

    init(acl: [ACL], owner: Int64, data: [UInt8]?) {
        self.acl = acl
        self.version = 0
        self.aversion = 0
        self.childCreates = 0
        self.numChildren = 0
        self.owner = owner
        self.data = data
    }
}

/// The outstanding changes of a multi being validated, over the tree.
struct PendingChanges {
    let tree: DataTree
    var changes: [String: NodeState?] = [:]

    init(tree: DataTree) { self.tree = tree }

    func get(_ path: String) -> NodeState? {
        if let change = self.changes[path] { return change }
        return self.tree.node(at: path).map(NodeState.init)
    }

    mutating func set(_ path: String, _ state: NodeState?) { self.changes[path] = .some(state) }
}

extension ServerCore {
    /// Op codes a client may send after the handshake (`Request.isValid` minus internal ones;
    /// top-level check is rejected from 3.9.3).
    static let clientOpCodes: Set<Int32> = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 21, 22, 100, 101, 102, 103, 104, 105, 106, 107, -11,
    ]

    /// A request after the handshake. `body` is the frame after the RequestHeader.
    public mutating func requestReceived(_ id: ConnectionID, header: RequestHeader, body: ByteBuffer, now: ServerClock) -> [ServerAction] {
        var actions: [ServerAction] = []
        guard let connection = self.connections[id], !connection.closing else { return [] }
        guard let sessionId = connection.sessionId, self.sessions[sessionId] != nil else {
            // Requests on a session that is gone are dropped without a reply.
            return []
        }
        self.connections[id]?.packetsReceived += 1
        self.totalPacketsReceived += 1
        if self.role == .follower {
            if connection.forwardsPending > 0 {
                // Keep the client's order: wait behind the forwarded request.
                self.connections[id]?.queued.append((header, body))
                return []
            }
            if Self.forwardedOpCodes.contains(header.type.rawValue) {
                self.forward(id, sessionId: sessionId, header: header, body: body, now: now, actions: &actions)
                return actions
            }
        }
        if self.role == .readOnly, Self.forwardedOpCodes.contains(header.type.rawValue), header.type != .sync {
            self.touch(sessionId, now: now)
            let context = RequestContext(
                connection: id, sessionId: sessionId, xid: header.xid, opCode: header.type,
                receivedAt: now.monotonicMilliseconds, now: now)
            if header.type == .closeSession {
                self.readOnlyCloseSession(sessionId)
                self.reply(context)
                self.connections[id]?.sessionId = nil
                self.closeConnection(id, actions: &actions)
            } else {
                self.reply(context, err: .notReadOnly)
            }
            self.release(into: &actions)
            return actions
        }
        self.connections[id]?.lastOperation = header.type.name
        if header.xid > 0 { self.connections[id]?.lastCxid = header.xid }
        self.touch(sessionId, now: now)
        let context = RequestContext(
            connection: id, sessionId: sessionId, xid: header.xid, opCode: header.type, receivedAt: now.monotonicMilliseconds,
            now: now)

        guard Self.clientOpCodes.contains(header.type.rawValue) else {
            self.reply(context, err: .unimplemented)
            self.closeConnection(id, actions: &actions)
            self.release(into: &actions)
            return actions
        }
        var buffer = body
        let request: ZooKeeperRequest
        do {
            request = try ZooKeeperRequest.decode(opCode: header.type, from: &buffer)
        } catch {
            switch header.type {
            case .create, .create2, .createContainer, .createTTL, .delete, .setData, .setACL, .multi, .reconfig:
                // Write requests take their zxid before the body is read: an error transaction.
                let zxid = self.commit(.error(.marshallingError), type: .error, sessionId: sessionId, cxid: header.xid, now: now, actions: &actions)
                self.reply(context, zxid: zxid, err: .marshallingError)
            default:
                self.reply(context, err: .marshallingError)
            }
            self.release(into: &actions)
            return actions
        }
        self.process(request, context, actions: &actions)
        self.release(into: &actions)
        return actions
    }

    struct RequestContext {
        var connection: ConnectionID
        var sessionId: Int64
        var xid: Int32
        var opCode: OpCode
        var receivedAt: Int64
        var now: ServerClock
    }

    mutating func reply(_ context: RequestContext, zxid: Int64? = nil, err: ZooKeeperError.Code = .ok, _ response: ZooKeeperResponse? = nil) {
        let zxid = zxid ?? self.lastZxid
        var buffer = self.allocator.buffer(capacity: 64)
        buffer.writeReplyFrame(header: ReplyHeader(xid: context.xid, zxid: zxid, err: err.rawValue), response: err == .ok ? response : nil)
        self.connections[context.connection]?.lastZxid = zxid
        self.hold(.send(context.connection, buffer), tag: self.lastZxid, connection: context.connection, receivedAt: context.receivedAt)
    }

    var authIdsByConnection: (ConnectionID) -> [Id] {
        { [connections] id in connections[id]?.authIds ?? [] }
    }

    func checkACL(_ acl: [ACL], _ permission: Permissions, _ context: RequestContext) -> Bool {
        Authorization.check(acl, permission, ids: self.connections[context.connection]?.authIds ?? [], skipACL: self.configuration.skipACL)
    }

    mutating func process(_ request: ZooKeeperRequest, _ context: RequestContext, actions: inout [ServerAction]) {
        let id = context.connection
        switch request {
        case .ping:
            var buffer = self.allocator.buffer(capacity: 20)
            buffer.writeReplyFrame(header: ReplyHeader(xid: SpecialXid.ping, zxid: self.lastZxid, err: 0), response: nil)
            self.hold(.send(id, buffer), tag: self.lastZxid, connection: id, receivedAt: context.receivedAt)

        case .auth(let packet):
            self.handleAuth(packet, context, actions: &actions)

        case .sasl(let sasl):
            self.handleSASL(sasl, context, actions: &actions)

        case .create(let r), .create2(let r), .createContainer(let r):
            self.singleWrite(context, actions: &actions) { (pending: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateCreate(
                    path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: -1, context: context, pending: &pending)
            }
        case .createTTL(let r):
            self.singleWrite(context, actions: &actions) { (pending: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateCreate(
                    path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: r.ttl, context: context, pending: &pending)
            }
        case .delete(let r):
            self.singleWrite(context, actions: &actions) { (pending: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateDelete(path: r.path, version: r.version, context: context, pending: &pending)
            }
        case .setData(let r):
            self.singleWrite(context, actions: &actions) { (pending: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateSetData(path: r.path, data: r.data, version: r.version, context: context, pending: &pending)
            }
        case .setACL(let r):
            self.singleWrite(context, actions: &actions) { (pending: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateSetACL(path: r.path, acl: r.acl, version: r.version, context: context, pending: &pending)
            }
        case .reconfig(let r):
            let result = self.singleWrite(context, actions: &actions) { (_: inout PendingChanges, core: ServerCore) throws(Reject) -> TxnBody in
                try core.validateReconfig(r, context: context)
            }
            if case .setData = result { self.reconfigInFlight = true }
        case .check, .deleteContainer:
            // Not reachable: filtered by `clientOpCodes`.
            self.reply(context, err: .unimplemented)
            self.closeConnection(id, actions: &actions)

        case .multi(let multi):
            self.processMulti(multi, context, actions: &actions)

        case .multiRead(let multi):
            var results: [MultiResult] = []
            for operation in multi.operations {
                switch operation {
                case .getData(let r):
                    switch self.readNode(r.path, .read, context) {
                    case .success(let node): results.append(.getData(GetDataResponse(data: node.data, stat: self.tree.stat(of: node))))
                    case .failure(let reject): results.append(.error(reject.code.rawValue))
                    }
                case .getChildren(let r):
                    switch self.readNode(r.path, .read, context) {
                    case .success: results.append(.getChildren((self.tree.children(of: r.path) ?? []).sorted()))
                    case .failure(let reject): results.append(.error(reject.code.rawValue))
                    }
                case .create, .createTTL, .delete, .setData, .check:
                    results.append(.error(ZooKeeperError.Code.marshallingError.rawValue))
                }
            }
            self.reply(context, .multi(MultiResponse(results: results)))

        case .exists(let r):
            if r.path.utf8.contains(0) {
                self.reply(context, err: .badArguments)
                return
            }
            let node = self.tree.node(at: r.path)
            if let node, !self.checkACL(node.acl, .read, context) {
                self.reply(context, err: .noAuth)
                return
            }
            if r.watch { self.watches.add(.data, path: r.path, connection: id, mode: .standard) }
            if let node {
                self.reply(context, .stat(self.tree.stat(of: node)))
            } else {
                self.reply(context, err: .noNode)
            }
        case .getData(let r):
            switch self.readNode(r.path, .read, context) {
            case .success(let node):
                if r.watch { self.watches.add(.data, path: r.path, connection: id, mode: .standard) }
                self.reply(context, .getData(GetDataResponse(data: node.data, stat: self.tree.stat(of: node))))
            case .failure(let reject): self.reply(context, err: reject.code)
            }
        case .getChildren(let r), .getChildren2(let r):
            switch self.readNode(r.path, .read, context) {
            case .success(let node):
                if r.watch { self.watches.add(.child, path: r.path, connection: id, mode: .standard) }
                let children = (self.tree.children(of: r.path) ?? []).sorted()
                if case .getChildren = request {
                    self.reply(context, .getChildren(children))
                } else {
                    self.reply(context, .getChildren2(GetChildren2Response(children: children, stat: self.tree.stat(of: node))))
                }
            case .failure(let reject): self.reply(context, err: reject.code)
            }
        case .getACL(let r):
            switch self.readNode(r.path, [.read, .admin], context) {
            case .success(let node):
                let acl = self.checkACL(node.acl, .admin, context) ? node.acl : Authorization.masked(node.acl)
                self.reply(context, .getACL(GetACLResponse(acl: acl, stat: self.tree.stat(of: node))))
            case .failure(let reject): self.reply(context, err: reject.code)
            }
        case .getAllChildrenNumber(let r):
            switch self.readNode(r.path, .read, context) {
            case .success:
                self.reply(context, .getAllChildrenNumber(Int32(clamping: self.tree.allChildrenNumber(of: r.path) ?? 0)))
            case .failure(let reject): self.reply(context, err: reject.code)
            }
        case .getEphemerals(let r):
            let all = self.tree.ephemerals(of: context.sessionId)
            let prefix = r.path
            let paths = (prefix.isEmpty || prefix == "/") ? all.sorted() : all.filter { $0.hasPrefix(prefix) }.sorted()
            self.reply(context, .getEphemerals(paths))
        case .sync(let r):
            self.reply(context, .sync(r.path))
        case .whoAmI:
            self.reply(context, .whoAmI(Authorization.clientInfo(self.connections[id]?.authIds ?? [])))

        case .addWatch(let r):
            switch r.mode {
            case AddWatchMode.persistent.rawValue:
                self.watches.add(.data, path: r.path, connection: id, mode: .persistent)
                self.watches.add(.child, path: r.path, connection: id, mode: .persistent)
            case AddWatchMode.persistentRecursive.rawValue:
                self.watches.add(.data, path: r.path, connection: id, mode: .persistentRecursive)
            default:
                self.reply(context, err: .marshallingError)
                return
            }
            self.reply(context, .addWatch(ErrorResponse(err: 0)))
        case .checkWatches(let r), .removeWatches(let r):
            let remove: Bool
            if case .removeWatches = request { remove = true } else { remove = false }
            guard let type = WatcherType(rawValue: r.type) else {
                self.reply(context, err: .marshallingError)
                return
            }
            let found = self.watchCheck(path: r.path, type: type, connection: id, remove: remove)
            self.reply(context, err: found ? .ok : .noWatcher)
        case .setWatches(let r):
            self.setWatches(
                relativeZxid: r.relativeZxid, data: r.dataWatches, exist: r.existWatches, child: r.childWatches,
                persistent: [], recursive: [], connection: id)
            self.reply(context)
        case .setWatches2(let r):
            self.setWatches(
                relativeZxid: r.relativeZxid, data: r.dataWatches, exist: r.existWatches, child: r.childWatches,
                persistent: r.persistentWatches, recursive: r.persistentRecursiveWatches, connection: id)
            self.reply(context)

        case .closeSession:
            self.closeSessionTransaction(context.sessionId, cxid: context.xid, now: context.now, actions: &actions)
            self.reply(context, zxid: self.lastZxid)
            self.connections[id]?.sessionId = nil
            self.closeConnection(id, actions: &actions)
        }
    }

    func readNode(_ path: String, _ permission: Permissions, _ context: RequestContext) -> Result<DataNode, Reject> {
        guard let node = self.tree.node(at: path) else { return .failure(Reject(.noNode)) }
        guard self.checkACL(node.acl, permission, context) else { return .failure(Reject(.noAuth)) }
        return .success(node)
    }

    // MARK: Writes

    @discardableResult
    mutating func singleWrite(
        _ context: RequestContext, actions: inout [ServerAction],
        _ validate: (inout PendingChanges, ServerCore) throws(Reject) -> TxnBody
    ) -> TxnResult {
        let body: TxnBody
        let type: OpCode
        do {
            // `pending` shares the tree's storage: it must be gone before the commit mutates the
            // tree, or the whole tree would be copied on every write.
            var pending = PendingChanges(tree: self.tree)
            do {
                body = try validate(&pending, self)
                type = context.opCode
            } catch {
                body = .error(error.code)
                type = .error
            }
        }
        let (zxid, result) = self.commitReturningResult(
            body, type: type, sessionId: context.sessionId, cxid: context.xid, now: context.now, actions: &actions)
        switch result {
        case .error(let code):
            self.reply(context, zxid: zxid, err: code)
        case .create(let path, let stat):
            if context.opCode == .create {
                self.reply(context, zxid: zxid, .create(CreateResponse(path: path)))
            } else {
                self.reply(context, zxid: zxid, .create2(Create2Response(path: path, stat: stat)))
            }
        case .delete, .check, .createSession, .closeSession, .multi:
            self.reply(context, zxid: zxid)
        case .setData(let stat) where context.opCode == .reconfig:
            let data = self.tree.node(at: DataTree.configPath)?.data ?? []
            self.reply(context, zxid: zxid, .getData(GetDataResponse(data: data, stat: stat)))
        case .setData(let stat), .setACL(let stat):
            self.reply(context, zxid: zxid, .stat(stat))
        }
        return result
    }

    mutating func processMulti(_ multi: MultiRequest, _ context: RequestContext, actions: inout [ServerAction]) {
        var subs: [TxnBody.SubTxn] = []
        var failure: (index: Int, code: ZooKeeperError.Code)?
        // As in singleWrite, `pending` (which shares the tree's storage) ends before the commit.
        do {
            var pending = PendingChanges(tree: self.tree)
            for (index, operation) in multi.operations.enumerated() {
                do throws(Reject) {
                    let body: TxnBody
                    switch operation {
                    case .create(let r, _):
                        body = try self.validateCreate(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: -1, context: context, pending: &pending)
                    case .createTTL(let r):
                        body = try self.validateCreate(path: r.path, data: r.data, acl: r.acl, flags: r.flags, ttl: r.ttl, context: context, pending: &pending)
                    case .delete(let r):
                        body = try self.validateDelete(path: r.path, version: r.version, context: context, pending: &pending)
                    case .setData(let r):
                        body = try self.validateSetData(path: r.path, data: r.data, version: r.version, context: context, pending: &pending)
                    case .check(let r):
                        body = try self.validateCheck(path: r.path, version: r.version, context: context, pending: &pending)
                    case .getData, .getChildren:
                        throw Reject(.marshallingError)
                    }
                    subs.append(.init(type: operation.opCode, body: body))
                } catch {
                    failure = (index, error.code)
                    break
                }
            }
        }
        let body: TxnBody
        if let failure {
            body = .multi(multi.operations.indices.map { index in
                let code: ZooKeeperError.Code =
                    index < failure.index ? .ok : index == failure.index ? failure.code : .runtimeInconsistency
                return .init(type: .error, body: .error(code))
            })
        } else {
            body = .multi(subs)
        }
        let (zxid, result) = self.commitReturningResult(
            body, type: .multi, sessionId: context.sessionId, cxid: context.xid, now: context.now, actions: &actions)
        guard case .multi(let results) = result else { preconditionFailure("a multi transaction yields multi results") }
        var multiResults: [MultiResult] = []
        for (operation, result) in zip(multi.operations, results) {
            switch result {
            case .create(let path, let stat):
                if operation.opCode == .create {
                    multiResults.append(.create(CreateResponse(path: path)))
                } else {
                    multiResults.append(.create2(Create2Response(path: path, stat: stat)))
                }
            case .delete: multiResults.append(.delete)
            case .setData(let stat): multiResults.append(.setData(stat))
            case .check: multiResults.append(.check)
            case .error(let code): multiResults.append(.error(code.rawValue))
            case .setACL, .createSession, .closeSession, .multi:
                multiResults.append(.error(ZooKeeperError.Code.runtimeInconsistency.rawValue))
            }
        }
        self.reply(context, zxid: zxid, .multi(MultiResponse(results: multiResults)))
    }

    static func sequenceSuffix(_ value: Int32) -> String {
        if value < 0 {
            let digits = String(-Int64(value))
            return "-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
        }
        let digits = String(value)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    static func checkVersion(_ current: Int32, expected: Int32) throws(Reject) -> Int32 {
        guard expected == -1 || expected == current else { throw Reject(.badVersion) }
        return current &+ 1
    }

    func validateCreate(
        path requestedPath: String, data: [UInt8]?, acl: [ACL], flags: Int32, ttl: Int64, context: RequestContext,
        pending: inout PendingChanges
    ) throws(Reject) -> TxnBody {
        guard let mode = CreateMode(rawValue: flags) else { throw Reject(.badArguments) }
        if mode.isTTL && !self.configuration.extendedTypesEnabled { throw Reject(.unimplemented) }
        if mode.isTTL {
            guard ttl > 0 && ttl <= NodeKind.maximumTTL else { throw Reject(.badArguments) }
        } else {
            guard ttl < 0 else { throw Reject(.badArguments) }
        }
        guard requestedPath.utf8.contains(UInt8(ascii: "/")), !requestedPath.utf8.contains(0) else {
            throw Reject(.badArguments)
        }
        let authIds = self.connections[context.connection]?.authIds ?? []
        guard let fixedACL = Authorization.fixup(acl, authIds: authIds, digestEnabled: self.configuration.digestAuthenticationEnabled)
        else { throw Reject(.invalidACL) }
        let parentPath = ZooKeeperPath.parent(of: requestedPath)
        guard var parent = pending.get(parentPath) else { throw Reject(.noNode) }
        guard self.checkACL(parent.acl, .create, context) else { throw Reject(.noAuth) }
        let path = mode.isSequential ? requestedPath + Self.sequenceSuffix(parent.childCreates) : requestedPath
        guard ZooKeeperPath.validationError(path) == nil else { throw Reject(.badArguments) }
        guard pending.get(path) == nil else { throw Reject(.nodeExists) }
        if case .ephemeral = NodeKind(owner: parent.owner, extendedTypesEnabled: self.configuration.extendedTypesEnabled) {
            throw Reject(.noChildrenForEphemerals)
        }
        try self.checkQuota(path: path, lastData: nil, data: data, isCreate: true)
        let owner: Int64
        switch mode {
        case .ephemeral, .ephemeralSequential: owner = context.sessionId
        case .container: owner = NodeKind.containerOwner
        case .persistentWithTTL, .persistentSequentialWithTTL: owner = NodeKind.ttlOwner(ttl)
        case .persistent, .persistentSequential: owner = 0
        }
        parent.childCreates &+= 1
        parent.numChildren += 1
        pending.set(parentPath, parent)
        pending.set(path, NodeState(acl: fixedACL, owner: owner, data: data))
        return .create(path: path, data: data, acl: fixedACL, ephemeralOwner: owner, parentCVersion: parent.childCreates)
    }

    func validateDelete(path: String, version: Int32, context: RequestContext, pending: inout PendingChanges) throws(Reject) -> TxnBody {
        guard path.utf8.contains(UInt8(ascii: "/")), !path.utf8.contains(0), !DataTree.specialPaths.contains(path) else {
            throw Reject(.badArguments)
        }
        let parentPath = ZooKeeperPath.parent(of: path)
        guard var parent = pending.get(parentPath) else { throw Reject(.noNode) }
        guard self.checkACL(parent.acl, .delete, context) else { throw Reject(.noAuth) }
        guard let node = pending.get(path) else { throw Reject(.noNode) }
        _ = try Self.checkVersion(node.version, expected: version)
        guard node.numChildren == 0 else { throw Reject(.notEmpty) }
        parent.numChildren -= 1
        pending.set(parentPath, parent)
        pending.set(path, nil)
        return .delete(path: path)
    }

    func validateSetData(path: String, data: [UInt8]?, version: Int32, context: RequestContext, pending: inout PendingChanges) throws(Reject) -> TxnBody {
        guard ZooKeeperPath.validationError(path) == nil else { throw Reject(.badArguments) }
        guard var node = pending.get(path) else { throw Reject(.noNode) }
        guard self.checkACL(node.acl, .write, context) else { throw Reject(.noAuth) }
        try self.checkQuota(path: path, lastData: node.data, data: data, isCreate: false)
        let newVersion = try Self.checkVersion(node.version, expected: version)
        node.version = newVersion
        node.data = data
        pending.set(path, node)
        return .setData(path: path, data: data, version: newVersion)
    }

    /// ZooKeeperServer.checkQuota, when `enforceQuota` is set: a create (one more node, its data)
    /// or setData (the change in data length) under a quota whose hard limit it would pass is
    /// refused with QUOTAEXCEEDED. The usage is the committed one (the stats node), not counting
    /// earlier operations of the same multi, as in ZooKeeper. A soft limit is not enforced
    /// (ZooKeeper only logs it). A limit applies whenever the new total is above it, so a write
    /// that shrinks data under a quota already over its hard byte limit is refused too.
    func checkQuota(path: String, lastData: [UInt8]?, data: [UInt8]?, isCreate: Bool) throws(Reject) {
        guard self.configuration.enforceQuota, let lastPrefix = self.tree.maxPrefixWithQuota(path) else { return }
        let countDiff: Int64 = isCreate ? 1 : 0
        let bytesDiff = Int64(data?.count ?? 0) - Int64(lastData?.count ?? 0)
        guard let limitNode = self.tree.node(at: Quotas.limitPath(lastPrefix)) else { return }
        let limits = StatsTrack(limitNode.data)
        let checkCount = countDiff != 0 && (limits.count > -1 || limits.countHardLimit > -1)
        let checkBytes = bytesDiff != 0 && (limits.bytes > -1 || limits.byteHardLimit > -1)
        guard checkCount || checkBytes else { return }
        guard let statNode = self.tree.node(at: Quotas.statPath(lastPrefix)) else { return }
        let current = StatsTrack(statNode.data)
        if checkCount, limits.countHardLimit > -1, current.count &+ countDiff > limits.countHardLimit {
            throw Reject(.quotaExceeded)
        }
        if checkBytes, limits.byteHardLimit > -1, current.bytes &+ bytesDiff > limits.byteHardLimit {
            throw Reject(.quotaExceeded)
        }
    }

    func validateSetACL(path: String, acl: [ACL], version: Int32, context: RequestContext, pending: inout PendingChanges) throws(Reject) -> TxnBody {
        guard ZooKeeperPath.validationError(path) == nil else { throw Reject(.badArguments) }
        let authIds = self.connections[context.connection]?.authIds ?? []
        guard let fixedACL = Authorization.fixup(acl, authIds: authIds, digestEnabled: self.configuration.digestAuthenticationEnabled)
        else { throw Reject(.invalidACL) }
        guard var node = pending.get(path) else { throw Reject(.noNode) }
        guard self.checkACL(node.acl, .admin, context) else { throw Reject(.noAuth) }
        let newVersion = try Self.checkVersion(node.aversion, expected: version)
        node.aversion = newVersion
        node.acl = fixedACL
        pending.set(path, node)
        return .setACL(path: path, acl: fixedACL, version: newVersion)
    }

    func validateCheck(path: String, version: Int32, context: RequestContext, pending: inout PendingChanges) throws(Reject) -> TxnBody {
        guard ZooKeeperPath.validationError(path) == nil else { throw Reject(.badArguments) }
        guard let node = pending.get(path) else { throw Reject(.noNode) }
        guard self.checkACL(node.acl, .read, context) else { throw Reject(.noAuth) }
        _ = try Self.checkVersion(node.version, expected: version)
        return .check(path: path, version: version)
    }

    // MARK: Watches

    mutating func watchCheck(path: String, type: WatcherType, connection: ConnectionID, remove: Bool) -> Bool {
        let targets: [(WatchTable, WatchModes?)]
        switch type {
        case .children: targets = [(.child, .standard)]
        case .data: targets = [(.data, .standard)]
        case .any: targets = [(.data, nil), (.child, nil)]
        case .persistent: targets = [(.data, .persistent), (.child, .persistent)]
        case .persistentRecursive: targets = [(.data, .persistentRecursive)]
        }
        var found = false
        for (table, modes) in targets {
            let held = self.watches.modes(table, path: path, connection: connection)
            let matching = modes.map { held.intersection($0) } ?? held
            if !matching.isEmpty {
                found = true
                if remove { self.watches.remove(table, path: path, connection: connection, modes: modes) }
            }
        }
        return found
    }

    mutating func setWatches(
        relativeZxid: Int64, data: [String], exist: [String], child: [String], persistent: [String], recursive: [String],
        connection: ConnectionID
    ) {
        for path in data {
            if let node = self.tree.node(at: path) {
                if node.mzxid > relativeZxid {
                    self.notify([connection], .nodeDataChanged, path, nil, zxid: -1)
                } else {
                    self.watches.add(.data, path: path, connection: connection, mode: .standard)
                }
            } else {
                self.notify([connection], .nodeDeleted, path, nil, zxid: -1)
            }
        }
        for path in exist {
            if self.tree.node(at: path) != nil {
                self.notify([connection], .nodeCreated, path, nil, zxid: -1)
            } else {
                self.watches.add(.data, path: path, connection: connection, mode: .standard)
            }
        }
        for path in child {
            if let node = self.tree.node(at: path) {
                if node.pzxid > relativeZxid {
                    self.notify([connection], .nodeChildrenChanged, path, nil, zxid: -1)
                } else {
                    self.watches.add(.child, path: path, connection: connection, mode: .standard)
                }
            } else {
                self.notify([connection], .nodeDeleted, path, nil, zxid: -1)
            }
        }
        for path in persistent {
            self.watches.add(.data, path: path, connection: connection, mode: .persistent)
            self.watches.add(.child, path: path, connection: connection, mode: .persistent)
        }
        for path in recursive {
            self.watches.add(.data, path: path, connection: connection, mode: .persistentRecursive)
        }
    }

    // MARK: Authentication

    mutating func handleAuth(_ packet: AuthPacket, _ context: RequestContext, actions: inout [ServerAction]) {
        let id = context.connection
        var newIds: [Id]? = nil
        switch packet.scheme {
        case "digest" where self.configuration.digestAuthenticationEnabled:
            let digest = Authorization.digest(String(decoding: packet.auth, as: UTF8.self))
            newIds = [Id(scheme: "digest", id: digest)]
            if let superDigest = self.configuration.superDigest, digest == superDigest {
                newIds!.append(Id(scheme: "super", id: ""))
            }
        case "ip":
            newIds = []
        default:
            newIds = nil
        }
        var buffer = self.allocator.buffer(capacity: 20)
        if let newIds {
            for newId in newIds where self.connections[id]?.authIds.contains(newId) == false {
                self.connections[id]?.authIds.append(newId)
            }
            buffer.writeReplyFrame(header: ReplyHeader(xid: SpecialXid.auth, zxid: 0, err: 0), response: nil)
            self.hold(.send(id, buffer), tag: self.lastZxid, connection: id)
        } else {
            buffer.writeReplyFrame(
                header: ReplyHeader(xid: SpecialXid.auth, zxid: 0, err: ZooKeeperError.Code.authFailed.rawValue), response: nil)
            self.hold(.send(id, buffer), tag: self.lastZxid, connection: id)
            self.closeConnection(id, actions: &actions)
        }
    }

    mutating func handleSASL(_ request: GetSASLRequest, _ context: RequestContext, actions: inout [ServerAction]) {
        let id = context.connection
        var server = self.connections[id]?.sasl
            ?? SASLDigestServer(users: self.configuration.saslDigestUsers, nonce: Base64.encode(self.randomBytes(24)))
        switch server.step(request.token) {
        case .challenge(let token):
            self.connections[id]?.sasl = server
            self.saslReply(context, err: .ok, token: token)
        case .success(let token, let user):
            self.connections[id]?.sasl = server
            let newId = Id(scheme: "sasl", id: user)
            if self.connections[id]?.authIds.contains(newId) == false { self.connections[id]?.authIds.append(newId) }
            self.saslReply(context, err: .ok, token: token)
        case .failure:
            self.connections[id]?.sasl = nil
            self.saslReply(context, err: .authFailed, token: nil)
            self.closeConnection(id, actions: &actions)
        }
    }

    mutating func saslReply(_ context: RequestContext, err: ZooKeeperError.Code, token: [UInt8]?) {
        var buffer = self.allocator.buffer(capacity: 64)
        buffer.writeReplyFrame(
            header: ReplyHeader(xid: context.xid, zxid: 0, err: err.rawValue), response: .sasl(SetSASLResponse(token: token)))
        self.hold(.send(context.connection, buffer), tag: self.lastZxid, connection: context.connection, receivedAt: context.receivedAt)
    }
}
