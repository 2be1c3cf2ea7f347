import Foundation
import NIOCore
import ZooKeeperProtocol
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

// Helpers for the `zksh serve` tests (ServeRealClientTests, ServeCrashTests,
// ServeRobustnessTests): the server's process id and memory, raw protocol sockets.

/// The pid of the running `zksh serve` for `server`, found through its zoo.cfg path in
/// /proc/*/cmdline (ZkshServer does not expose its Process).
func serverProcessID(_ server: ZkshServer) throws -> pid_t {
    let needle = server.configurationFile.path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for name in names {
        guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { continue }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if arguments.count >= 3, arguments[1] == "serve", arguments[2] == needle {
            return pid
        }
    }
    throw TestSupportError("no zksh serve process for \(needle)")
}

/// VmRSS of `pid` in kilobytes.
func residentKilobytes(_ pid: pid_t) throws -> Int {
    let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        if let value = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Int($0) }) {
            return value
        }
    }
    throw TestSupportError("no VmRSS for pid \(pid)")
}

/// A blocking loopback TCP socket speaking raw bytes, for hostile-client tests.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(port: Int, receiveTimeout: Duration = .seconds(5)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            // Not closed here: every stored property is set, so throwing runs deinit, which
            // closes it (closing twice could close a descriptor another thread just opened).
            throw TestSupportError("connect to \(port) failed: errno \(errno)")
        }
        setTimeout(receiveTimeout)
    }

    deinit { close(fd) }

    /// Shuts the connection down now (the descriptor is closed on deinit).
    func closeNow() { shutdown(fd, Int32(SHUT_RDWR)) }

    func setTimeout(_ timeout: Duration) {
        let micros = Int(timeout.components.seconds) * 1_000_000 + Int(timeout.components.attoseconds / 1_000_000_000_000)
        var value = timeval(tv_sec: micros / 1_000_000, tv_usec: .init(micros % 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything; returns false if the peer is gone (or the send timed out).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Reads exactly `count` bytes, or nil on close, error or timeout.
    func receive(_ count: Int) -> [UInt8]? {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = result[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            offset += n
        }
        return result
    }

    /// One length-prefixed frame's payload, or nil.
    func receiveFrame() -> [UInt8]? {
        guard let prefix = receive(4) else { return nil }
        let length = Int(prefix.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) })
        guard length <= 16 << 20 else { return nil }
        return receive(length)
    }

    /// Whether the server closes the connection (EOF or reset) within the receive timeout,
    /// discarding whatever arrives first.
    func closedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
            // data: keep reading
        }
    }

    /// Sends a ConnectRequest for a new session and reads the ConnectResponse.
    func handshake(timeout: Int32 = 10_000) throws -> ConnectResponse {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeZooKeeperFrame {
            ConnectRequest(
                protocolVersion: 0, lastZxidSeen: 0, timeOut: timeout, sessionId: 0,
                password: [UInt8](repeating: 0, count: 16), readOnly: false
            ).encode(into: &$0)
        }
        guard send(Array(buffer.readableBytesView)) else { throw TestSupportError("handshake send failed") }
        guard let payload = receiveFrame() else { throw TestSupportError("no ConnectResponse") }
        var reply = ByteBufferAllocator().buffer(bytes: payload)
        return try ConnectResponse(from: &reply)
    }
}

/// A request frame's bytes.
func requestFrame(xid: Int32, _ request: ZooKeeperRequest) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    buffer.writeRequestFrame(xid: xid, request: request)
    return Array(buffer.readableBytesView)
}

/// The reply header at the start of a reply payload.
func replyHeader(_ payload: [UInt8]) throws -> ReplyHeader {
    var buffer = ByteBufferAllocator().buffer(bytes: payload)
    return try ReplyHeader(from: &buffer)
}
