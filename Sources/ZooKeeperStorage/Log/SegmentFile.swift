#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A segment file the log is appending to. The seam lets tests inject write and fsync failures
/// (as root, permissions cannot be used to make a write fail).
protocol SegmentFileHandle: AnyObject {
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws
    /// `fdatasync`: everything written so far is on stable storage when this returns.
    func synchronize() throws
    /// Closes the file; further calls are not allowed.
    func close()
}

/// Creates a new segment file at a path; it must not exist yet.
typealias SegmentFileCreator = @Sendable (_ path: String) throws -> any SegmentFileHandle

final class POSIXSegmentFile: SegmentFileHandle {
    let path: String
    private var fd: Int32

    /// Creates `path` exclusively (`O_EXCL`): segment names are never reused.
    static let create: SegmentFileCreator = { path in
        POSIXSegmentFile(path: path, fd: try POSIXFile.open(path, flags: O_RDWR | O_CREAT | O_EXCL))
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close() }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try POSIXFile.write(fd, $0, at: offset, path: path) }
    }

    func synchronize() throws {
        try POSIXFile.syncData(fd, path: path)
    }

    func close() {
        if fd >= 0 {
            POSIXFile.close(fd)
            fd = -1
        }
    }
}
