import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import ZooKeeperStorage

/// Runs `body` with a fresh directory under the system temp directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var base = NSTemporaryDirectory()
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    var template = Array((base + "/zksh-storage-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard let created else { throw StorageError.io("mkdtemp", path: nil, errno: errno) }
    let path = String(cString: created)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Deterministic payloads: `payload(for: 7)` is always the same bytes; lengths vary with the zxid.
func payload(for zxid: Int64, length: Int? = nil) -> [UInt8] {
    let count = length ?? (Int(zxid % 23) + 5)
    return (0..<count).map { UInt8(truncatingIfNeeded: Int(zxid) &* 31 &+ $0 &* 7) }
}

func entries(_ zxids: some Sequence<Int64>) -> [TransactionLog.Entry] {
    zxids.map { TransactionLog.Entry(zxid: $0, bytes: payload(for: $0)) }
}

/// Appends `zxids` with `payload(for:)` and syncs.
func appendAndSync(_ log: TransactionLog, _ zxids: some Sequence<Int64>) throws {
    for zxid in zxids { try log.append(zxid: zxid, bytes: payload(for: zxid)) }
    try log.sync()
}

func join(_ directory: String, _ name: String) -> String { directory + "/" + name }

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StorageError.io("read", path: path, errno: ENOENT)
    }
    return [UInt8](data)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func fileSize(_ path: String) throws -> Int {
    try readFile(path).count
}

func fileNames(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Flips every bit of the byte at `offset`.
func flipByte(_ path: String, at offset: Int) throws {
    var bytes = try readFile(path)
    bytes[offset] ^= 0xFF
    try writeFile(path, bytes)
}

/// The byte offset of the entry with `zxid` in a segment file (found by walking the entries).
func entryOffset(in path: String, zxid: Int64) throws -> Int {
    let bytes = try readFile(path)
    var offset = LogFormat.fileHeaderSize
    while offset < bytes.count {
        let found = bytes.withUnsafeBytes { LogFormat.parseEntry($0, at: offset) }
        guard case .valid(let entry) = found else { break }
        if entry.zxid == zxid { return offset }
        offset = entry.end
    }
    throw StorageError.corruptLog("no entry \(zxid)", path: path, offset: nil)
}

/// A small deterministic generator (SplitMix64) for garbage bytes.
struct SeededBytes {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// A segment file that fails on demand, for write errors that root cannot provoke with permissions.
final class FailingSegmentFile: SegmentFileHandle, @unchecked Sendable {
    enum Failure { case none, write, synchronize }
    let inner: any SegmentFileHandle
    let failure: Failure
    init(inner: any SegmentFileHandle, failure: Failure) {
        self.inner = inner
        self.failure = failure
    }
    private var path: String? { (inner as? POSIXSegmentFile)?.path }
    func write(_ bytes: [UInt8], at offset: Int) throws {
        if failure == .write { throw StorageError(code: .io, message: "pwrite failed", path: path, errno: ENOSPC) }
        try inner.write(bytes, at: offset)
    }
    func synchronize() throws {
        if failure == .synchronize { throw StorageError(code: .io, message: "fdatasync failed", path: path, errno: EIO) }
        try inner.synchronize()
    }
    func close() { inner.close() }
}

/// A thread-safe box for collecting values from callbacks.
final class Collector<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Value] = []
    func append(_ value: Value) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [Value] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// A flag set once from another thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func signal() { lock.lock(); value = true; lock.unlock() }
    var isSignalled: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
