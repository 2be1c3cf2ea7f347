/// An error from ZooKeeper or from the client, carrying ZooKeeper's numeric code and name.
///
/// Server errors mirror `KeeperException.Code`; client-side conditions (a lost connection, an
/// invalid path, a timed-out connect) use the codes ZooKeeper's own client uses for them.
/// The description reads like the shell shows it: `/a/b: node does not exist (NONODE)`.
public struct ZooKeeperError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A ZooKeeper error code. Unknown codes are kept as they are.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let ok = Code(rawValue: 0)
        public static let systemError = Code(rawValue: -1)
        public static let runtimeInconsistency = Code(rawValue: -2)
        public static let dataInconsistency = Code(rawValue: -3)
        public static let connectionLoss = Code(rawValue: -4)
        public static let marshallingError = Code(rawValue: -5)
        public static let unimplemented = Code(rawValue: -6)
        public static let operationTimeout = Code(rawValue: -7)
        public static let badArguments = Code(rawValue: -8)
        public static let unknownSession = Code(rawValue: -12)
        public static let newConfigNoQuorum = Code(rawValue: -13)
        public static let reconfigInProgress = Code(rawValue: -14)
        public static let apiError = Code(rawValue: -100)
        public static let noNode = Code(rawValue: -101)
        public static let noAuth = Code(rawValue: -102)
        public static let badVersion = Code(rawValue: -103)
        public static let noChildrenForEphemerals = Code(rawValue: -108)
        public static let nodeExists = Code(rawValue: -110)
        public static let notEmpty = Code(rawValue: -111)
        public static let sessionExpired = Code(rawValue: -112)
        public static let invalidCallback = Code(rawValue: -113)
        public static let invalidACL = Code(rawValue: -114)
        public static let authFailed = Code(rawValue: -115)
        public static let sessionMoved = Code(rawValue: -118)
        public static let notReadOnly = Code(rawValue: -119)
        public static let ephemeralOnLocalSession = Code(rawValue: -120)
        public static let noWatcher = Code(rawValue: -121)
        public static let requestTimeout = Code(rawValue: -122)
        public static let reconfigDisabled = Code(rawValue: -123)
        public static let sessionClosedRequireSASLAuth = Code(rawValue: -124)
        public static let quotaExceeded = Code(rawValue: -125)
        public static let throttledOp = Code(rawValue: -127)

        /// Every code ZooKeeper defines.
        public static let allDefined: [Code] = codeTable.map { Code(rawValue: $0.0) }

        /// ZooKeeper's name for the code (`NONODE`), or `UNKNOWN(<n>)`.
        public var name: String { codeTable.first { $0.0 == self.rawValue }?.1 ?? "UNKNOWN(\(self.rawValue))" }

        /// A short human explanation (`node does not exist`).
        public var explanation: String { codeTable.first { $0.0 == self.rawValue }?.2 ?? "unknown error" }

        public var description: String { self.name }
    }

    /// The ZooKeeper code.
    public var code: Code
    /// The path the failed operation named, if any.
    public var path: String?
    /// Extra detail (the underlying cause of a connection loss, for example).
    public var detail: String?

    public init(_ code: Code, path: String? = nil, detail: String? = nil) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// `path: explanation (NAME)`, or `explanation (NAME): detail`.
    public var description: String {
        var text = ""
        if let path { text += "\(path): " }
        text += "\(self.code.explanation) (\(self.code.name))"
        if let detail, !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    /// Returns a copy naming `path`.
    public func withPath(_ path: String?) -> ZooKeeperError {
        var copy = self
        copy.path = path
        return copy
    }
}

/// The one table from raw codes to names and explanations.
private let codeTable: [(Int32, String, String)] = [
    (0, "OK", "ok"),
    (-1, "SYSTEMERROR", "system error"),
    (-2, "RUNTIMEINCONSISTENCY", "runtime inconsistency"),
    (-3, "DATAINCONSISTENCY", "data inconsistency"),
    (-4, "CONNECTIONLOSS", "connection lost"),
    (-5, "MARSHALLINGERROR", "marshalling error"),
    (-6, "UNIMPLEMENTED", "operation not implemented by the server"),
    (-7, "OPERATIONTIMEOUT", "operation timed out"),
    (-8, "BADARGUMENTS", "bad arguments"),
    (-12, "UNKNOWNSESSION", "unknown session"),
    (-13, "NEWCONFIGNOQUORUM", "no quorum of the new config is connected and up to date"),
    (-14, "RECONFIGINPROGRESS", "another reconfiguration is in progress"),
    (-100, "APIERROR", "API error"),
    (-101, "NONODE", "node does not exist"),
    (-102, "NOAUTH", "not authorized"),
    (-103, "BADVERSION", "version does not match"),
    (-108, "NOCHILDRENFOREPHEMERALS", "ephemeral nodes may not have children"),
    (-110, "NODEEXISTS", "node already exists"),
    (-111, "NOTEMPTY", "node has children"),
    (-112, "SESSIONEXPIRED", "session expired"),
    (-113, "INVALIDCALLBACK", "invalid callback"),
    (-114, "INVALIDACL", "invalid ACL"),
    (-115, "AUTHFAILED", "authentication failed"),
    (-118, "SESSIONMOVED", "session moved to another server"),
    (-119, "NOTREADONLY", "server is read-only"),
    (-120, "EPHEMERALONLOCALSESSION", "ephemeral node on a local session"),
    (-121, "NOWATCHER", "no such watcher"),
    (-122, "REQUESTTIMEOUT", "request timed out"),
    (-123, "RECONFIGDISABLED", "reconfiguration is disabled"),
    (-124, "SESSIONCLOSEDREQUIRESASLAUTH", "session closed: the server requires SASL authentication"),
    (-125, "QUOTAEXCEEDED", "quota exceeded"),
    (-127, "THROTTLEDOP", "operation throttled by the server"),
]
