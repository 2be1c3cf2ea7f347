import ArgumentParser
import Foundation
import ZooKeeperClient

/// `deleteall PATH`: deletes a node and its whole subtree, deepest nodes first.
struct DeleteAllCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "deleteall",
        abstract: "Delete a node and everything below it.",
        discussion: """
            Deletes depth first and reports how many nodes were deleted. Ctrl-C stops it; what was \
            deleted stays deleted. Nodes that others delete meanwhile are skipped.

            Examples:
              deleteall /app/tmp
              deleteall --json /app/cache
            """,
        aliases: ["rmr"])

    @OptionGroup var output: OutputOptions

    @Argument(help: "The top node of the subtree.")
    var path: String

    /// How many siblings are deleted concurrently.
    static let concurrency = 64

    func run(in context: ShellContext) async throws {
        let path = context.resolve(self.path)
        guard path != "/" else { throw ShellError("refusing to delete the root node /") }
        let client = try await context.client()
        guard try await client.exists(path) != nil else { throw ZooKeeperError(.noNode, path: path) }
        let counter = Counter()
        let total = try? await client.getAllChildrenNumber(path) + 1
        do {
            try await Progress.run(context, command: "deleteall", verb: "deleted", gerund: "deleting", total: total,
                                   completed: { counter.value }) {
                try await Self.deleteTree(path, client: client, counter: counter)
            }
        } catch {
            if counter.value > 0 && !(error is InterruptedWork) {
                context.printError("\(path): stopped after deleting \(counter.value) node\(counter.value == 1 ? "" : "s")")
            }
            throw error
        }
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(path), "deleted": .integer(Int64(counter.value))])
        } else {
            context.print("Deleted \(counter.value) node\(counter.value == 1 ? "" : "s")")
        }
    }

    /// Lists the subtree level by level, then deletes it deepest level first, `concurrency`
    /// requests at a time. A node already gone is skipped; a node that gained children meanwhile
    /// is emptied again (twice at most).
    static func deleteTree(_ root: String, client: ZooKeeperClient, counter: Counter, retries: Int = 2) async throws {
        var levels: [[String]] = [[root]]
        while let deepest = levels.last, !deepest.isEmpty {
            var next: [String] = []
            for batch in deepest.chunked(into: concurrency) {
                try Task.checkCancellation()
                next += try await withThrowingTaskGroup(of: [String].self) { group in
                    for node in batch {
                        group.addTask {
                            do {
                                return try await client.getChildren(node).children.sorted().map { ZooKeeperPath.join(node, $0) }
                            } catch let error as ZooKeeperError where error.isNoNode {
                                return []
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            levels.append(next)
        }
        for level in levels.reversed() {
            for batch in level.chunked(into: concurrency) {
                try Task.checkCancellation()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for node in batch {
                        group.addTask {
                            do {
                                try await client.delete(node)
                                counter.increment()
                            } catch let error as ZooKeeperError where error.isNoNode {
                                return
                            } catch let error as ZooKeeperError where error.code == .notEmpty && retries > 0 {
                                try await deleteTree(node, client: client, counter: counter, retries: retries - 1)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    /// Counts deleted nodes across concurrent tasks.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func increment() { lock.withLock { count += 1 } }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
