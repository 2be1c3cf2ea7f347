import Foundation
import ProcessSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Darwin)
private let streamSocketType = SOCK_STREAM
private let sendFlags: Int32 = 0
#else
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)
#endif

// MARK: - Four-letter words

/// Sends a ZooKeeper four-letter word (`ruok`, `srvr`, `stat`, `mntr`, `cons`, `isro`, ...) and returns
/// the server's whole reply.
///
/// The server answers a four-letter word sent in place of a ConnectRequest, then closes the
/// connection, so this reads until end of stream. It uses plain BSD sockets and never blocks longer
/// than `timeout` in total (connect, send and receive together).
///
/// The server must allow the word: the configurations written by ``ApacheZooKeeperServer`` and
/// ``ApacheZooKeeperEnsemble`` set `4lw.commands.whitelist=*`. A word that is not allowed gets a
/// reply like "ruok is not executed because it is not in the whitelist.".
///
/// - Parameters:
///   - word: exactly four ASCII characters.
///   - host: a numeric address or host name; tests use loopback only.
///   - port: the server's client port.
///   - timeout: the bound on the whole exchange.
/// - Returns: the reply as UTF-8 text (`imok` for `ruok`). It may be empty if the server closed
///   without answering, which the server does for unknown words.
/// - Throws: ``TestSupportError`` if the connection is refused, fails or times out.
public func fourLetterWord(
    _ word: String,
    host: String = "127.0.0.1",
    port: Int,
    timeout: Duration = .seconds(5)
) throws -> String {
    let bytes = Array(word.utf8)
    guard bytes.count == 4 else {
        throw TestSupportError("four-letter word must be exactly 4 bytes, got \"\(word)\"")
    }
    let deadline = ContinuousClock.now.advanced(by: timeout)
    let fd = try connectTCP(host: host, port: port, deadline: deadline)
    defer { close(fd) }

    try setSocketTimeouts(fd, remaining: deadline)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, sendFlags) }
        if n < 0 {
            if errno == EINTR { continue }
            throw TestSupportError("sending '\(word)' to \(host):\(port) failed: \(errnoDescription())")
        }
        sent += n
    }

    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        try setSocketTimeouts(fd, remaining: deadline)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            reply.append(contentsOf: buffer[0..<n])
        } else if n == 0 {
            break
        } else if errno == EINTR {
            continue
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
            throw TestSupportError(
                "'\(word)' to \(host):\(port) timed out after \(timeout)",
                details: String(decoding: reply, as: UTF8.self)
            )
        } else if errno == ECONNRESET && !reply.isEmpty {
            break  // The server sometimes resets right after writing its answer.
        } else {
            throw TestSupportError("reading the '\(word)' reply from \(host):\(port) failed: \(errnoDescription())")
        }
    }
    return String(decoding: reply, as: UTF8.self)
}

/// Opens a blocking TCP connection, bounded by `deadline`. Returns the descriptor.
private func connectTCP(host: String, port: Int, deadline: ContinuousClock.Instant) throws -> Int32 {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = streamSocketType
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
        throw TestSupportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(first) }

    var lastError = "no addresses"
    var current: UnsafeMutablePointer<addrinfo>? = first
    while let info = current {
        current = info.pointee.ai_next
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        if fd < 0 {
            lastError = errnoDescription()
            continue
        }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var result = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
        if result != 0 && errno == EINPROGRESS {
            result = waitForConnect(fd, deadline: deadline)
        }
        if result == 0 {
            _ = fcntl(fd, F_SETFL, flags)
            return fd
        }
        lastError = errnoDescription()
        close(fd)
    }
    throw TestSupportError("cannot connect to \(host):\(port): \(lastError)")
}

/// Waits for a non-blocking connect to finish. Returns 0 on success, or -1 with `errno` set.
private func waitForConnect(_ fd: Int32, deadline: ContinuousClock.Instant) -> Int32 {
    while true {
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero {
            errno = ETIMEDOUT
            return -1
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(max(1, min(remaining.timeInterval * 1000, 60_000)))
        let ready = poll(&pfd, 1, milliseconds)
        if ready < 0 {
            if errno == EINTR { continue }
            return -1
        }
        if ready == 0 { continue }
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length) != 0 { return -1 }
        if socketError != 0 {
            errno = socketError
            return -1
        }
        return 0
    }
}

/// Sets SO_RCVTIMEO and SO_SNDTIMEO to the time left until `deadline` (at least 1 ms).
private func setSocketTimeouts(_ fd: Int32, remaining deadline: ContinuousClock.Instant) throws {
    let remaining = ContinuousClock.now.duration(to: deadline)
    guard remaining > .zero else {
        errno = EAGAIN
        throw TestSupportError("socket operation timed out")
    }
    let micros = max(1000, Int(remaining.timeInterval * 1_000_000))
    var tv = timeval(tv_sec: micros / 1_000_000, tv_usec: .init(micros % 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

func errnoDescription(_ code: Int32 = errno) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}

// MARK: - Free ports

/// Ports already handed out by ``freeLoopbackPort()`` in this process, so two servers started by
/// concurrently running tests never get the same port.
private let handedOutPorts = LockedValue<Set<Int>>([])

/// Returns a TCP port on 127.0.0.1 that is free now and has not been returned before in this process.
///
/// Ports are drawn at random from *below* the kernel's ephemeral range (read from
/// `/proc/sys/net/ipv4/ip_local_port_range` on Linux), and each is checked by binding a socket to
/// it. Staying out of the ephemeral range matters for servers that are killed and restarted on
/// the same port: while such a server is down, an outgoing connection (for instance a client that
/// is reconnecting) could otherwise be given its port as a local port and make the restart fail.
/// If no such port can be found, the kernel is asked for one by binding to port 0.
///
/// There is still a window between this check and the server's own bind; ``ApacheZooKeeperServer``
/// and ``ApacheZooKeeperEnsemble`` retry with new ports when their first start fails to bind.
public func freeLoopbackPort() throws -> Int {
    do {
        // Taken ports are reserved here, atomically, so concurrent tests never share one.
        return try LoopbackPorts.free { port in !handedOutPorts.withLock { $0.insert(port).inserted } }
    } catch {
        throw TestSupportError("\(error)")
    }
}
