import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on standard error for long recursive work (`deleteall`, `cp`, `export`,
/// `import`, `find`): `cp: 1,234 of ~5,000 nodes`, redrawn in place with `\r` a few times a
/// second and cleared when the work ends.
///
/// The line is only drawn when the shell writes to the process's standard error and that is a
/// terminal, so scripts, pipes and tests never see it. The count is polled from `completed`
/// (a cheap, thread-safe read such as ``DeleteAllCommand/Counter/value``), so the work itself
/// pays nothing per node. Call ``finish()`` exactly once, on success and on failure alike.
final class Progress: @unchecked Sendable {
    /// The command name that starts the line (`cp`).
    let command: String
    /// What is counted, for the line (`copied`, `deleted`, `visited`).
    let verb: String
    /// The expected total, when known (shown as `of ~N`).
    let total: Int?
    private let completed: @Sendable () -> Int
    private let writer: (any OutputWriter)?
    private var task: Task<Void, Never>?
    private let lock = NSLock()
    private var drawn = false

    /// Starts drawing (when standard error is a terminal).
    ///
    /// - Parameters:
    ///   - context: the shell; only a ``StandardOutputWriter`` whose standard error is a terminal
    ///     gets a progress line.
    ///   - command: the command's name, first on the line and in ``interruptedMessage(_:)``.
    ///   - verb: the past participle of the work (`copied`).
    ///   - total: the expected number of nodes, if known.
    ///   - completed: how many nodes are done so far.
    init(_ context: ShellContext, command: String, verb: String, total: Int?, completed: @escaping @Sendable () -> Int) {
        self.command = command
        self.verb = verb
        self.total = total
        self.completed = completed
        let drawsLine = context.output is StandardOutputWriter && isatty(STDERR_FILENO) == 1
        self.writer = drawsLine ? context.output : nil
        if drawsLine {
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    guard let self, !Task.isCancelled else { return }
                    self.draw()
                }
            }
        }
    }

    /// The current line's text without control characters: `cp: 1,234 of ~5,000 nodes copied`.
    var line: String {
        Self.line(command: command, verb: verb, done: completed(), total: total)
    }

    static func line(command: String, verb: String, done: Int, total: Int?) -> String {
        let of = total.map { " of ~\(grouped(max($0, done)))" } ?? ""
        return "\(command): \(grouped(done))\(of) node\(done == 1 && total == nil ? "" : "s") \(verb)"
    }

    /// What Ctrl-C leaves behind: `cp: interrupted after copying 1,234 of ~5,000 nodes`.
    func interruptedMessage(_ gerund: String) -> String {
        let done = completed()
        let of = total.map { " of ~\(Self.grouped(max($0, done)))" } ?? ""
        return "\(command): interrupted after \(gerund) \(Self.grouped(done))\(of) node\(done == 1 && total == nil ? "" : "s")"
    }

    private func draw() {
        guard let writer else { return }
        let text = line
        lock.withLock {
            drawn = true
            writer.writeError("\r\u{1B}[K" + text)
        }
    }

    /// Stops drawing and clears the line.
    func finish() {
        task?.cancel()
        task = nil
        lock.withLock {
            if drawn, let writer { writer.writeError("\r\u{1B}[K") }
            drawn = false
        }
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }
}

extension Progress {
    /// Runs `body` with a progress line, clearing it afterwards. When the work is cancelled
    /// (Ctrl-C), the error becomes ``ShellError`` `cp: interrupted after copying N of ~M nodes`,
    /// so the shell reports what was done (the exit status stays 130).
    static func run<T>(_ context: ShellContext, command: String, verb: String, gerund: String, total: Int?,
                       completed: @escaping @Sendable () -> Int, _ body: () async throws -> T) async throws -> T {
        let progress = Progress(context, command: command, verb: verb, total: total, completed: completed)
        do {
            let result = try await body()
            progress.finish()
            return result
        } catch {
            progress.finish()
            if error is CancellationError || Task.isCancelled {
                throw InterruptedWork(message: progress.interruptedMessage(gerund))
            }
            throw error
        }
    }
}

/// Work stopped by Ctrl-C, with a report of what was done. The runner prints the message and
/// exits with status 130 (it sees the cancelled task), like a plain `CancellationError`.
struct InterruptedWork: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A count shared by concurrent tasks (nodes copied, visited, deleted).
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ amount: Int = 1) { lock.withLock { count += amount } }
}
