import Testing

@testable import ZooKeeperProtocol

/// protocol.md §9, the complete list.
let errorCodeTable: [(Int32, String)] = [
    (0, "OK"), (-1, "SYSTEMERROR"), (-2, "RUNTIMEINCONSISTENCY"), (-3, "DATAINCONSISTENCY"), (-4, "CONNECTIONLOSS"),
    (-5, "MARSHALLINGERROR"), (-6, "UNIMPLEMENTED"), (-7, "OPERATIONTIMEOUT"), (-8, "BADARGUMENTS"),
    (-12, "UNKNOWNSESSION"), (-13, "NEWCONFIGNOQUORUM"), (-14, "RECONFIGINPROGRESS"), (-100, "APIERROR"),
    (-101, "NONODE"), (-102, "NOAUTH"), (-103, "BADVERSION"), (-108, "NOCHILDRENFOREPHEMERALS"), (-110, "NODEEXISTS"),
    (-111, "NOTEMPTY"), (-112, "SESSIONEXPIRED"), (-113, "INVALIDCALLBACK"), (-114, "INVALIDACL"), (-115, "AUTHFAILED"),
    (-118, "SESSIONMOVED"), (-119, "NOTREADONLY"), (-120, "EPHEMERALONLOCALSESSION"), (-121, "NOWATCHER"),
    (-122, "REQUESTTIMEOUT"), (-123, "RECONFIGDISABLED"), (-124, "SESSIONCLOSEDREQUIRESASLAUTH"),
    (-125, "QUOTAEXCEEDED"), (-127, "THROTTLEDOP"),
]

/// protocol.md §5 with `Request.op2String` names.
let opCodeTable: [(Int32, String)] = [
    (0, "notification"), (1, "create"), (2, "delete"), (3, "exists"), (4, "getData"), (5, "setData"), (6, "getACL"),
    (7, "setACL"), (8, "getChildren"), (9, "sync"), (11, "ping"), (12, "getChildren2"), (13, "check"), (14, "multi"),
    (15, "create2"), (16, "reconfig"), (17, "checkWatches"), (18, "removeWatches"), (19, "createContainer"),
    (20, "deleteContainer"), (21, "createTTL"), (22, "multiRead"), (100, "auth"), (101, "setWatches"), (102, "sasl"),
    (103, "getEphemerals"), (104, "getAllChildrenNumber"), (105, "setWatches2"), (106, "addWatch"), (107, "whoAmI"),
    (-10, "createSession"), (-11, "closeSession"), (-1, "error"),
]

@Suite("ZooKeeperError")
struct ZooKeeperErrorTests {
    @Test("every defined code has a name and an explanation", arguments: ZooKeeperError.Code.allDefined)
    func definedCode(_ code: ZooKeeperError.Code) {
        #expect(!code.name.isEmpty)
        #expect(!code.name.hasPrefix("UNKNOWN("))
        #expect(!code.explanation.isEmpty)
        #expect(code.explanation != "unknown error")
        #expect(code.description == code.name)
        #expect(ZooKeeperError(code).description == "\(code.explanation) (\(code.name))")
    }

    @Test func allDefinedMatchesTheProtocolTable() {
        #expect(ZooKeeperError.Code.allDefined.map(\.rawValue) == errorCodeTable.map(\.0))
        #expect(ZooKeeperError.Code.allDefined.map(\.name) == errorCodeTable.map(\.1))
        #expect(Set(ZooKeeperError.Code.allDefined).count == 32)
        #expect(Set(ZooKeeperError.Code.allDefined.map(\.explanation)).count == 32, "explanations should be distinct")
    }

    @Test func namedConstantsHaveTheServerValues() {
        let constants: [(ZooKeeperError.Code, Int32)] = [
            (.ok, 0), (.systemError, -1), (.runtimeInconsistency, -2), (.dataInconsistency, -3), (.connectionLoss, -4),
            (.marshallingError, -5), (.unimplemented, -6), (.operationTimeout, -7), (.badArguments, -8),
            (.unknownSession, -12), (.newConfigNoQuorum, -13), (.reconfigInProgress, -14), (.apiError, -100),
            (.noNode, -101), (.noAuth, -102), (.badVersion, -103), (.noChildrenForEphemerals, -108), (.nodeExists, -110),
            (.notEmpty, -111), (.sessionExpired, -112), (.invalidCallback, -113), (.invalidACL, -114), (.authFailed, -115),
            (.sessionMoved, -118), (.notReadOnly, -119), (.ephemeralOnLocalSession, -120), (.noWatcher, -121),
            (.requestTimeout, -122), (.reconfigDisabled, -123), (.sessionClosedRequireSASLAuth, -124),
            (.quotaExceeded, -125), (.throttledOp, -127),
        ]
        #expect(constants.count == ZooKeeperError.Code.allDefined.count)
        for (code, raw) in constants {
            #expect(code.rawValue == raw)
            #expect(ZooKeeperError.Code.allDefined.contains(code))
        }
    }

