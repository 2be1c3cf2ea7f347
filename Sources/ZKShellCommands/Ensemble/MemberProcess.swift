import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Darwin)
private let streamSocketType = SOCK_STREAM
#else
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#endif

/// A member process started by the shell: `zksh serve --config <dir>/zoo.cfg --exit-with-parent`.
///
/// The process is started with `posix_spawn` (Foundation's `Process` is not used: on Linux it
/// keeps waiting on descriptors children inherit). It gets standard input from `/dev/null`,
/// standard output and error appended to its log file, no other descriptors, an empty signal
/// mask, default signal dispositions, and a process group of its own, so that Ctrl-C at the
/// shell's terminal (SIGINT to the terminal's foreground group) does not reach it. A thread
/// waits for it, so it never stays a zombie and its exit status is known at once.
final class MemberProcess: @unchecked Sendable {
    /// The process id.
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?
    private let exited = DispatchSemaphore(value: 0)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `executable` with `arguments`, its output appended to `logFile`.
    ///
    /// - Throws: ``ShellError`` when the log cannot be opened or the program cannot be started.
    static func spawn(executable: String, arguments: [String], logFile: String) throws -> MemberProcess {
        let log = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw ShellError("cannot open \(logFile): \(errnoText())") }
        defer { close(log) }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw ShellError("cannot open /dev/null: \(errnoText())") }
        defer { close(devNull) }

        let pid = try spawnProcess(executable, arguments: arguments, stdin: devNull, output: log)
        let process = MemberProcess(pid: pid)
        let thread = Thread { [process] in process.reap() }
        thread.name = "zksh member \(pid) waiter"
        thread.start()
        return process
    }

    private func reap() {
        var raw: Int32 = 0
        var result: pid_t
        repeat {
            result = waitpid(pid, &raw, 0)
        } while result == -1 && errno == EINTR
        let decoded = result == pid ? Self.decodeWaitStatus(raw) : 127
        lock.withLock { status = decoded }
        exited.signal()
    }

    /// The exit status once the process is gone (128 + N when signal N ended it), else nil.
    var exitStatus: Int32? { lock.withLock { status } }

    /// Whether the process is still running.
    var isRunning: Bool { exitStatus == nil }

    /// Sends `signal` to the process (nothing once it is gone).
    func send(_ signal: Int32) {
        guard isRunning else { return }
        _ = kill(pid, signal)
    }

    /// Waits until the process is gone, at most `timeout`, off the concurrency pool and
    /// regardless of cancellation (a member that was signalled is always waited for).
    ///
    /// - Returns: whether it is gone.
    func waitForExit(timeout: Duration) async -> Bool {
        if !isRunning { return true }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [self] in
                continuation.resume(returning: waitForExitBlocking(seconds: seconds))
            }
        }
    }

    /// ``waitForExit(timeout:)`` for synchronous callers.
    func waitForExitBlocking(seconds: Double) -> Bool {
        if !isRunning { return true }
        guard exited.wait(timeout: .now() + seconds) == .success else { return false }
        exited.signal()  // for the next waiter
        return true
    }

    /// SIGTERM, then SIGKILL when the process is still running after `grace`; returns once it
    /// is gone.
    func terminate(grace: Duration) async {
        send(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        send(SIGKILL)
        _ = await waitForExit(timeout: .seconds(30))
    }

    /// A shell-style exit status from a `waitpid` status.
    static func decodeWaitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}

/// Starts `executable` with the given standard input and output (also standard error), nothing
/// else open, an empty signal mask, default signal dispositions and a new process group.
private func spawnProcess(_ executable: String, arguments: [String], stdin: Int32, output: Int32) throws -> pid_t {
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
    posix_spawn_file_actions_adddup2(&actions, output, 1)
    posix_spawn_file_actions_adddup2(&actions, output, 2)
    #if canImport(Darwin)
    let flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_CLOEXEC_DEFAULT)
    #else
    // Like POSIX_SPAWN_CLOEXEC_DEFAULT: close every other descriptor, at spawn time if glibc can
    // (2.34+), else those open now (the shell's sockets, its history file).
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

    let environment = ProcessInfo.processInfo.environment
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard result == 0 else {
        throw ShellError("cannot run \(executable): \(errnoText(result))")
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

private func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Free TCP ports on 127.0.0.1 for the members of a local ensemble.
enum LoopbackPorts {
    /// `count` different ports that are free now and not in `excluding`.
    ///
    /// Ports are drawn at random from below the kernel's range for outgoing connections and
    /// checked by binding them. Staying out of that range matters for members that are killed
    /// and restarted on the same ports: while one is down, a client reconnecting to the others
    /// could otherwise be given its port as a local port, and the restart would fail to bind.
    /// When no such port is found, the kernel picks one (binding port 0).
    ///
    /// - Throws: ``ShellError`` when not enough ports can be found.
    static func free(count: Int, excluding: Set<Int> = []) throws -> [Int] {
        var chosen: [Int] = []
        var taken = excluding
        let ephemeralLow = ephemeralRange().lowerBound
        let low = 20_000
        var generator = SystemRandomNumberGenerator()
        while chosen.count < count {
            var found: Int?
            if ephemeralLow - low >= 1_000 {
                for _ in 0..<200 {
                    let candidate = Int.random(in: low..<ephemeralLow, using: &generator)
                    if !taken.contains(candidate), bindLoopback(port: candidate) != nil {
                        found = candidate
                        break
                    }
                }
            }
            if found == nil {
                for _ in 0..<50 {
                    if let port = bindLoopback(port: 0), !taken.contains(port) {
                        found = port
                        break
                    }
                }
            }
            guard let port = found else { throw ShellError("ensemble: could not find a free loopback port") }
            chosen.append(port)
            taken.insert(port)
        }
        return chosen
    }

    /// The kernel's range of ports for outgoing connections.
    private static func ephemeralRange() -> ClosedRange<Int> {
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
    private static func bindLoopback(port: Int) -> Int? {
        let fd = socket(AF_INET, streamSocketType, 0)
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
