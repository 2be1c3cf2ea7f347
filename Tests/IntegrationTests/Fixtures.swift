import Foundation
import Logging
import NIOPosix
import ZooKeeperClient
import ZooKeeperTestSupport

/// One standalone server of each kind shared by the client tests that do not stop it; each test
/// works under its own unique path. A kind's server starts when a test first asks for it.
enum SharedServer {
    private static let apache = Task { try await ApacheZooKeeperServer.start() }
    private static let zksh = Task { try await ZkshServer.start() }

    /// The shared Apache ZooKeeper.
    static func get() async throws -> ApacheZooKeeperServer { try await apache.value }

    /// The shared server of `kind`.
    static func get(_ kind: TestServerKind) async throws -> any TestServer {
        switch kind {
        case .apache: return try await apache.value
        case .zksh: return try await zksh.value
        }
    }
}

/// The event loop group the integration tests use.
let testEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

/// A unique test root path such as `/it-3F2A91C0`.
func uniquePath(_ label: String = "it") -> String {
    "/\(label)-\(UUID().uuidString.prefix(8))"
}

/// A connected client.
func connectedClient(
    _ connectString: String, sessionTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(20),
    configure: (inout ZooKeeperClient.Configuration) -> Void = { _ in }
) async throws -> ZooKeeperClient {
    var configuration = try ZooKeeperClient.Configuration(connectString: connectString)
    configuration.sessionTimeout = sessionTimeout
    configuration.connectTimeout = connectTimeout
    configure(&configuration)
    let client = ZooKeeperClient(configuration: configuration, eventLoopGroup: testEventLoopGroup)
    try await client.connect()
    return client
}

/// Retries an operation through connection losses (as an application would during failover).
func retryingConnectionLoss<T: Sendable>(
    attempts: Int = 100, _ operation: () async throws -> T
) async throws -> T {
    var attempt = 0
    while true {
        do {
            return try await operation()
        } catch let error as ZooKeeperError where error.code == .connectionLoss && attempt < attempts {
            attempt += 1
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Waits for the next element of a watch within a deadline.
func nextEvent(_ watch: ZooKeeperWatch, within timeout: Duration = .seconds(15)) async throws -> WatchedEvent? {
    try await withThrowingTaskGroup(of: WatchedEvent?.self) { group in
        group.addTask {
            var iterator = watch.makeAsyncIterator()
            return try await iterator.next()
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestSupportError("no watch event within \(timeout)")
        }
        let first = try await group.next()!
        group.cancelAll()
        return first
    }
}

/// Waits until `condition` holds, polling, within a deadline.
func eventually(_ what: String, within timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestSupportError("timed out waiting until \(what)")
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Runs blocking work (a child process, polling a terminal) on its own thread, so it never
/// occupies one of the few threads Swift concurrency shares between all tests.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

extension TmuxSession {
    /// Presses Tab until `expected` shows, like a person would: completion gives up after a
    /// moment when the server is slow (a busy CI machine), and its lookup fills the cache, so
    /// the next Tab is instant.
    func pressTab(untilScreenShows expected: String) async -> Bool {
        for _ in 0..<4 {
            send(keys: "Tab")
            if (try? await waitFor(expected, timeout: .seconds(5))) != nil { return true }
        }
        return false
    }

    func waitFor(_ text: String, timeout: Duration = .seconds(15)) async throws -> String {
        try await blocking { try self.waitFor(text, timeout: timeout, includeHistory: false) }
    }

    func waitUntil(timeout: Duration, _ condition: @escaping @Sendable (String) -> Bool) async throws -> String {
        try await blocking { try self.waitUntil(description: "condition", timeout: timeout, includeHistory: false, condition) }
    }

    func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        try await blocking { try self.waitForExit(timeout: timeout) }
    }
}