    @Test func descriptionFormat() {
        #expect(ZooKeeperError(.noNode, path: "/a/b").description == "/a/b: node does not exist (NONODE)")
        #expect(ZooKeeperError(.noNode).description == "node does not exist (NONODE)")
        #expect(ZooKeeperError(.nodeExists, path: "/x").description == "/x: node already exists (NODEEXISTS)")
        #expect(ZooKeeperError(.connectionLoss, detail: "connection reset by peer").description
            == "connection lost (CONNECTIONLOSS): connection reset by peer")
        #expect(ZooKeeperError(.badVersion, path: "/v", detail: "expected 3").description
            == "/v: version does not match (BADVERSION): expected 3")
        #expect(ZooKeeperError(.noAuth, path: "/p", detail: "").description == "/p: not authorized (NOAUTH)")
        #expect("\(ZooKeeperError(.notEmpty, path: "/n"))" == "/n: node has children (NOTEMPTY)")
    }

    @Test("unknown codes format as UNKNOWN(n)", arguments: [-9, -10, -11, -104, -105, -106, -107, -109, -116, -117, -126, -128, 1, 999, Int32.min] as [Int32])
    func unknownCode(_ raw: Int32) {
        let code = ZooKeeperError.Code(rawValue: raw)
        #expect(code.name == "UNKNOWN(\(raw))")
        #expect(code.explanation == "unknown error")
        #expect(!ZooKeeperError.Code.allDefined.contains(code))
        #expect(ZooKeeperError(code, path: "/a").description == "/a: unknown error (UNKNOWN(\(raw)))")
    }

    @Test func withPathAndEquality() {
        let error = ZooKeeperError(.noNode, detail: "d")
        let withPath = error.withPath("/a")
        #expect(withPath.path == "/a")
        #expect(withPath.code == .noNode)
        #expect(withPath.detail == "d")
        #expect(error.path == nil)
        #expect(withPath.withPath(nil) == error)
        #expect(ZooKeeperError(.noNode) != ZooKeeperError(.noAuth))
        #expect(ZooKeeperError.Code(rawValue: -101) == .noNode)
    }
}

@Suite("Op codes and constants")
struct CodesTests {
    @Test func opCodeNamesMatchTheProtocolTable() {
        #expect(OpCode.allDefined.map(\.rawValue) == opCodeTable.map(\.0))
        #expect(OpCode.allDefined.map(\.name) == opCodeTable.map(\.1))
        #expect(Set(OpCode.allDefined).count == 33)
        for op in OpCode.allDefined {
            #expect(op.description == op.name)
        }
    }

