import ZooKeeperClient

/// Walks a subtree depth first, children sorted, for `tree`, `find`, `grep`, `du` and `count`.
///
/// Siblings are fetched `concurrency` at a time (like `deleteall`), each with one
/// `getChildren` (and one `getData` when `fetchesData`), and handed to the callbacks in order,
/// so output can stream as the walk goes. Memory stays bounded by depth × `concurrency` nodes.
/// Cancellation (Ctrl-C) is checked before every batch. A node deleted during the walk is
/// skipped; a missing root throws NONODE.
struct SubtreeWalker: Sendable {
    /// One visited node.
    struct Node: Sendable {
        /// The full path.
        var path: String
        /// Depth below the root (the root is 0).
        var depth: Int
        /// The child names, sorted (empty below `maxDepth`, whose children are not listed).
        var children: [String]
        /// The node's stat.
        var stat: Stat
        /// The data, when the walker fetches data.
        var data: [UInt8]?
        /// For each level 1...depth, whether the ancestor (or the node itself, last) at that
        /// level is the last of its siblings: what tree drawing needs.
        var isLast: [Bool]
    }

    let client: ZooKeeperClient
    /// Whether to fetch each node's data too.
    var fetchesData = false
    /// Nodes deeper than this are not visited (nil: no limit).
    var maxDepth: Int? = nil
    /// How many siblings are fetched concurrently.
    var concurrency = DeleteAllCommand.concurrency

    /// Visits the subtree: `enter` before a node's descendants, `leave` after them.
    func walk(_ root: String, enter: (Node) async throws -> Void, leave: (Node) async throws -> Void = { _ in }) async throws {
        try Task.checkCancellation()
        guard let node = try await fetch(root, depth: 0, isLast: []) else { throw ZooKeeperError(.noNode, path: root) }
        try await visit(node, enter: enter, leave: leave)
    }

    private func visit(_ node: Node, enter: (Node) async throws -> Void, leave: (Node) async throws -> Void) async throws {
        try await enter(node)
        let names = node.children
        for start in stride(from: 0, to: names.count, by: concurrency) {
            try Task.checkCancellation()
            let end = min(start + concurrency, names.count)
            let fetched = try await withThrowingTaskGroup(of: (Int, Node?).self) { group in
                for index in start..<end {
                    let path = ZooKeeperPath.join(node.path, names[index])
                    let isLast = node.isLast + [index == names.count - 1]
                    group.addTask { (index, try await fetch(path, depth: node.depth + 1, isLast: isLast)) }
                }
                var batch = [Node?](repeating: nil, count: end - start)
                for try await (index, child) in group { batch[index - start] = child }
                return batch
            }
            for child in fetched {
                guard let child else { continue }
                try await visit(child, enter: enter, leave: leave)
            }
        }
        try await leave(node)
    }

    /// The node's children (sorted) and stat, and its data if wanted; nil when it is gone.
    private func fetch(_ path: String, depth: Int, isLast: [Bool]) async throws -> Node? {
        do {
            var (children, stat) = try await client.getChildren(path)
            if let maxDepth, depth >= maxDepth { children = [] }
            var data: [UInt8]?
            if fetchesData { (data, stat) = try await client.getData(path) }
            return Node(path: path, depth: depth, children: children.sorted(), stat: stat, data: data, isLast: isLast)
        } catch let error as ZooKeeperError where error.isNoNode && depth > 0 {
            return nil
        }
    }

    /// The tree-drawing prefix for a node: `├── `, `└── ` after `│   ` or spaces per ancestor.
    static func treePrefix(isLast: [Bool]) -> String {
        guard let own = isLast.last else { return "" }
        let ancestors = isLast.dropLast().map { $0 ? "    " : "│   " }.joined()
        return ancestors + (own ? "└── " : "├── ")
    }
}
