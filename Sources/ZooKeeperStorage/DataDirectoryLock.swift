#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<directory>/zksh.lock`, so two servers never use one data directory.
///
/// The lock belongs to this object's open file: a second `DataDirectoryLock` on the same
/// directory fails even within the same process. The kernel releases it when the process dies,
/// so a stale lock file after a crash is harmless. The holder's pid is written into the file to
/// make the error useful.
public final class DataDirectoryLock: @unchecked Sendable {
    /// The lock file's name inside the locked directory.
    public static let fileName = "zksh.lock"

    /// The lock file.
    public let path: String
    private let lock = StorageLock()
    private var fd: Int32

    /// Takes the lock, creating the directory and the lock file if needed. Never waits.
    /// - Throws: `.directoryLocked` naming the directory and the holder's pid if it is held, `.io`.
    public init(directory: String) throws {
        try POSIXFile.createDirectory(directory)
        path = POSIXFile.join(directory, Self.fileName)
        fd = try POSIXFile.open(path, flags: O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            let holder = String(decoding: (try? POSIXFile.readAll(fd, path: path)) ?? [], as: UTF8.self)
                .filter(\.isNumber)
            POSIXFile.close(fd)
            // Throwing from here still runs deinit (every property is set): make its unlock a no-op.
            fd = -1
            if failure == EWOULDBLOCK {
                throw StorageError(
                    code: .directoryLocked,
                    message: "directory is in use by another server"
                        + (holder.isEmpty ? "" : " (pid \(holder))") + "; lock file \(path)",
                    path: directory)
            }
            throw StorageError.io("flock", path: path, errno: failure)
        }
        let pid = Array("\(getpid())\n".utf8)
        try? POSIXFile.truncate(fd, to: 0, path: path)
        try? pid.withUnsafeBytes { try POSIXFile.write(fd, $0, at: 0, path: path) }
    }

    deinit { unlock() }

    /// Releases the lock (closing the file). Calling it again does nothing.
    public func unlock() {
        lock.withLock {
            guard fd >= 0 else { return }
            POSIXFile.close(fd)
            fd = -1
        }
    }
}
