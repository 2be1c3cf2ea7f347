/// A ZooKeeper operation code, the `type` field of a `RequestHeader` (`ZooDefs.OpCode`).
public struct OpCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let notification = OpCode(rawValue: 0)
    public static let create = OpCode(rawValue: 1)
    public static let delete = OpCode(rawValue: 2)
    public static let exists = OpCode(rawValue: 3)
    public static let getData = OpCode(rawValue: 4)
    public static let setData = OpCode(rawValue: 5)
    public static let getACL = OpCode(rawValue: 6)
    public static let setACL = OpCode(rawValue: 7)
    public static let getChildren = OpCode(rawValue: 8)
    public static let sync = OpCode(rawValue: 9)
    public static let ping = OpCode(rawValue: 11)
    public static let getChildren2 = OpCode(rawValue: 12)
    public static let check = OpCode(rawValue: 13)
    public static let multi = OpCode(rawValue: 14)
    public static let create2 = OpCode(rawValue: 15)
    public static let reconfig = OpCode(rawValue: 16)
    public static let checkWatches = OpCode(rawValue: 17)
    public static let removeWatches = OpCode(rawValue: 18)
    public static let createContainer = OpCode(rawValue: 19)
    public static let deleteContainer = OpCode(rawValue: 20)
    public static let createTTL = OpCode(rawValue: 21)
    public static let multiRead = OpCode(rawValue: 22)
    public static let auth = OpCode(rawValue: 100)
    public static let setWatches = OpCode(rawValue: 101)
    public static let sasl = OpCode(rawValue: 102)
    public static let getEphemerals = OpCode(rawValue: 103)
    public static let getAllChildrenNumber = OpCode(rawValue: 104)
    public static let setWatches2 = OpCode(rawValue: 105)
    public static let addWatch = OpCode(rawValue: 106)
    public static let whoAmI = OpCode(rawValue: 107)
    public static let createSession = OpCode(rawValue: -10)
    public static let closeSession = OpCode(rawValue: -11)
    public static let error = OpCode(rawValue: -1)

    /// Every op code ZooKeeper defines, in numeric order of the wire table.
    public static let allDefined: [OpCode] = [
        .notification, .create, .delete, .exists, .getData, .setData, .getACL, .setACL, .getChildren, .sync,
        .ping, .getChildren2, .check, .multi, .create2, .reconfig, .checkWatches, .removeWatches,
        .createContainer, .deleteContainer, .createTTL, .multiRead, .auth, .setWatches, .sasl,
        .getEphemerals, .getAllChildrenNumber, .setWatches2, .addWatch, .whoAmI, .createSession,
        .closeSession, .error,
    ]

    /// The name ZooKeeper's `Request.op2String` uses.
    public var name: String {
        switch self.rawValue {
        case 0: return "notification"
        case 1: return "create"
        case 2: return "delete"
        case 3: return "exists"
        case 4: return "getData"
        case 5: return "setData"
        case 6: return "getACL"
        case 7: return "setACL"
        case 8: return "getChildren"
        case 9: return "sync"
        case 11: return "ping"
        case 12: return "getChildren2"
        case 13: return "check"
        case 14: return "multi"
        case 15: return "create2"
        case 16: return "reconfig"
        case 17: return "checkWatches"
        case 18: return "removeWatches"
        case 19: return "createContainer"
        case 20: return "deleteContainer"
        case 21: return "createTTL"
        case 22: return "multiRead"
        case 100: return "auth"
        case 101: return "setWatches"
        case 102: return "sasl"
        case 103: return "getEphemerals"
        case 104: return "getAllChildrenNumber"
        case 105: return "setWatches2"
        case 106: return "addWatch"
        case 107: return "whoAmI"
        case -10: return "createSession"
        case -11: return "closeSession"
        case -1: return "error"
        default: return "unknown(\(self.rawValue))"
        }
    }

    /// Whether the op changes the tree (and so takes a zxid on the server).
    public var isWrite: Bool {
        switch self {
        case .create, .create2, .createContainer, .createTTL, .delete, .deleteContainer, .setData, .setACL,
             .reconfig, .multi, .check, .createSession, .closeSession:
            return true
        default:
            return false
        }
    }

    public var description: String { self.name }
}

/// Special xids that mark frames that are not replies to ordinary requests.
public enum SpecialXid {
    /// A watch notification (server to client).
    public static let notification: Int32 = -1
    /// A ping and its reply.
    public static let ping: Int32 = -2
    /// An authentication packet and its reply.
    public static let auth: Int32 = -4
    /// SetWatches as the C client sends it.
    public static let setWatches: Int32 = -8
}
