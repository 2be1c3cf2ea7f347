import NIOCore

/// create (1), create2 (15) and createContainer (19).
public struct CreateRequest: JuteRecord {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var flags: Int32

    public init(path: String, data: [UInt8]?, acl: [ACL], flags: Int32) {
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.data = try buffer.decodeJuteBuffer("data")
        self.acl = try buffer.decodeACLVector()
        self.flags = try buffer.decodeJuteInt("flags")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteBuffer(self.data)
        buffer.writeACLVector(self.acl)
        buffer.writeJuteInt(self.flags)
    }
}

/// createTTL (21).
public struct CreateTTLRequest: JuteRecord {
    public var path: String
    public var data: [UInt8]?
    public var acl: [ACL]
    public var flags: Int32
    /// Milliseconds, 1 ... 2^40-1.
    public var ttl: Int64

    public init(path: String, data: [UInt8]?, acl: [ACL], flags: Int32, ttl: Int64) {
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
        self.ttl = ttl
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.data = try buffer.decodeJuteBuffer("data")
        self.acl = try buffer.decodeACLVector()
        self.flags = try buffer.decodeJuteInt("flags")
        self.ttl = try buffer.decodeJuteLong("ttl")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteBuffer(self.data)
        buffer.writeACLVector(self.acl)
        buffer.writeJuteInt(self.flags)
        buffer.writeJuteLong(self.ttl)
    }
}

/// The reply to create (1): the created path.
public struct CreateResponse: JuteRecord {
    public var path: String

    public init(path: String) { self.path = path }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
    }
}

/// The reply to create2, createContainer and createTTL: the created path and its Stat.
public struct Create2Response: JuteRecord {
    public var path: String
    public var stat: Stat

    public init(path: String, stat: Stat) {
        self.path = path
        self.stat = stat
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.stat = try Stat(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        self.stat.encode(into: &buffer)
    }
}

/// delete (2).
public struct DeleteRequest: JuteRecord {
    public var path: String
    public var version: Int32

    public init(path: String, version: Int32) {
        self.path = path
        self.version = version
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.version = try buffer.decodeJuteInt("version")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteInt(self.version)
    }
}

/// A request carrying only a path: deleteContainer (20), getACL (6), sync (9),
/// getEphemerals (103, the prefix) and getAllChildrenNumber (104).
public struct PathRequest: JuteRecord {
    public var path: String

    public init(path: String) { self.path = path }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
    }
}

/// A read that may leave a watch: exists (3), getData (4), getChildren (8), getChildren2 (12).
public struct PathWatchRequest: JuteRecord {
    public var path: String
    public var watch: Bool

    public init(path: String, watch: Bool) {
        self.path = path
        self.watch = watch
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.watch = try buffer.decodeJuteBool("watch")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteBool(self.watch)
    }
}

/// A reply carrying one Stat: exists, setData and setACL.
public struct StatResponse: JuteRecord {
    public var stat: Stat

    public init(stat: Stat) { self.stat = stat }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.stat = try Stat(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        self.stat.encode(into: &buffer)
    }
}

/// The reply to getData (and reconfig): the data and the node's Stat.
public struct GetDataResponse: JuteRecord {
    public var data: [UInt8]?
    public var stat: Stat

    public init(data: [UInt8]?, stat: Stat) {
        self.data = data
        self.stat = stat
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.data = try buffer.decodeJuteBuffer("data")
        self.stat = try Stat(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteBuffer(self.data)
        self.stat.encode(into: &buffer)
    }
}

/// setData (5).
public struct SetDataRequest: JuteRecord {
    public var path: String
    public var data: [UInt8]?
    public var version: Int32

    public init(path: String, data: [UInt8]?, version: Int32) {
        self.path = path
        self.data = data
        self.version = version
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.data = try buffer.decodeJuteBuffer("data")
        self.version = try buffer.decodeJuteInt("version")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteBuffer(self.data)
        buffer.writeJuteInt(self.version)
    }
}

/// The reply to getACL (6).
public struct GetACLResponse: JuteRecord {
    public var acl: [ACL]
    public var stat: Stat

