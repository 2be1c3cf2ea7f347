import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Drives an interactive program in a detached tmux session, the way a person at a terminal
/// would: send keys, then read the screen.
///
/// ```swift
/// let tmux = try TmuxSession.start(command: [builtProductPath("zksh"), "-server", server.connectString])
/// defer { tmux.kill() }
/// try tmux.waitFor("]$ ")
/// tmux.sendLiteral("ls /")
/// tmux.send(keys: "Enter")
/// let screen = try tmux.waitFor("zookeeper")
/// ```
///
/// Every session runs on its own tmux server (`tmux -L <unique socket name>`), started with an
/// empty configuration (`-f` pointing at a generated file), the status line off and
/// `remain-on-exit on`, so the screen can still be read after the program exits. The program
/// runs under a tiny `/bin/sh` wrapper that records its exit status for ``exitStatus()``.
/// ``kill()`` (or releasing the object) ends that tmux server and everything in it.
public final class TmuxSession: Sendable {
    /// The tmux socket name (`-L`).
    public let socketName: String
    /// The session name.
    public let sessionName = "main"
    private let temporaryDirectory: URL
    /// Where the wrapper around the program writes its exit status.
    private var exitStatusFile: URL { temporaryDirectory.appendingPathComponent("exit-status") }
    /// The server's socket file, which tmux 3.3 leaves behind after `kill-server`.
    private let socketPath = LockedValue<String?>(nil)

    private init(socketName: String, temporaryDirectory: URL) {
        self.socketName = socketName
        self.temporaryDirectory = temporaryDirectory
    }

    deinit {
        kill()
    }