    @Test func namedOpCodeConstants() {
        let constants: [(OpCode, Int32)] = [
            (.notification, 0), (.create, 1), (.delete, 2), (.exists, 3), (.getData, 4), (.setData, 5), (.getACL, 6),
            (.setACL, 7), (.getChildren, 8), (.sync, 9), (.ping, 11), (.getChildren2, 12), (.check, 13), (.multi, 14),
            (.create2, 15), (.reconfig, 16), (.checkWatches, 17), (.removeWatches, 18), (.createContainer, 19),
            (.deleteContainer, 20), (.createTTL, 21), (.multiRead, 22), (.auth, 100), (.setWatches, 101), (.sasl, 102),
            (.getEphemerals, 103), (.getAllChildrenNumber, 104), (.setWatches2, 105), (.addWatch, 106), (.whoAmI, 107),
            (.createSession, -10), (.closeSession, -11), (.error, -1),
        ]
        for (op, raw) in constants { #expect(op.rawValue == raw) }
    }

    @Test("codes with no op are unknown", arguments: [10, 23, 24, 99, 108, -2, -9, -12, 1000] as [Int32])
    func unknownOpCodes(_ raw: Int32) {
        #expect(OpCode(rawValue: raw).name == "unknown(\(raw))")
        #expect(!OpCode.allDefined.contains(OpCode(rawValue: raw)))
    }

    @Test func writeOpCodes() {
        // §14.1: the transaction types, plus check (a write inside multi).
        let writes: Set<OpCode> = [
            .create, .create2, .createContainer, .createTTL, .delete, .deleteContainer, .setData, .setACL, .reconfig,
            .multi, .check, .createSession, .closeSession,
        ]
        for op in OpCode.allDefined {
            #expect(op.isWrite == writes.contains(op), "\(op)")
        }
    }

    @Test func specialXids() {
        #expect(SpecialXid.notification == -1)
        #expect(SpecialXid.ping == -2)
        #expect(SpecialXid.auth == -4)
        #expect(SpecialXid.setWatches == -8)
    }

    @Test func eventTypes() {
        let table: [(EventType, Int32, String)] = [
            (.none, -1, "None"), (.nodeCreated, 1, "NodeCreated"), (.nodeDeleted, 2, "NodeDeleted"),
            (.nodeDataChanged, 3, "NodeDataChanged"), (.nodeChildrenChanged, 4, "NodeChildrenChanged"),
            (.dataWatchRemoved, 5, "DataWatchRemoved"), (.childWatchRemoved, 6, "ChildWatchRemoved"),
            (.persistentWatchRemoved, 7, "PersistentWatchRemoved"),
        ]
        for (type, raw, name) in table {
            #expect(type.rawValue == raw)
            #expect(type.name == name)
            #expect(type.description == name)
        }
        #expect(EventType(rawValue: 0).name == "Unknown(0)")
        #expect(EventType(rawValue: 8).name == "Unknown(8)")
    }

    @Test func keeperStates() {
        let table: [(KeeperState, Int32, String)] = [
            (.unknown, -1, "Unknown"), (.disconnected, 0, "Disconnected"), (.noSyncConnected, 1, "NoSyncConnected"),
            (.syncConnected, 3, "SyncConnected"), (.authFailed, 4, "AuthFailed"), (.connectedReadOnly, 5, "ConnectedReadOnly"),
            (.saslAuthenticated, 6, "SaslAuthenticated"), (.closed, 7, "Closed"), (.expired, -112, "Expired"),
        ]
        for (state, raw, name) in table {
            #expect(state.rawValue == raw)
            #expect(state.name == name)
        }
        #expect(KeeperState(rawValue: 2).name == "Unknown(2)")
    }

    @Test func watcherTypesAndAddWatchModes() {
        #expect(WatcherType.allCases.map(\.rawValue) == [1, 2, 3, 4, 5])
        #expect(WatcherType.children.rawValue == 1 && WatcherType.data.rawValue == 2 && WatcherType.any.rawValue == 3)
        #expect(WatcherType.persistent.rawValue == 4 && WatcherType.persistentRecursive.rawValue == 5)
        #expect(AddWatchMode.persistent.rawValue == 0 && AddWatchMode.persistentRecursive.rawValue == 1)
        #expect(AddWatchMode.allCases.count == 2)
    }

    @Test func createModes() {
        // §13.3: flag, ephemeral, sequential, container, TTL.
        let table: [(CreateMode, Int32, Bool, Bool, Bool, Bool)] = [
            (.persistent, 0, false, false, false, false),
            (.ephemeral, 1, true, false, false, false),
            (.persistentSequential, 2, false, true, false, false),
            (.ephemeralSequential, 3, true, true, false, false),
            (.container, 4, false, false, true, false),
            (.persistentWithTTL, 5, false, false, false, true),
            (.persistentSequentialWithTTL, 6, false, true, false, true),
        ]
        #expect(CreateMode.allCases.count == table.count)
        for (mode, flag, ephemeral, sequential, container, ttl) in table {
            #expect(mode.rawValue == flag)
            #expect(CreateMode(rawValue: flag) == mode)
            #expect(mode.isEphemeral == ephemeral, "\(mode)")
            #expect(mode.isSequential == sequential, "\(mode)")
            #expect(mode.isContainer == container, "\(mode)")
            #expect(mode.isTTL == ttl, "\(mode)")
            #expect(CreateMode(ephemeral: ephemeral, sequential: sequential, container: container, ttl: ttl) == mode)
        }
        #expect(CreateMode(rawValue: 7) == nil)
        #expect(CreateMode(rawValue: -1) == nil)
        #expect(CreateMode(ephemeral: true, sequential: false, container: false, ttl: true) == nil)
        #expect(CreateMode(ephemeral: true, sequential: false, container: true, ttl: false) == nil)
        #expect(CreateMode(ephemeral: false, sequential: true, container: true, ttl: false) == nil)
        #expect(CreateMode(ephemeral: false, sequential: false, container: true, ttl: true) == nil)
    }

    @Test func permissions() {
        #expect(Permissions.read.rawValue == 1)
        #expect(Permissions.write.rawValue == 2)
        #expect(Permissions.create.rawValue == 4)
        #expect(Permissions.delete.rawValue == 8)
        #expect(Permissions.admin.rawValue == 16)
        #expect(Permissions.all.rawValue == 31)
        #expect(Permissions.all.letters == "cdrwa")
        #expect(Permissions([.read, .admin]).letters == "ra")
        #expect(Permissions([]).letters == "")
        #expect(Permissions(letters: "rwa") == [.read, .write, .admin])
        #expect(Permissions(letters: "ADCRW") == .all)
        #expect(Permissions(letters: "") == [])
        #expect(Permissions(letters: "rx") == nil)
        #expect(Permissions(rawValue: 17).description == "ra")
    }

    @Test func wellKnownIdsAndACLs() {
        #expect(Id.anyone == Id(scheme: "world", id: "anyone"))
        #expect(Id.authenticated == Id(scheme: "auth", id: ""))
        #expect(Id.anyone.description == "world:anyone")
        #expect(ACL.openUnsafe == [ACL(permissions: .all, id: .anyone)])
        #expect(ACL.creatorAll == [ACL(permissions: .all, id: .authenticated)])
        #expect(ACL.readUnsafe == [ACL(permissions: .read, id: .anyone)])
        #expect(ACL(permissions: [.read, .write], id: Sample.digestId).description == "digest:user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=:rw")
    }
}
