import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a process could not be started or a port not found.
public struct ProcessSupportError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Starts `executable` with the given standard descriptors and nothing else open, an empty
/// signal mask, default signal dispositions and a new process group (so a terminal's Ctrl-C,
/// and signals the caller blocks or ignores, do not reach it).
///
/// - Throws: ``ProcessSupportError`` naming the program and the reason.
public func spawnProcess(
    _ executable: String, arguments: [String], environment: [String: String],
    stdin: Int32, stdout: Int32, stderr: Int32
) throws -> pid_t {
    #if canImport(Darwin)
    var actions: posix_spawn_file_actions_t? = nil
    var attributes: posix_spawnattr_t? = nil
    #else
    var actions = posix_spawn_file_actions_t()
    var attributes = posix_spawnattr_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }

    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    #if canImport(Darwin)
    let flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_CLOEXEC_DEFAULT)
    #else
    // Like POSIX_SPAWN_CLOEXEC_DEFAULT: close every other descriptor, at spawn time if glibc can
    // (2.34+), else those open now.
    if let addCloseFrom = posixSpawnAddCloseFrom {
        _ = addCloseFrom(&actions, 3)
    } else {
        for fd in openFileDescriptors() where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
    let flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
    #endif
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    sigdelset(&allSignals, SIGKILL)
    sigdelset(&allSignals, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(flags))

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else {
        throw ProcessSupportError(description: "cannot run \(executable): \(String(cString: strerror(result)))")
    }
    return pid
}

#if !canImport(Darwin)
/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does
/// not import; nil where it does not exist.
private let posixSpawnAddCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return nil
    }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// The descriptors open in this process, from /proc/self/fd.
private func openFileDescriptors() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    let fds = names.compactMap { Int32($0) }
    return fds.isEmpty ? Array(3..<1024) : fds
}
#endif

/// A shell-style exit status from a `waitpid` status: the exit code, or 128 + the signal.
public func decodeWaitStatus(_ status: Int32) -> Int32 {
    let signal = status & 0x7f
    if signal == 0 { return (status >> 8) & 0xff }
    return 128 + signal
}

/// TCP ports on 127.0.0.1 for servers this process starts.
public enum LoopbackPorts {
    /// A port that is free now and not in `excluding`.
    ///
    /// Ports are drawn at random from below the kernel's range for outgoing connections and
    /// checked by binding them. Staying out of that range matters for servers that are killed
    /// and restarted on the same port: while one is down, a reconnecting client could otherwise
    /// be given its port as a local port, and the restart would fail to bind. When no such port
    /// is found, the kernel picks one (binding port 0).
    ///
    /// - Throws: ``ProcessSupportError`` when no port can be found.
    public static func free(excluding: (Int) -> Bool = { _ in false }) throws -> Int {
        let ephemeralLow = ephemeralRange().lowerBound
        let low = 20_000
        if ephemeralLow - low >= 1_000 {
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<200 {
                let candidate = Int.random(in: low..<ephemeralLow, using: &generator)
                if !excluding(candidate), bindLoopback(port: candidate) != nil { return candidate }
            }
        }
        for _ in 0..<50 {
            if let port = bindLoopback(port: 0), !excluding(port) { return port }
        }
        throw ProcessSupportError(description: "could not find a free loopback port")
    }

    /// `count` different free ports, none in `excluding`.
    public static func free(count: Int, excluding: Set<Int> = []) throws -> [Int] {
        var taken = excluding
        var chosen: [Int] = []
        while chosen.count < count {
            let port = try free { taken.contains($0) }
            chosen.append(port)
            taken.insert(port)
        }
        return chosen
    }

    /// The kernel's range of ports for outgoing connections.
    static func ephemeralRange() -> ClosedRange<Int> {
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) {
            let numbers = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
            if numbers.count == 2, numbers[0] <= numbers[1] { return numbers[0]...numbers[1] }
        }
        return 32768...60999
        #else
        return 49152...65535
        #endif
    }

    /// Binds a TCP socket to 127.0.0.1:`port` (0: any), closes it, and returns the bound port,
    /// or nil when the port is taken.
    static func bindLoopback(port: Int) -> Int? {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
