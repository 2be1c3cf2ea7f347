/// A write inside a transaction (`multi`).
public enum ZooKeeperOperation: Hashable, Sendable {
    case create(path: String, data: [UInt8] = [], acl: [ACL] = ACL.openUnsafe, mode: CreateMode = .persistent, ttl: Int64? = nil)
    case delete(path: String, version: Int32 = -1)
    case setData(path: String, data: [UInt8], version: Int32 = -1)
    /// Succeeds only if the node exists with this version (-1: any).
    case check(path: String, version: Int32 = -1)

    public var path: String {
        switch self {
        case .create(let path, _, _, _, _), .delete(let path, _), .setData(let path, _, _), .check(let path, _): return path
        }
    }
}

/// The outcome of one operation of a successful transaction.
public enum ZooKeeperOperationResult: Hashable, Sendable {
    case created(path: String, stat: Stat?)
    case deleted
    case dataSet(Stat)
    case checked
}

/// A read inside `multiRead`.
public enum ZooKeeperReadOperation: Hashable, Sendable {
    case getData(path: String)
    case getChildren(path: String)
}

/// The outcome of one read of `multiRead`; each read succeeds or fails on its own.
public enum ZooKeeperReadResult: Hashable, Sendable {
    case data([UInt8], Stat)
    case children([String])
    case failed(ZooKeeperError)
}

/// The result of a create.
public struct CreateResult: Hashable, Sendable {
    /// The created path (with the sequence suffix for sequential nodes), relative to the chroot.
    public var path: String
    /// The new node's Stat.
    public var stat: Stat
}

/// A transaction that the server refused: which operation failed and why.
public struct TransactionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Index of the operation that failed.
    public var failedIndex: Int
    /// The failing operation's error, naming its path.
    public var error: ZooKeeperError
    /// Every operation's code as the server reported it: 0 before the failure, the failure,
    /// RUNTIMEINCONSISTENCY after it.
    public var codes: [ZooKeeperError.Code]

    public var description: String { "transaction failed at operation \(failedIndex + 1): \(error)" }
}
