import NIOCore

/// An identity: a scheme and an id within it (`world:anyone`, `digest:user:hash`, `ip:10.0.0.0/8`).
public struct Id: JuteRecord, CustomStringConvertible {
    public var scheme: String
    public var id: String

    public init(scheme: String, id: String) {
        self.scheme = scheme
        self.id = id
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.scheme = try buffer.decodeJuteStringNonNull("scheme")
        self.id = try buffer.decodeJuteStringNonNull("id")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.scheme)
        buffer.writeJuteString(self.id)
    }

    /// `world:anyone`.
    public static let anyone = Id(scheme: "world", id: "anyone")
    /// `auth:`: every identity the connection has authenticated, when used in an ACL being set.
    public static let authenticated = Id(scheme: "auth", id: "")

    public var description: String { "\(self.scheme):\(self.id)" }
}

/// ACL permission bits (`ZooDefs.Perms`).
public struct Permissions: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let read = Permissions(rawValue: 1)
    public static let write = Permissions(rawValue: 2)
    public static let create = Permissions(rawValue: 4)
    public static let delete = Permissions(rawValue: 8)
    public static let admin = Permissions(rawValue: 16)
    public static let all: Permissions = [.read, .write, .create, .delete, .admin]

    /// The letters zkCli.sh uses, in its order: `c` create, `d` delete, `r` read, `w` write, `a` admin.
    public var letters: String {
        var text = ""
        if self.contains(.create) { text += "c" }
        if self.contains(.delete) { text += "d" }
        if self.contains(.read) { text += "r" }
        if self.contains(.write) { text += "w" }
        if self.contains(.admin) { text += "a" }
        return text
    }

    /// Parses zkCli.sh letters (`cdrwa`, in any order). Returns nil on any other character.
    public init?(letters: some StringProtocol) {
        var permissions: Permissions = []
        for letter in letters {
            switch letter {
            case "c", "C": permissions.insert(.create)
            case "d", "D": permissions.insert(.delete)
            case "r", "R": permissions.insert(.read)
            case "w", "W": permissions.insert(.write)
            case "a", "A": permissions.insert(.admin)
            default: return nil
            }
        }
        self = permissions
    }

    public var description: String { self.letters }
}

/// One access-control entry: permissions granted to an identity.
public struct ACL: JuteRecord, CustomStringConvertible {
    public var permissions: Permissions
    public var id: Id

    public init(permissions: Permissions, id: Id) {
        self.permissions = permissions
        self.id = id
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.permissions = Permissions(rawValue: try buffer.decodeJuteInt("perms"))
        self.id = try Id(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.permissions.rawValue)
        self.id.encode(into: &buffer)
    }

    /// `world:anyone` with every permission (`ZooDefs.Ids.OPEN_ACL_UNSAFE`).
    public static let openUnsafe: [ACL] = [ACL(permissions: .all, id: .anyone)]
    /// Every permission for the creator's authenticated identities (`CREATOR_ALL_ACL`).
    public static let creatorAll: [ACL] = [ACL(permissions: .all, id: .authenticated)]
    /// Read for everyone (`READ_ACL_UNSAFE`).
    public static let readUnsafe: [ACL] = [ACL(permissions: .read, id: .anyone)]

    /// `scheme:id:perms`, the form zkCli.sh accepts and prints.
    public var description: String { "\(self.id.scheme):\(self.id.id):\(self.permissions.letters)" }
}

/// The metadata ZooKeeper keeps for every znode.
public struct Stat: JuteRecord {
    /// zxid of the transaction that created the node.
    public var czxid: Int64
    /// zxid of the last data change.
    public var mzxid: Int64
    /// Creation time, milliseconds since the epoch.
    public var ctime: Int64
    /// Time of the last data change, milliseconds since the epoch.
    public var mtime: Int64
    /// Data version.
    public var version: Int32
    /// Child version.
    public var cversion: Int32
    /// ACL version.
    public var aversion: Int32
    /// Owning session id of an ephemeral node, 0 otherwise.
    public var ephemeralOwner: Int64
    /// Length of the data.
    public var dataLength: Int32
    /// Number of children.
    public var numChildren: Int32
    /// zxid of the last change to the set of children.
    public var pzxid: Int64

    /// Size of a Stat on the wire.
    public static let encodedSize = 68

    public init(
        czxid: Int64 = 0, mzxid: Int64 = 0, ctime: Int64 = 0, mtime: Int64 = 0, version: Int32 = 0,
        cversion: Int32 = 0, aversion: Int32 = 0, ephemeralOwner: Int64 = 0, dataLength: Int32 = 0,
        numChildren: Int32 = 0, pzxid: Int64 = 0
    ) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
        self.pzxid = pzxid
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.czxid = try buffer.decodeJuteLong("czxid")
        self.mzxid = try buffer.decodeJuteLong("mzxid")
        self.ctime = try buffer.decodeJuteLong("ctime")
        self.mtime = try buffer.decodeJuteLong("mtime")
        self.version = try buffer.decodeJuteInt("version")
        self.cversion = try buffer.decodeJuteInt("cversion")
        self.aversion = try buffer.decodeJuteInt("aversion")
        self.ephemeralOwner = try buffer.decodeJuteLong("ephemeralOwner")
        self.dataLength = try buffer.decodeJuteInt("dataLength")
        self.numChildren = try buffer.decodeJuteInt("numChildren")
        self.pzxid = try buffer.decodeJuteLong("pzxid")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteLong(self.czxid)
        buffer.writeJuteLong(self.mzxid)
        buffer.writeJuteLong(self.ctime)
        buffer.writeJuteLong(self.mtime)
        buffer.writeJuteInt(self.version)
        buffer.writeJuteInt(self.cversion)
        buffer.writeJuteInt(self.aversion)
        buffer.writeJuteLong(self.ephemeralOwner)
        buffer.writeJuteInt(self.dataLength)
        buffer.writeJuteInt(self.numChildren)
        buffer.writeJuteLong(self.pzxid)
    }
}

/// One identity a connection holds, as whoAmI reports it.
public struct ClientInfo: JuteRecord {
    public var authScheme: String
    public var user: String

    public init(authScheme: String, user: String) {
        self.authScheme = authScheme
        self.user = user
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.authScheme = try buffer.decodeJuteStringNonNull("authScheme")
        self.user = try buffer.decodeJuteStringNonNull("user")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.authScheme)
        buffer.writeJuteString(self.user)
    }
}

extension ByteBuffer {
    /// Decodes a vector of ACLs; null becomes empty.
    public mutating func decodeACLVector() throws(JuteDecodingError) -> [ACL] {
        try self.decodeJuteVector("acl", minimumElementSize: 12) { (buffer: inout ByteBuffer) throws(JuteDecodingError) in
            try ACL(from: &buffer)
        } ?? []
    }

    /// Writes a vector of ACLs.
    public mutating func writeACLVector(_ acl: [ACL]) {
        self.writeJuteVector(acl) { $1.encode(into: &$0) }
    }
}