    /// Starts `command` in a new detached tmux session of the given size.
    ///
    /// - Parameters:
    ///   - command: the program and its arguments. It is run directly, not through a shell.
    ///   - environment: variables for the program, added to this process's environment.
    ///     `TERM` inside tmux is tmux's own (`screen` or `tmux-256color`).
    ///   - width: columns.
    ///   - height: rows.
    ///   - workingDirectory: the program's working directory (default: this process's).
    /// - Throws: ``TestSupportError`` if tmux is not installed or the session cannot be created.
    public static func start(
        command: [String],
        environment: [String: String] = [:],
        width: Int = 120,
        height: Int = 40,
        workingDirectory: String? = nil
    ) throws -> TmuxSession {
        precondition(!command.isEmpty, "TmuxSession needs a command")
        let socketName = "zksh-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let directory = try makeTemporaryDirectory(prefix: "zksh-tmux")
        let session = TmuxSession(socketName: socketName, temporaryDirectory: directory)
        let configuration = directory.appendingPathComponent("tmux.conf")
        do {
            try """
                set -g status off
                set -g remain-on-exit on
                set -g history-limit 10000
                set -g escape-time 0

                """.write(to: configuration, atomically: true, encoding: .utf8)
        } catch {
            throw TestSupportError("cannot write \(configuration.path): \(error)")
        }

        var arguments = ["-f", configuration.path, "new-session", "-d", "-s", session.sessionName,
                         "-x", String(width), "-y", String(height)]
        if let workingDirectory { arguments += ["-c", workingDirectory] }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            arguments += ["-e", "\(name)=\(value)"]
        }
        // tmux 3.3 sometimes never reaps a pane's process, leaving `pane_dead_status` empty, so a
        // small wrapper records the exit status in a file. Its `trap : INT QUIT` (a handler, which
        // exec resets to the default in the program) keeps it alive when Control-C reaches the
        // whole foreground process group, so it can still record the program's 130.
        arguments += [
            "--", "/bin/sh", "-c",
            "trap : INT QUIT; f=$1; shift; \"$@\"; s=$?; echo \"$s\" > \"$f\"; exit \"$s\"",
            "zksh-tmux-wrapper", session.exitStatusFile.path,
        ]
        arguments += command
        let result = try session.tmux(arguments, environment: environment)
        guard result.status == 0 else {
            throw TestSupportError(
                "tmux new-session failed with status \(result.status)", details: result.stdout + result.stderr)
        }
        if let path = try? session.tmux(["display-message", "-p", "#{socket_path}"]).stdout {
            let trimmed = path.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { session.socketPath.withLock { $0 = trimmed } }
        }
        // Keep the window at the requested size even though no client is attached.
        _ = try? session.tmux(["set-option", "-t", session.sessionName, "window-size", "manual"])
        _ = try? session.tmux(["resize-window", "-t", session.sessionName, "-x", String(width), "-y", String(height)])
        return session
    }

    /// Sends tmux key names, such as `"Enter"`, `"Tab"`, `"C-c"`, `"Up"`, `"BSpace"`, `"Escape"`.
    /// Text that is not a key name is typed as is, but use ``sendLiteral(_:)`` for text.
    public func send(keys: String...) {
        send(keys: keys)
    }

    /// Sends tmux key names (an array form of the variadic `send(keys:)`).
    public func send(keys: [String]) {
        _ = try? tmux(["send-keys", "-t", sessionName] + keys)
    }

    /// Types `text` literally (no key-name lookup). Does not press Enter.
    public func sendLiteral(_ text: String) {
        _ = try? tmux(["send-keys", "-t", sessionName, "-l", "--", text])
    }

    /// Types `text` and presses Enter.
    public func sendLine(_ text: String) {
        sendLiteral(text)
        send(keys: "Enter")
    }

    /// Presses Control-C.
    public func sendControlC() {
        send(keys: "C-c")
    }

    /// The visible screen as text (`capture-pane -p`), one line per row, trailing blanks trimmed.
    ///
    /// - Parameters:
    ///   - includeHistory: also include the lines that scrolled off the top.
    ///   - escapeSequences: keep colours and attributes as ANSI escape sequences (`-e`).
    public func capture(includeHistory: Bool = false, escapeSequences: Bool = false) -> String {
        var arguments = ["capture-pane", "-p", "-t", sessionName]
        if includeHistory { arguments += ["-S", "-"] }
        if escapeSequences { arguments.append("-e") }
        return (try? tmux(arguments).stdout) ?? ""
    }

    /// Polls the screen until it contains `text`, and returns the screen.
    ///
    /// - Throws: ``TestSupportError`` with the last screen if `text` does not appear in `timeout`.
    @discardableResult
    public func waitFor(_ text: String, timeout: Duration = .seconds(10), includeHistory: Bool = false) throws -> String {
        try waitUntil(description: "\"\(text)\"", timeout: timeout, includeHistory: includeHistory) { $0.contains(text) }
    }

    /// Polls the screen until `condition` holds for it, and returns the screen.
    ///
    /// - Throws: ``TestSupportError`` with the last screen if it does not hold within `timeout`.
    @discardableResult
    public func waitUntil(
        description: String = "condition",
        timeout: Duration = .seconds(10),
        includeHistory: Bool = false,
        _ condition: (String) -> Bool
    ) throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let screen = capture(includeHistory: includeHistory)
            if condition(screen) { return screen }
            if ContinuousClock.now >= deadline {
                throw TestSupportError("\(description) did not appear on the screen within \(timeout)", details: screen)
            }
            usleep(50_000)
        }
    }

    /// The program's exit status once it has exited (128 + signal if a signal ended it), or nil
    /// while it is running.
    public func exitStatus() -> Int32? {
        if let data = FileManager.default.contents(atPath: exitStatusFile.path),
           let status = Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
            return status
        }
        // The wrapper itself was killed: fall back to what tmux knows, if it knows it.
        guard let result = try? tmux(["display-message", "-p", "-t", sessionName, "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}"]),
              result.status == 0
        else { return nil }
        let fields = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard fields.first == "1" else { return nil }
        if fields.count >= 3, let signal = Int32(fields[2]), signal > 0 { return 128 + signal }
        return fields.count >= 2 ? Int32(fields[1]) : nil
    }

    /// Waits until the program exits and returns its exit status.
    ///
    /// - Throws: ``TestSupportError`` with the screen if it is still running after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(10)) throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let status = exitStatus() { return status }
            if ContinuousClock.now >= deadline {
                throw TestSupportError("the program did not exit within \(timeout)", details: capture())
            }
            usleep(50_000)
        }
    }

    /// Ends the tmux server and the program in it. Safe to call more than once.
    public func kill() {
        _ = try? tmux(["kill-server"])
        if let path = socketPath.withLock({ $0 }) { unlink(path) }
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    private func tmux(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess("tmux", ["-L", socketName] + arguments, environment: environment, timeout: .seconds(10))
    }
}
