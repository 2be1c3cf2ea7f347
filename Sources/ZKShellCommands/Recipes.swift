import Foundation
import ZooKeeperClient

/// The node names of the lock and election recipes (`lock`, `elect`).
///
/// zksh names contender nodes as kazoo does: `<32 hex digits>__lock__<sequence>`, ephemeral and
/// sequential, with the contender's identifier as data. kazoo's `Lock` and `Election` (and so
/// Python programs using them) and zksh therefore queue in the same order on the same path. The
/// random prefix lets a contender find its own node again after a connection loss during the
/// create. ZooKeeper's own recipe (`lock-<sequence>`) differs only in the prefix; such nodes
/// are not recognised as contenders.
///
/// Contenders are ordered by the sequence number after the `__lock__` (or kazoo's read-lock
/// `__rlock__`) marker; other children of the path are ignored.
public enum LockNodeName {
    public static let marker = "__lock__"
    static let markers = ["__lock__", "__rlock__"]

    /// A new contender prefix: a random UUID's hex digits and `__lock__`.
    public static func newPrefix() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() + marker
    }

    /// The sequence part of a contender name, or nil for a name that is not a contender.
    public static func sequence(of name: String) -> String? {
        for marker in markers {
            if let range = name.range(of: marker) { return String(name[range.upperBound...]) }
        }
        return nil
    }

    /// The contenders among `names`, first in line first.
    public static func queue(_ names: [String]) -> [String] {
        var contenders: [(name: String, sequence: String)] = []
        for name in names {
            if let sequence = sequence(of: name) { contenders.append((name, sequence)) }
        }
        contenders.sort { lhs, rhs in lhs.sequence == rhs.sequence ? lhs.name < rhs.name : lhs.sequence < rhs.sequence }
        return contenders.map(\.name)
    }
}

/// One contender in a lock or election queue under `directory`.
struct LockContender: Sendable {
    let client: ZooKeeperClient
    let directory: String
    /// The node's data: the identifier kazoo's `contenders()` reports.
    let identifier: String
    /// The name of this contender's node (`…__lock__0000000003`).
    let name: String

    var path: String { ZooKeeperPath.join(directory, name) }

    /// Creates the directory (and its parents) if needed and this contender's node.
    ///
    /// A connection loss during the create is resolved by looking for a child with this
    /// contender's random prefix, as kazoo does.
    static func enter(client: ZooKeeperClient, directory: String, identifier: String) async throws -> LockContender {
        try await Recipes.createPath(directory, client: client)
        let prefix = LockNodeName.newPrefix()
        var attempts = 0
        while true {
            do {
                let created = try await client.create(
                    ZooKeeperPath.join(directory, prefix), data: Array(identifier.utf8), mode: .ephemeralSequential)
                return LockContender(client: client, directory: directory, identifier: identifier, name: ZooKeeperPath.name(of: created.path))
            } catch let error as ZooKeeperError where error.code == .connectionLoss && attempts < 50 {
                attempts += 1
                try await Task.sleep(for: .milliseconds(200))
                if let mine = try? await client.getChildren(directory).children.first(where: { $0.hasPrefix(prefix) }) {
                    return LockContender(client: client, directory: directory, identifier: identifier, name: mine)
                }
            }
        }
    }

    /// Deletes this contender's node, even from a cancelled task; errors are ignored (the
    /// session's end removes the node anyway).
    func leave() async {
        let client = self.client
        let path = self.path
        await Task { try? await client.delete(path) }.value
    }

    /// The identifiers (node data) of `names`, the node name for a node without data; nodes
    /// that vanished meanwhile are left out.
    func identifiers(of names: [String]) async throws -> [String] {
        var identifiers: [String] = []
        for name in names {
            do {
                let data = try await client.getData(ZooKeeperPath.join(directory, name)).data
                identifiers.append(data.isEmpty ? name : String(decoding: data, as: UTF8.self))
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue
            }
        }
        return identifiers
    }
}

/// Helpers shared by the recipe commands.
enum Recipes {
    /// Creates `path` and its missing ancestors as persistent nodes.
    static func createPath(_ path: String, client: ZooKeeperClient) async throws {
        guard path != "/" else { return }
        if try await client.exists(path) != nil { return }
        var ancestors: [String] = []
        var node = path
        while node != "/" {
            ancestors.append(node)
            node = ZooKeeperPath.parent(of: node)
        }
        for ancestor in ancestors.reversed() {
            do {
                _ = try await client.create(ancestor)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
    }

    /// Waits for the watch's next event.
    ///
    /// - Returns: the event; nil when the deadline passed first or the watch finished (the
    ///   client was closed).
    /// - Throws: `CancellationError` when the task is cancelled (Ctrl-C); the watch's error
    ///   (session expired).
    static func nextEvent(_ watch: ZooKeeperWatch, until deadline: ContinuousClock.Instant? = nil) async throws -> WatchedEvent? {
        let event: WatchedEvent? = try await withThrowingTaskGroup(of: WatchedEvent?.self) { group in
            group.addTask {
                var iterator = watch.makeAsyncIterator()
                return try await iterator.next()
            }
            if let deadline {
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return nil
                }
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        try Task.checkCancellation()
        return event
    }

    /// This process's default identifier: `HOST:PID`.
    static var defaultIdentifier: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
