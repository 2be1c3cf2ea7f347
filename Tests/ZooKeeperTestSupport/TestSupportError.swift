import Foundation

/// The error thrown by every helper in `ZooKeeperTestSupport`.
///
/// The message says what failed; `details` carries supporting output, such as the last lines of a
/// server log or the partial output of a process that timed out, so that a failing test shows
/// why without anyone having to find the temporary directory.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    /// One line saying what went wrong.
    public var message: String
    /// Supporting output (log tail, captured output); empty when there is none.
    public var details: String

    /// Creates an error with a message and optional supporting output.
    public init(_ message: String, details: String = "") {
        self.message = message
        self.details = details
    }

    public var description: String {
        details.isEmpty ? message : "\(message)\n--- details ---\n\(details)"
    }
}

/// A value protected by an `NSLock`, for the mutable state of the `Sendable` classes here.
///
/// `Synchronization.Mutex` would do, but it needs macOS 15 and the package supports macOS 14.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value. Do not block for long inside `body`.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
