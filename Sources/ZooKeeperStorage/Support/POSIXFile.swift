#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin errno-checked wrappers over the system calls storage needs. Every failure becomes a
/// `StorageError` with code `.io`, the call's name, the path and `errno`; `EINTR` is retried.
enum POSIXFile {
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = openFile(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw StorageError.io("open", path: path, errno: errno) }
        }
    }

    static func close(_ fd: Int32) {
        _ = closeFile(fd)
    }

    /// Writes all of `bytes` at `offset`, looping over short writes.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < bytes.count {
            let result = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw StorageError.io("pwrite", path: path, errno: errno)
            }
            if result == 0 { throw StorageError.io("pwrite", path: path, errno: EIO) }
            done += result
        }
    }

    /// Flushes the file's data (and the metadata needed to read it back) to stable storage.
    static func syncData(_ fd: Int32, path: String) throws {
        #if canImport(Darwin)
        // fsync on Darwin does not flush the drive's cache; F_FULLFSYNC does.
        if fcntl(fd, F_FULLFSYNC) == 0 { return }
        while fsync(fd) != 0 {
            if errno != EINTR { throw StorageError.io("fsync", path: path, errno: errno) }
        }
        #else
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw StorageError.io("fdatasync", path: path, errno: errno) }
        }
        #endif
    }

    /// Flushes a directory, so entries created, renamed or removed in it survive a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno != EINTR { throw StorageError.io("fsync (directory)", path: path, errno: errno) }
        }
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { throw StorageError.io("ftruncate", path: path, errno: errno) }
        }
    }

    /// The whole file, read into memory.
    static func readAll(_ path: String) throws -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        return try readAll(fd, path: path)
    }

    static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var result: [UInt8] = []
        let size = try self.size(fd, path: path)
        result.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: max(4096, min(size + 1, 1 << 20)))
        while true {
            let count = try read(fd, into: &chunk, at: result.count, path: path)
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads up to `buffer.count` bytes at `offset`; 0 means end of file.
    static func read(_ fd: Int32, into buffer: inout [UInt8], at offset: Int, path: String) throws -> Int {
        while true {
            let result = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, off_t(offset)) }
            if result >= 0 { return result }
            if errno != EINTR { throw StorageError.io("pread", path: path, errno: errno) }
        }
    }

    /// Reads `count` bytes at `offset`, or fewer if the file ends first.
    static func read(_ fd: Int32, upTo count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            var rest = [UInt8](repeating: 0, count: count - filled)
            let read = try read(fd, into: &rest, at: offset + filled, path: path)
            if read == 0 { break }
            result.replaceSubrange(filled..<(filled + read), with: rest[0..<read])
            filled += read
        }
        return Array(result[0..<filled])
    }

    static func size(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.io("fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    static func unlink(_ path: String) throws {
        guard unlinkFile(path) == 0 else { throw StorageError.io("unlink", path: path, errno: errno) }
    }

    static func rename(_ from: String, to: String) throws {
        guard renameFile(from, to) == 0 else {
            throw StorageError(code: .io, message: "rename to \(to) failed", path: from, errno: errno)
        }
    }

    /// Creates `path` and any missing parents (like `mkdir -p`); an existing directory is fine.
    static func createDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 { return }
        let failure = errno
        switch failure {
        case EEXIST:
            guard isDirectory(path) else {
                throw StorageError(code: .io, message: "exists and is not a directory", path: path, errno: ENOTDIR)
            }
        case ENOENT:
            let parent = parentDirectory(path)
            guard parent != path, !parent.isEmpty else { throw StorageError.io("mkdir", path: path, errno: failure) }
            try createDirectory(parent)
            if mkdir(path, 0o755) != 0 && !(errno == EEXIST && isDirectory(path)) {
                throw StorageError.io("mkdir", path: path, errno: errno)
            }
        default:
            throw StorageError.io("mkdir", path: path, errno: failure)
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, without `.` and `..`, in no particular order.
    static func list(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else { throw StorageError.io("opendir", path: path, errno: errno) }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw StorageError.io("readdir", path: path, errno: errno) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// `realpath(3)`, or `path` itself if it cannot be resolved.
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func parentDirectory(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

// The libc functions, under names that do not clash with `POSIXFile`'s own.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func closeFile(_ fd: Int32) -> Int32 { close(fd) }
private func unlinkFile(_ path: String) -> Int32 { unlink(path) }
private func renameFile(_ from: String, _ to: String) -> Int32 { rename(from, to) }
