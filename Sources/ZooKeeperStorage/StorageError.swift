#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the storage layer: a failed system call, corrupt data on disk, or misuse.
///
/// The description names the file and, for corrupt data, the byte offset:
/// `/data/version-2/log.1: corrupt log entry at offset 4096: CRC mismatch (stored 0x…, computed 0x…)`.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case io, corruptLog, corruptSnapshot, nonIncreasingZxid, directoryLocked, logFailed,
                closed, noValidSnapshot, invalidArgument
        }
        fileprivate var base: Base
        fileprivate init(_ base: Base) { self.base = base }

        /// A system call failed (`errno` says why): disk full, EIO, a missing directory.
        public static let io = Code(.io)
        /// A transaction log file is damaged somewhere other than a torn tail, or its header is bad.
        public static let corruptLog = Code(.corruptLog)
        /// A snapshot file is damaged (only thrown when a caller asks for that file specifically).
        public static let corruptSnapshot = Code(.corruptSnapshot)
        /// A zxid is not larger than the one before it (on append, or found on disk).
        public static let nonIncreasingZxid = Code(.nonIncreasingZxid)
        /// Another process (or another `DataDirectoryLock` in this one) holds the directory.
        public static let directoryLocked = Code(.directoryLocked)
        /// An earlier write or fsync failed; the log refuses further work until reopened.
        public static let logFailed = Code(.logFailed)
        /// The log or committer was closed.
        public static let closed = Code(.closed)
        /// Snapshot files exist but none of them is valid, so recovery would lose data.
        public static let noValidSnapshot = Code(.noValidSnapshot)
        /// An argument is out of range (for example a payload larger than 4 GiB − 1).
        public static let invalidArgument = Code(.invalidArgument)

        /// The code's name (`corruptLog`).
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, without the path.
    public var message: String
    /// The file or directory involved, if any.
    public var path: String?
    /// The byte offset inside `path` where corrupt data starts, if known.
    public var offset: Int?
    /// The `errno` of a failed system call.
    public var errno: Int32?

    /// An error; `message` should not repeat the path.
    public init(code: Code, message: String, path: String? = nil, offset: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
    }

    /// `<path>: <message> (at offset <n>): <strerror> (errno <n>)`, leaving out what is unknown.
    public var description: String {
        var text = path.map { "\($0): " } ?? ""
        text += message
        if let offset { text += " (at offset \(offset))" }
        if let errno { text += ": \(String(cString: strerror(errno))) (errno \(errno))" }
        return text
    }

    static func io(_ call: String, path: String?, errno: Int32) -> StorageError {
        StorageError(code: .io, message: "\(call) failed", path: path, errno: errno)
    }

    static func corruptLog(_ message: String, path: String, offset: Int?) -> StorageError {
        StorageError(code: .corruptLog, message: message, path: path, offset: offset)
    }
}
