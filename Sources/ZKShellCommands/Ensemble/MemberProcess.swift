import Dispatch
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

        let pid: pid_t
        do {
            pid = try spawnProcess(
                executable, arguments: arguments, environment: ProcessInfo.processInfo.environment,
                stdin: devNull, stdout: log, stderr: log)
        } catch {
            throw ShellError("\(error)")
        }
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
        let decoded = result == pid ? decodeWaitStatus(raw) : 127
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

}

private func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