    public init(acl: [ACL], stat: Stat) {
        self.acl = acl
        self.stat = stat
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.acl = try buffer.decodeACLVector()
        self.stat = try Stat(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeACLVector(self.acl)
        self.stat.encode(into: &buffer)
    }
}

/// setACL (7).
public struct SetACLRequest: JuteRecord {
    public var path: String
    public var acl: [ACL]
    public var version: Int32

    public init(path: String, acl: [ACL], version: Int32) {
        self.path = path
        self.acl = acl
        self.version = version
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.acl = try buffer.decodeACLVector()
        self.version = try buffer.decodeJuteInt("version")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeACLVector(self.acl)
        buffer.writeJuteInt(self.version)
    }
}

/// The reply to getChildren (8): child names; and getEphemerals (103): full paths.
public struct StringListResponse: JuteRecord {
    public var strings: [String]

    public init(strings: [String]) { self.strings = strings }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.strings = try buffer.decodeJuteStringVector("children")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteStringVector(self.strings)
    }
}

/// The reply to getChildren2 (12): child names and the parent's Stat.
public struct GetChildren2Response: JuteRecord {
    public var children: [String]
    public var stat: Stat

    public init(children: [String], stat: Stat) {
        self.children = children
        self.stat = stat
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.children = try buffer.decodeJuteStringVector("children")
        self.stat = try Stat(from: &buffer)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteStringVector(self.children)
        self.stat.encode(into: &buffer)
    }
}

/// check (13), valid inside multi: the node must exist with this version.
public struct CheckVersionRequest: JuteRecord {
    public var path: String
    public var version: Int32

    public init(path: String, version: Int32) {
        self.path = path
        self.version = version
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.version = try buffer.decodeJuteInt("version")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteInt(self.version)
    }
}

/// reconfig (16). Unused member lists are sent as null.
public struct ReconfigRequest: JuteRecord {
    public var joiningServers: String?
    public var leavingServers: String?
    public var newMembers: String?
    /// Expected config version, -1 for any.
    public var curConfigId: Int64

    public init(joiningServers: String?, leavingServers: String?, newMembers: String?, curConfigId: Int64) {
        self.joiningServers = joiningServers
        self.leavingServers = leavingServers
        self.newMembers = newMembers
        self.curConfigId = curConfigId
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.joiningServers = try buffer.decodeJuteString("joiningServers")
        self.leavingServers = try buffer.decodeJuteString("leavingServers")
        self.newMembers = try buffer.decodeJuteString("newMembers")
        self.curConfigId = try buffer.decodeJuteLong("curConfigId")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.joiningServers)
        buffer.writeJuteString(self.leavingServers)
        buffer.writeJuteString(self.newMembers)
        buffer.writeJuteLong(self.curConfigId)
    }
}

/// checkWatches (17) and removeWatches (18).
public struct WatchesRequest: JuteRecord {
    public var path: String
    /// A ``WatcherType`` raw value.
    public var type: Int32

    public init(path: String, type: WatcherType) {
        self.path = path
        self.type = type.rawValue
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.type = try buffer.decodeJuteInt("type")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteInt(self.type)
    }
}

/// addWatch (106).
public struct AddWatchRequest: JuteRecord {
    public var path: String
    /// An ``AddWatchMode`` raw value.
    public var mode: Int32

    public init(path: String, mode: AddWatchMode) {
        self.path = path
        self.mode = mode.rawValue
    }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.path = try buffer.decodeJuteStringNonNull("path")
        self.mode = try buffer.decodeJuteInt("mode")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteString(self.path)
        buffer.writeJuteInt(self.mode)
    }
}

/// The reply to getAllChildrenNumber (104).
public struct GetAllChildrenNumberResponse: JuteRecord {
    public var totalNumber: Int32

    public init(totalNumber: Int32) { self.totalNumber = totalNumber }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.totalNumber = try buffer.decodeJuteInt("totalNumber")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.totalNumber)
    }
}

/// The reply to whoAmI (107).
public struct WhoAmIResponse: JuteRecord {
    public var clientInfo: [ClientInfo]

    public init(clientInfo: [ClientInfo]) { self.clientInfo = clientInfo }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        self.clientInfo = try buffer.decodeJuteVector("clientInfo", minimumElementSize: 8) {
            (buffer: inout ByteBuffer) throws(JuteDecodingError) in try ClientInfo(from: &buffer)
        } ?? []
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeJuteVector(self.clientInfo) { $1.encode(into: &$0) }
    }
}
