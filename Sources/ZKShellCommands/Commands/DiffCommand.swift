import ArgumentParser
import ZooKeeperClient

/// `diff A B`: compares two subtrees.
struct DiffCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two subtrees, here or on other clusters.",
        discussion: """
            Prints one line per difference, paths relative to the compared nodes (/ is the \
            nodes themselves), depth first, children sorted: '+ /x' only in B, '- /y' only in \
            A, '~ /z (data, acl, mode)' in both but different. Exit status 1 when the trees \
            differ, like diff(1). The server's /zookeeper subtree is skipped.

            Examples:
              diff /app /app-backup
              diff /app zk://10.0.0.2:2181/app
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The first tree: PATH or zk://hosts/path.", valueName: "a"))
    var first: String

    @Argument(help: ArgumentHelp("The second tree: PATH or zk://hosts/path.", valueName: "b"))
    var second: String

    func validate() throws {
        do {
            _ = try TreeLocation(first, allowsFile: false)
            _ = try TreeLocation(second, allowsFile: false)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// One difference.
    struct Difference: Equatable {
        enum Kind: String { case added = "+", removed = "-", changed = "~" }
        var kind: Kind
        var path: String
        var aspects: [String] = []

        var line: String {
            "\(kind.rawValue) \(path)" + (aspects.isEmpty ? "" : " (\(aspects.joined(separator: ", ")))")
        }
    }

    func run(in context: ShellContext) async throws {
        let a = try await OpenTree.open(try TreeLocation(first, allowsFile: false), in: context)
        let b: OpenTree
        do {
            b = try await OpenTree.open(try TreeLocation(second, allowsFile: false), in: context)
        } catch {
            await a.close()
            throw error
        }
        do {
            let count = try await compare(a, b, in: context)
            await a.close()
            await b.close()
            if count > 0 { throw ShellError.silent }
        } catch {
            await a.close()
            await b.close()
            throw error
        }
    }

    private func compare(_ a: OpenTree, _ b: OpenTree, in context: ShellContext) async throws -> Int {
        let left = ZooKeeperTreeReader(client: a.client, root: a.root)
        let right = ZooKeeperTreeReader(client: b.client, root: b.root)
        guard let leftRoot = try await left.node(at: "/") else { throw ZooKeeperError(.noNode, path: a.root) }
        guard let rightRoot = try await right.node(at: "/") else { throw ZooKeeperError(.noNode, path: b.root) }
        let json = output.wantsJSON(context)
        var differences: [JSONValue] = []
        var count = 0
        func report(_ difference: Difference) {
            count += 1
            if json {
                var object: [String: JSONValue] = ["kind": .string(difference.kind == .added ? "added" : difference.kind == .removed ? "removed" : "changed"),
                                                   "path": .string(difference.path)]
                if !difference.aspects.isEmpty { object["aspects"] = .array(difference.aspects.map { .string($0) }) }
                differences.append(.object(object))
            } else {
                context.print(difference.line)
            }
        }
        let visited = AtomicCounter()
        try await Progress.run(context, command: "diff", verb: "compared", gerund: "comparing", total: nil, completed: { visited.value }) {
            try await walk(left, right, leftRoot, rightRoot, visited: visited, report: report)
        }
        if json {
            context.printJSON(["a": .string(a.label), "b": .string(b.label), "identical": .bool(count == 0), "differences": .array(differences)])
        }
        return count
    }

    private typealias Fetched = (node: TreeNode, children: [String])

    private func walk(_ left: ZooKeeperTreeReader, _ right: ZooKeeperTreeReader, _ a: Fetched, _ b: Fetched,
                      visited: AtomicCounter, report: (Difference) -> Void) async throws {
        visited.add()
        var aspects: [String] = []
        if a.node.data != b.node.data { aspects.append("data") }
        if a.node.acl != b.node.acl { aspects.append("acl") }
        if a.node.mode != b.node.mode { aspects.append("mode") }
        if !aspects.isEmpty { report(Difference(kind: .changed, path: a.node.relative, aspects: aspects)) }
        let names = Array(Set(a.children).union(b.children)).sorted()
        let concurrency = 32
        for start in stride(from: 0, to: names.count, by: concurrency) {
            try Task.checkCancellation()
            let slice = Array(names[start..<min(start + concurrency, names.count)])
            let pairs = try await withThrowingTaskGroup(of: (Int, Fetched?, Fetched?).self) { group in
                for (index, name) in slice.enumerated() {
                    let relative = ZooKeeperPath.join(a.node.relative, name)
                    group.addTask {
                        async let x = left.node(at: relative)
                        async let y = right.node(at: relative)
                        return (index, try await x, try await y)
                    }
                }
                var pairs = [(Fetched?, Fetched?)](repeating: (nil, nil), count: slice.count)
                for try await (index, x, y) in group { pairs[index] = (x, y) }
                return pairs
            }
            for (x, y) in pairs {
                switch (x, y) {
                case let (x?, y?):
                    try await walk(left, right, x, y, visited: visited, report: report)
                case let (x?, nil):
                    try await listAll(left, x.node.relative, kind: .removed, report: report)
                case let (nil, y?):
                    try await listAll(right, y.node.relative, kind: .added, report: report)
                case (nil, nil):
                    continue  // deleted on both sides meanwhile
                }
            }
        }
    }

    /// Reports a node and its whole subtree as added or removed.
    private func listAll(_ reader: ZooKeeperTreeReader, _ relative: String, kind: Difference.Kind, report: (Difference) -> Void) async throws {
        let sub = ZooKeeperTreeReader(client: reader.client, root: ZooKeeperPath.appending(relative, to: reader.root))
        do {
            try await sub.read(enter: { node in
                report(Difference(kind: kind, path: ZooKeeperPath.appending(node.relative, to: relative)))
            }, leave: { _ in })
        } catch let error as ZooKeeperError where error.isNoNode {
            return
        }
    }
}
