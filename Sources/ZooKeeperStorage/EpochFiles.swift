import Glibc

/// ZooKeeper's `acceptedEpoch` and `currentEpoch` files in the data directory: one decimal number
/// each, written atomically (temporary file, fsync, rename, directory fsync) so a crash leaves the
/// old value or the new one.
public struct EpochFiles: Sendable {
    /// The data directory holding the two files.
    public let directory: String
    let forceSync: Bool

    public init(directory: String, forceSync: Bool = true) {
        self.directory = directory
        self.forceSync = forceSync
    }

    /// The stored epochs; a missing file reads as 0 (a member that never took part in an epoch).
    /// - Throws: `.io` when a file exists but does not hold a number.
    public func read() throws -> (acceptedEpoch: Int64, currentEpoch: Int64) {
        (try read("acceptedEpoch"), try read("currentEpoch"))
    }

    /// Writes both files durably (each only if it changed).
    public func write(acceptedEpoch: Int64, currentEpoch: Int64) throws {
        let stored = try read()
        if stored.acceptedEpoch != acceptedEpoch { try write("acceptedEpoch", acceptedEpoch) }
        if stored.currentEpoch != currentEpoch { try write("currentEpoch", currentEpoch) }
    }

    private func read(_ name: String) throws -> Int64 {
        let path = POSIXFile.join(directory, name)
        guard access(path, F_OK) == 0 else { return 0 }
        let bytes = try POSIXFile.readAll(path)
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
        guard let value = Int64(text) else {
            throw StorageError(code: .io, message: "\(name) does not hold an epoch number (\"\(text.prefix(40))\")", path: path)
        }
        return value
    }

    private func write(_ name: String, _ value: Int64) throws {
        let path = POSIXFile.join(directory, name)
        let temporary = path + ".tmp"
        let fd = try POSIXFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            let bytes = Array("\(value)\n".utf8)
            try bytes.withUnsafeBytes { try POSIXFile.write(fd, $0, at: 0, path: temporary) }
            if forceSync { try POSIXFile.syncData(fd, path: temporary) }
        } catch {
            POSIXFile.close(fd)
            throw error
        }
        POSIXFile.close(fd)
        try POSIXFile.rename(temporary, to: path)
        if forceSync { try POSIXFile.syncDirectory(directory) }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var view = Substring(self)
        while let first = view.first, characters.contains(first) { view = view.dropFirst() }
        while let last = view.last, characters.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
