import Foundation
import ProcessSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion and captures its output, for tests of command-line tools.
///
/// - Parameters:
///   - path: the program. A name without a slash is looked up in `PATH`.
///   - args: the arguments, not including the program name.
///   - stdin: text written to the program's standard input, which is then closed. When `nil`,
///     standard input is `/dev/null`.
///   - environment: variables *added to* (or replacing entries of) this process's environment.
///     `nil` passes the environment unchanged.
///   - currentDirectory: the working directory; `nil` keeps this process's.
///   - timeout: how long the program may run. When it is exceeded, the program's whole process
///     group gets SIGTERM, then SIGKILL two seconds later, and the call throws with whatever
///     output was captured.
/// - Returns: the exit status (128 + signal number if a signal ended the program) and the captured
///   standard output and standard error, decoded as UTF-8.
///
/// The program is started with `posix_spawn` rather than Foundation's `Process`, because
/// `Process` on Linux notices that a child exited only when every copy of a socket it passes to
/// the child is closed: a program that leaves a daemon behind (such as `tmux new-session -d`,
/// which starts the tmux server) would look as if it never exited. Here the child gets only
/// descriptors 0, 1 and 2, an empty signal mask and default signal dispositions (so it is not
/// affected by signals the test process blocks or ignores), and its own process group, so that
/// a timeout also ends the programs it started (as `zkCli.sh` starts `java`).
///
/// Output is read while the program runs, so a program that writes a lot cannot deadlock on a
/// full pipe.
public func runProcess(
    _ path: String,
    _ args: [String],
    stdin: String? = nil,
    environment: [String: String]? = nil,
    currentDirectory: String? = nil,
    timeout: Duration
) throws -> (status: Int32, stdout: String, stderr: String) {
    var executable = try resolveExecutable(path)
    var arguments = args
    if let currentDirectory {
        arguments = ["-c", "cd \"$0\" && exec \"$@\"", currentDirectory, executable] + arguments
        executable = "/bin/sh"
    }
    var variables = ProcessInfo.processInfo.environment
    if let environment { variables.merge(environment) { _, new in new } }

    let stdinPipe = try makePipe()
    let stdoutPipe = try makePipe()
    let stderrPipe = try makePipe()
    let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { if devNull >= 0 { close(devNull) } }

    let pid: pid_t
    do {
        defer {
            // The child's ends, which the parent does not need.
            close(stdinPipe.read)
            close(stdoutPipe.write)
            close(stderrPipe.write)
        }
        do {
            pid = try spawnProcess(
                executable, arguments: arguments, environment: variables,
                stdin: stdin == nil ? devNull : stdinPipe.read, stdout: stdoutPipe.write, stderr: stderrPipe.write)
        } catch {
            throw TestSupportError("\(error)")
        }
    } catch {
        close(stdinPipe.write)
        close(stdoutPipe.read)
        close(stderrPipe.read)
        throw error
    }

    let stdoutCollector = OutputCollector(fd: stdoutPipe.read)
    let stderrCollector = OutputCollector(fd: stderrPipe.read)
    stdoutCollector.start()
    stderrCollector.start()
    startWriter(fd: stdinPipe.write, data: Array((stdin ?? "").utf8))

    let waiter = ExitWaiter(pid: pid)
    waiter.start()
    guard let rawStatus = waiter.wait(upTo: timeout.timeInterval) else {
        kill(-pid, SIGTERM)
        if waiter.wait(upTo: 2) == nil {
            kill(-pid, SIGKILL)
            _ = waiter.wait(upTo: 5)
        }
        _ = stdoutCollector.finish(waitingUpTo: 1)
        _ = stderrCollector.finish(waitingUpTo: 1)
        throw TestSupportError(
            "\(path) \(args.joined(separator: " ")) did not finish within \(timeout)",
            details: "stdout:\n\(stdoutCollector.text)\nstderr:\n\(stderrCollector.text)")
    }
    // Programs the child started may keep the pipes open; don't wait for them for long.
    _ = stdoutCollector.finish(waitingUpTo: 5)
    _ = stderrCollector.finish(waitingUpTo: 5)
    return (decodeWaitStatus(rawStatus), stdoutCollector.text, stderrCollector.text)
}

/// Finds `name` in `PATH` unless it already contains a slash.
func resolveExecutable(_ name: String) throws -> String {
    if name.contains("/") {
        guard FileManager.default.isExecutableFile(atPath: name) else {
            throw TestSupportError("\(name) does not exist or is not executable")
        }
        return name
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw TestSupportError("\(name) not found in PATH (\(path))")
}

/// A pipe whose descriptors are close-on-exec (the child gets copies via dup2, which clears the
/// flag). Spawns here and in Foundation close all other descriptors in the child anyway.
private func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw TestSupportError("pipe() failed: \(errnoDescription())") }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
}

/// Waits for a child on a dedicated thread, so the wait can be bounded.
private final class ExitWaiter: @unchecked Sendable {
    private let pid: pid_t
    private let status = LockedValue<Int32?>(nil)
    private let exited = DispatchSemaphore(value: 0)

    init(pid: pid_t) {
        self.pid = pid
    }

    func start() {
        Thread { [self] in
            var raw: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &raw, 0)
            } while result == -1 && errno == EINTR
            status.withLock { $0 = result == pid ? raw : (127 << 8) }
            exited.signal()
            exited.signal()  // Once for each possible waiter; wait(upTo:) re-signals.
        }.start()
    }

    /// The raw wait status, or nil if the child is still running after `seconds`.
    func wait(upTo seconds: Double) -> Int32? {
        if let done = status.withLock({ $0 }) { return done }
        guard exited.wait(timeout: .now() + seconds) == .success else { return nil }
        exited.signal()
        return status.withLock { $0 }
    }
}

/// Writes `data` to `fd` on a background thread, then closes it. SIGPIPE is blocked on that
/// thread, so a child that exits without reading makes the write fail with EPIPE instead of
/// killing the test process.
private func startWriter(fd: Int32, data: [UInt8]) {
    Thread {
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &block, nil)
        var offset = 0
        while offset < data.count {
            let n = data[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            offset += n
        }
        close(fd)
    }.start()
}

/// Reads a pipe on a background thread until end of file, keeping what has arrived so far.
private final class OutputCollector: @unchecked Sendable {
    private let fd: Int32
    private let data = LockedValue([UInt8]())
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32) {
        self.fd = fd
    }

    func start() {
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    data.withLock { $0.append(contentsOf: buffer[0..<n]) }
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            done.signal()
        }.start()
    }

    /// Waits until end of file or `seconds`; returns whether end of file was reached.
    func finish(waitingUpTo seconds: Double) -> Bool {
        guard done.wait(timeout: .now() + seconds) == .success else { return false }
        done.signal()
        return true
    }

    var text: String {
        data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}
