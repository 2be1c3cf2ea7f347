import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the shell's output goes: command results to standard output, errors and notices to
/// standard error. Implementations must be safe to call from any task.
public protocol OutputWriter: Sendable {
    /// Writes bytes unchanged to standard output.
    func writeOutput(_ bytes: [UInt8])
    /// Writes bytes unchanged to standard error.
    func writeError(_ bytes: [UInt8])
    /// Whether standard output is a terminal (binary data is then never written raw).
    var outputIsTerminal: Bool { get }
    /// Whether standard error is a terminal (errors are then coloured, unless turned off).
    var errorIsTerminal: Bool { get }
}

extension OutputWriter {
    /// By default, standard error is taken to be a terminal exactly when standard output is.
    public var errorIsTerminal: Bool { outputIsTerminal }

    func writeOutput(_ text: String) { writeOutput(Array(text.utf8)) }
    func writeError(_ text: String) { writeError(Array(text.utf8)) }
}

/// Writes to the process's file descriptors 1 and 2 with `write(2)`, without buffering, so
/// output interleaves correctly with the line editor's.
public struct StandardOutputWriter: OutputWriter {
    public let outputIsTerminal: Bool
    public let errorIsTerminal: Bool

    public init() {
        self.outputIsTerminal = isatty(STDOUT_FILENO) == 1
        self.errorIsTerminal = isatty(STDERR_FILENO) == 1
    }

    public func writeOutput(_ bytes: [UInt8]) { Self.write(bytes, to: STDOUT_FILENO) }
    public func writeError(_ bytes: [UInt8]) { Self.write(bytes, to: STDERR_FILENO) }

    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return  // EPIPE and friends: the reader went away; drop the output.
                }
                offset += written
            }
        }
    }
}

private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

/// Collects output in memory (for tests, and for capturing a command's output).
public final class BufferOutputWriter: OutputWriter, @unchecked Sendable {
    private let lock = NSLock()
    private var output: [UInt8] = []
    private var error: [UInt8] = []
    public let outputIsTerminal: Bool

    public init(outputIsTerminal: Bool = false) {
        self.outputIsTerminal = outputIsTerminal
    }

    public func writeOutput(_ bytes: [UInt8]) { lock.withLock { output += bytes } }
    public func writeError(_ bytes: [UInt8]) { lock.withLock { error += bytes } }

    /// Everything written to standard output.
    public var outputBytes: [UInt8] { lock.withLock { output } }
    /// Standard output as text.
    public var outputText: String { String(decoding: outputBytes, as: UTF8.self) }
    /// Standard error as text.
    public var errorText: String { lock.withLock { String(decoding: error, as: UTF8.self) } }

    /// Forgets what was written so far.
    public func reset() {
        lock.withLock {
            output = []
            error = []
        }
    }
}
