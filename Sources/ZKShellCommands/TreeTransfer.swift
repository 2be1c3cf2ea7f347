import Foundation
import NIOCore
import ZooKeeperClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Nodes

/// One node as `cp`, `export`, `import` and `diff` see it.
struct TreeNode: Sendable, Equatable {
    /// How the node was created, as far as a client can tell.
    enum Mode: String, Sendable {
        case persistent, ephemeral, container, ttl
    }

    /// The node's full path where it is read from.
    var path: String
    /// The path below the copied root: `/` for the root itself, `/a/b` below it.
    var relative: String
    var data: [UInt8]
    var acl: [ACL]
    var mode: Mode
    /// Milliseconds, for TTL nodes.
    var ttl: Int64?
    /// Whether the node has children (they follow as their own nodes).
    var hasChildren: Bool
}

extension ZooKeeperPath {
    /// `root` + `relative` (`/a` + `/` is `/a`, `/a` + `/x/y` is `/a/x/y`, `/` + `/x` is `/x`).
    static func appending(_ relative: String, to root: String) -> String {
        if relative == "/" { return root }
        return root == "/" ? relative : root + relative
    }
}

// MARK: - Locations

/// Where a tree lives: a path of the current session, a path of another cluster
/// (`zk://host:port[,host:port]/path`), or a JSON file (`file.json`, `-` for standard input or
/// output).
enum TreeLocation: Equatable, Sendable {
    case current(path: String)
    case cluster(hosts: String, path: String)
    case file(String)

    /// Parses an argument: `zk://…` is another cluster, `-` or a name ending in `.json` a file,
    /// anything else a path of the current session.
    init(_ argument: String, allowsFile: Bool = true) throws(UsageError) {
        if argument.hasPrefix("zk://") {
            let rest = argument.dropFirst("zk://".count)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let hosts = String(rest[..<slash])
            guard !hosts.isEmpty else { throw UsageError(message: "'\(argument)' names no server (zk://host:port/path)") }
            let path = slash == rest.endIndex ? "/" : String(rest[slash...])
            self = .cluster(hosts: hosts, path: ZooKeeperPath.resolve(path, against: "/"))
        } else if allowsFile && (argument == "-" || argument.lowercased().hasSuffix(".json")) {
            self = .file(argument)
        } else {
            self = .current(path: argument)
        }
    }
}

/// An open ZooKeeper tree: a client and a root path, plus whether the client is ours to close.
struct OpenTree: Sendable {
    var client: ZooKeeperClient
    var root: String
    var ownsClient: Bool
    var label: String

    /// Opens the current session's tree, or a second session to another cluster (with the
    /// shell's credentials).
    static func open(_ location: TreeLocation, in context: ShellContext) async throws -> OpenTree {
        switch location {
        case .current(let path):
            return OpenTree(client: try await context.client(), root: context.resolve(path), ownsClient: false, label: context.resolve(path))
        case .cluster(let hosts, let path):
            var configuration = try ZooKeeperClient.Configuration(connectString: hosts)
            configuration.connectTimeout = context.options.connectTimeout
            configuration.sessionTimeout = context.options.sessionTimeout
            context.applySecurity(to: &configuration)
            let client = ZooKeeperClient(configuration: configuration, eventLoopGroup: context.eventLoopGroup, logger: context.logger)
            do {
                try await client.connect()
            } catch {
                try? await client.close()
                if let error = error as? ZooKeeperError, error.code == .connectionLoss, let detail = error.detail {
                    throw ShellError(ShellContext.conciseConnectFailure(detail, servers: hosts))
                }
                throw error
            }
            return OpenTree(client: client, root: path, ownsClient: true, label: "zk://\(hosts)\(path)")
        case .file(let name):
            preconditionFailure("a file is not a ZooKeeper tree: \(name)")
        }
    }

    func close() async {
        if ownsClient { try? await client.close() }
    }

    /// The number of nodes of the subtree (one request), or nil when the server cannot tell.
    func estimatedCount() async -> Int? {
        guard let below = try? await client.getAllChildrenNumber(root) else { return nil }
        return below + 1
    }
}

// MARK: - Reading a ZooKeeper tree

/// Walks a ZooKeeper subtree depth first, children sorted, with each node's data, ACL and
/// mode: `getChildren`, `getData` and `getACL` per node, siblings `concurrency` at a time.
/// Memory is bounded by depth × `concurrency` nodes. `/zookeeper` (the server's own nodes) is
/// skipped. A node deleted during the walk is skipped; a missing root is NONODE.
struct ZooKeeperTreeReader: Sendable {
    var client: ZooKeeperClient
    var root: String
    var concurrency = 64
    /// Nodes whose ACL has a digest entry with its hash hidden (`digest:bob:x`): ZooKeeper 3.8
    /// hides digest hashes from sessions without ADMIN permission on the node.
    var redactedDigests = AtomicCounter()

    private struct Fetched: Sendable {
        var node: TreeNode
        var children: [String]
    }

    func read(enter: (TreeNode) async throws -> Void, leave: (TreeNode) async throws -> Void) async throws {
        try Task.checkCancellation()
        guard let top = try await fetch(relative: "/", isRoot: true) else { throw ZooKeeperError(.noNode, path: root) }
        try await visit(top, enter: enter, leave: leave)
    }

    private func visit(_ fetched: Fetched, enter: (TreeNode) async throws -> Void, leave: (TreeNode) async throws -> Void) async throws {
        try await enter(fetched.node)
        let names = fetched.children
        let relative = fetched.node.relative
        for start in stride(from: 0, to: names.count, by: concurrency) {
            try Task.checkCancellation()
            let end = min(start + concurrency, names.count)
            let batch = try await withThrowingTaskGroup(of: (Int, Fetched?).self) { group in
                for index in start..<end {
                    let child = ZooKeeperPath.join(relative, names[index])
                    group.addTask { (index, try await fetch(relative: child, isRoot: false)) }
                }
                var batch = [Fetched?](repeating: nil, count: end - start)
                for try await (index, child) in group { batch[index - start] = child }
                return batch
            }
            for child in batch {
                guard let child else { continue }
                try await visit(child, enter: enter, leave: leave)
            }
        }
        try await leave(fetched.node)
    }

    private func fetch(relative: String, isRoot: Bool) async throws -> Fetched? {
        let path = ZooKeeperPath.appending(relative, to: root)
        do {
            async let listing = client.getChildren(path)
            async let read = client.getData(path)
            async let acl = client.getACL(path)
            let children = try await listing.children
            let (data, stat) = try await read
            let entries = try await acl.acl
            if entries.contains(where: { $0.id.scheme == "digest" && $0.id.id.hasSuffix(":x") }) { redactedDigests.add() }
            var names = children.sorted()
            if path == "/" { names.removeAll { $0 == "zookeeper" } }
            let node = TreeNode(path: path, relative: relative, data: data, acl: entries,
                                mode: stat.ephemeralOwner != 0 ? .ephemeral : .persistent, ttl: nil, hasChildren: !names.isEmpty)
            return Fetched(node: node, children: names)
        } catch let error as ZooKeeperError where error.isNoNode && !isRoot {
            return nil
        }
    }

    /// One node (no children listed), or nil when it does not exist: for `diff`.
    func node(at relative: String) async throws -> (node: TreeNode, children: [String])? {
        guard let fetched = try await fetch(relative: relative, isRoot: false) else { return nil }
        return (fetched.node, fetched.children)
    }
}

// MARK: - Writing a ZooKeeper tree

/// Creates the nodes it is given below `root`, pipelined: up to `window` requests in flight,
/// each create sent only after its parent's create succeeded. Memory is bounded by the window.
///
/// - Nodes are created with their data, mode and ACL. A node with children whose ACL is not
///   `world:anyone:cdrwa` is created open and gets its ACL after its descendants exist (an ACL
///   without the create permission would otherwise stop the copy).
/// - Ephemeral nodes become persistent unless `keepsEphemerals` (then this session owns them).
/// - An existing node is an error unless `force`; then its data and ACL are replaced.
final class ZooKeeperTreeWriter: @unchecked Sendable {
    let client: ZooKeeperClient
    let root: String
    let force: Bool
    let keepsEphemerals: Bool
    let window: Int
    /// Nodes created or (with `force`) updated.
    let written = AtomicCounter()

    private var pending: [String: Task<Void, any Error>] = [:]
    private var order: [String] = []
    private var head = 0

    init(client: ZooKeeperClient, root: String, force: Bool, keepsEphemerals: Bool, window: Int = 200) {
        self.client = client
        self.root = root
        self.force = force
        self.keepsEphemerals = keepsEphemerals
        self.window = window
    }

    /// Refuses (before anything is written) when the target root exists and `force` is off;
    /// the root `/` always exists and is then left as it is.
    func checkTarget() async throws {
        if root != "/", !force, try await client.exists(root) != nil {
            throw ShellError("\(root) exists (use --force to overwrite existing nodes)")
        }
    }

    func enter(_ node: TreeNode) async throws {
        try Task.checkCancellation()
        let path = ZooKeeperPath.appending(node.relative, to: root)
        if path == "/" {
            guard force else { return }
        }
        if path.hasPrefix("/zookeeper/") || path == "/zookeeper" {
            throw ShellError("refusing to write the server's own node \(path)")
        }
        let defersACL = node.hasChildren && node.acl != ACL.openUnsafe
        let mode: CreateMode
        switch node.mode {
        case .persistent: mode = .persistent
        case .ephemeral: mode = keepsEphemerals ? .ephemeral : .persistent
        case .container: mode = .container
        case .ttl:
            guard node.ttl != nil else { throw ShellError("\(path): mode ttl needs a ttl") }
            mode = .persistentWithTTL
        }
        let parentTask = path == "/" ? nil : pending[ZooKeeperPath.parent(of: path)]
        let (client, force, written) = (self.client, self.force, self.written)
        let acl = defersACL ? ACL.openUnsafe : node.acl
        let task = Task {
            try await parentTask?.value
            if path == "/" {
                _ = try await client.setData(path, data: node.data)
                if !defersACL { _ = try await client.setACL(path, acl: acl) }
                written.add()
                return
            }
            do {
                _ = try await client.create(path, data: node.data, acl: acl, mode: mode, ttl: mode == .persistentWithTTL ? node.ttl : nil)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                guard force else { throw ShellError("\(path) exists (use --force to overwrite existing nodes)") }
                _ = try await client.setData(path, data: node.data)
                if !defersACL { _ = try await client.setACL(path, acl: node.acl) }
            }
            written.add()
        }
        try await add(path, task)
    }

    func leave(_ node: TreeNode) async throws {
        guard node.hasChildren && node.acl != ACL.openUnsafe else { return }
        let path = ZooKeeperPath.appending(node.relative, to: root)
        if path == "/" && !force { return }
        // Every descendant was sent before this point: wait for them, then restrict the node.
        try await drain()
        _ = try await client.setACL(path, acl: node.acl)
    }

    /// Waits for every request in flight; throws the first failure.
    func drain() async throws {
        var failure: (any Error)?
        while head < order.count {
            let path = order[head]
            head += 1
            if let task = pending.removeValue(forKey: path) {
                do { try await task.value } catch { if failure == nil { failure = error } }
            }
        }
        order.removeAll(keepingCapacity: true)
        head = 0
        if let failure { throw failure }
    }

    /// Waits for every request in flight, ignoring failures (after an error or Ctrl-C).
    func abandon() async {
        try? await drain()
        while head < order.count { _ = try? await drain() }
    }

    private func add(_ path: String, _ task: Task<Void, any Error>) async throws {
        pending[path] = task
        order.append(path)
        while order.count - head > window {
            let oldest = order[head]
            head += 1
            if let task = pending.removeValue(forKey: oldest) { try await task.value }
        }
        if head > 4096 {
            order.removeFirst(head)
            head = 0
        }
    }
}

// MARK: - JSON files

/// The export format, one JSON object per node with its descendants nested:
///
///     {"path":"/app","data":"text","acl":["world:anyone:cdrwa"],"mode":"persistent","children":[
///       {"path":"/app/blob","data":null,"dataBase64":"AAEC","acl":["digest:bob:X=:cdrwa"],"mode":"persistent","children":[]},
///       {"path":"/app/lock","data":"","acl":["world:anyone:r"],"mode":"ephemeral","children":[]}
///     ]}
///
/// - `path`: the node's path where it was exported (below the exported root).
/// - `data`: the data as a string when it is valid UTF-8, else `null` and `dataBase64` holds it.
/// - `acl`: `scheme:id:perms` strings as `setAcl` takes them.
/// - `mode`: `persistent`, `ephemeral`, `container` or `ttl` (with `ttl` in milliseconds).
///   ZooKeeper reports container and TTL nodes to clients as persistent, so exports only ever
///   say `persistent` or `ephemeral`; hand-written files may use the other two.
/// - `children`: the child objects; it must be the last member of its object so that import
///   can create a node before reading its children (the writer always puts it last).
enum TreeJSON {
    /// Writes the format as nodes arrive, one node per line, indented by depth.
    final class Writer {
        private let sink: ([UInt8]) throws -> Void
        private var buffer: [UInt8] = []
        /// Per open node: whether a child has been written yet.
        private var stack: [Bool] = []

        init(sink: @escaping ([UInt8]) throws -> Void) {
            self.sink = sink
            buffer.reserveCapacity(1 << 16)
        }

        func enter(_ node: TreeNode) throws {
            if !stack.isEmpty {
                if stack[stack.count - 1] { buffer += Array(",".utf8) }
                stack[stack.count - 1] = true
                buffer.append(UInt8(ascii: "\n"))
                buffer += Array(repeating: UInt8(ascii: " "), count: 2 * stack.count)
            }
            stack.append(false)
            var text = "{\"path\":" + TreeJSON.quoted(node.path)
            if let string = String(validating: node.data, as: UTF8.self) {
                text += ",\"data\":" + TreeJSON.quoted(string)
            } else {
                text += ",\"data\":null,\"dataBase64\":\"" + Data(node.data).base64EncodedString() + "\""
            }
            text += ",\"acl\":[" + node.acl.map { TreeJSON.quoted($0.description) }.joined(separator: ",") + "]"
            text += ",\"mode\":\"" + node.mode.rawValue + "\""
            if let ttl = node.ttl { text += ",\"ttl\":\(ttl)" }
            text += ",\"children\":["
            buffer += Array(text.utf8)
            if buffer.count >= 1 << 16 { try flush() }
        }

        func leave(_ node: TreeNode) throws {
            let hadChildren = stack.removeLast()
            if hadChildren {
                buffer.append(UInt8(ascii: "\n"))
                buffer += Array(repeating: UInt8(ascii: " "), count: 2 * stack.count)
            }
            buffer += Array("]}".utf8)
            if stack.isEmpty { buffer.append(UInt8(ascii: "\n")) }
            if buffer.count >= 1 << 16 { try flush() }
        }

        func flush() throws {
            guard !buffer.isEmpty else { return }
            try sink(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A malformed file: what was wrong and where (byte offset).
    struct FormatError: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "malformed export file at byte \(offset): \(message)" }
    }

    /// Reads the format as a stream of nodes: memory is bounded by the depth of the tree and
    /// the size of one node, not by the size of the file.
    struct Reader {
        private var parser: JSONPullParser
        /// The `path` of the first (root) node; the others are taken relative to it.
        private var rootPath: String?

        init(read: @escaping (inout [UInt8]) throws -> Bool) {
            parser = JSONPullParser(read: read)
        }

        /// Calls `enter` for each node before its children and `leave` after them.
        mutating func read(enter: (TreeNode) async throws -> Void, leave: (TreeNode) async throws -> Void) async throws {
            try await readNode(enter: enter, leave: leave)
            if let extra = try parser.next() { throw FormatError(message: "unexpected \(extra) after the root node", offset: parser.offset) }
        }

        private mutating func readNode(enter: (TreeNode) async throws -> Void, leave: (TreeNode) async throws -> Void) async throws {
            try Task.checkCancellation()
            guard try parser.next() == .objectStart else { throw FormatError(message: "expected a node object", offset: parser.offset) }
            var path: String?
            var data: [UInt8]?
            var acl: [ACL] = ACL.openUnsafe
            var mode = TreeNode.Mode.persistent
            var ttl: Int64?
            var entered: TreeNode?
            while true {
                let token = try parser.next()
                if token == .objectEnd { break }
                guard case .key(let key)? = token else { throw FormatError(message: "expected a member name", offset: parser.offset) }
                if entered != nil { throw FormatError(message: "'children' must be the last member of a node", offset: parser.offset) }
                switch key {
                case "path":
                    guard case .string(let value)? = try parser.next() else { throw FormatError(message: "'path' must be a string", offset: parser.offset) }
                    path = value
                case "data":
                    switch try parser.next() {
                    case .string(let value)?: if data == nil { data = Array(value.utf8) }
                    case .null?: break
                    default: throw FormatError(message: "'data' must be a string or null", offset: parser.offset)
                    }
                case "dataBase64":
                    switch try parser.next() {
                    case .string(let value)?:
                        guard let decoded = Data(base64Encoded: value) else { throw FormatError(message: "'dataBase64' is not base64", offset: parser.offset) }
                        data = Array(decoded)
                    case .null?: break
                    default: throw FormatError(message: "'dataBase64' must be a string", offset: parser.offset)
                    }
                case "acl":
                    guard try parser.next() == .arrayStart else { throw FormatError(message: "'acl' must be an array", offset: parser.offset) }
                    var entries: [String] = []
                    while true {
                        let item = try parser.next()
                        if item == .arrayEnd { break }
                        guard case .string(let entry)? = item else { throw FormatError(message: "ACL entries must be strings", offset: parser.offset) }
                        entries.append(entry)
                    }
                    do {
                        acl = entries.isEmpty ? [] : try ACLText.parse(entries.joined(separator: ","))
                    } catch {
                        throw FormatError(message: error.message, offset: parser.offset)
                    }
                case "mode":
                    guard case .string(let value)? = try parser.next(), let parsed = TreeNode.Mode(rawValue: value) else {
                        throw FormatError(message: "'mode' must be persistent, ephemeral, container or ttl", offset: parser.offset)
                    }
                    mode = parsed
                case "ttl":
                    switch try parser.next() {
                    case .number(let value)?:
                        guard let parsed = Int64(value) else { throw FormatError(message: "'ttl' must be an integer", offset: parser.offset) }
                        ttl = parsed
                    case .null?: break
                    default: throw FormatError(message: "'ttl' must be a number", offset: parser.offset)
                    }
                case "children":
                    guard try parser.next() == .arrayStart else { throw FormatError(message: "'children' must be an array", offset: parser.offset) }
                    let hasChildren = try parser.peek() != .arrayEnd
                    let node = try makeNode(path: path, data: data, acl: acl, mode: mode, ttl: ttl, hasChildren: hasChildren)
                    entered = node
                    try await enter(node)
                    while try parser.peek() != .arrayEnd {
                        try await readNode(enter: enter, leave: leave)
                    }
                    _ = try parser.next()
                default:
                    try parser.skipValue()
                }
            }
            if let entered {
                try await leave(entered)
            } else {
                let node = try makeNode(path: path, data: data, acl: acl, mode: mode, ttl: ttl, hasChildren: false)
                try await enter(node)
                try await leave(node)
            }
        }

        private mutating func makeNode(path: String?, data: [UInt8]?, acl: [ACL], mode: TreeNode.Mode, ttl: Int64?, hasChildren: Bool) throws -> TreeNode {
            guard let path, path.hasPrefix("/") else { throw FormatError(message: "a node has no absolute 'path'", offset: parser.offset) }
            let relative: String
            if let rootPath {
                let prefix = rootPath == "/" ? "" : rootPath
                guard path.hasPrefix(prefix + "/"), path.count > prefix.count + 1 else {
                    throw FormatError(message: "'\(path)' is not below the root '\(rootPath)'", offset: parser.offset)
                }
                relative = String(path.dropFirst(prefix.count))
            } else {
                rootPath = path
                relative = "/"
            }
            return TreeNode(path: path, relative: relative, data: data ?? [], acl: acl, mode: mode, ttl: ttl, hasChildren: hasChildren)
        }
    }
}

/// A pull parser for JSON read in chunks: tokens one at a time, so a large document never has
/// to be held in memory. Commas and colons are checked only loosely (they separate tokens).
struct JSONPullParser {
    enum Token: Equatable, CustomStringConvertible {
        case objectStart, objectEnd, arrayStart, arrayEnd
        case key(String)
        case string(String)
        case number(String)
        case bool(Bool)
        case null

        var description: String {
            switch self {
            case .objectStart: return "'{'"
            case .objectEnd: return "'}'"
            case .arrayStart: return "'['"
            case .arrayEnd: return "']'"
            case .key(let key): return "member '\(key)'"
            case .string: return "a string"
            case .number(let number): return "number \(number)"
            case .bool(let value): return "\(value)"
            case .null: return "null"
            }
        }
    }

    private let read: (inout [UInt8]) throws -> Bool
    private var chunk: [UInt8] = []
    private var index = 0
    private var consumed = 0
    private var atEnd = false
    /// For each open container: true for an object.
    private var containers: [Bool] = []
    /// Inside an object: whether the next string is a member name.
    private var expectsKey = false
    private var peeked: Token??

    /// The byte offset of the parser in the input.
    var offset: Int { consumed + index }

    /// - Parameter read: fills the buffer with the next chunk; false at the end of input.
    init(read: @escaping (inout [UInt8]) throws -> Bool) {
        self.read = read
    }

    mutating func peek() throws -> Token? {
        if let peeked { return peeked }
        let token = try scan()
        peeked = .some(token)
        return token
    }

    mutating func next() throws -> Token? {
        if let peeked {
            self.peeked = nil
            return peeked
        }
        return try scan()
    }

    /// Skips one whole value (after a member name).
    mutating func skipValue() throws {
        var depth = 0
        repeat {
            guard let token = try next() else { throw error("unexpected end of input") }
            switch token {
            case .objectStart, .arrayStart: depth += 1
            case .objectEnd, .arrayEnd: depth -= 1
            case .key, .string, .number, .bool, .null: break
            }
        } while depth > 0
    }

    private func error(_ message: String) -> TreeJSON.FormatError {
        TreeJSON.FormatError(message: message, offset: offset)
    }

    private mutating func byte() throws -> UInt8? {
        if index == chunk.count {
            if atEnd { return nil }
            consumed += chunk.count
            index = 0
            chunk.removeAll(keepingCapacity: true)
            while chunk.isEmpty {
                if try !read(&chunk) {
                    atEnd = true
                    if chunk.isEmpty { return nil }
                }
            }
        }
        defer { index += 1 }
        return chunk[index]
    }

    private mutating func scan() throws -> Token? {
        while true {
            guard let byte = try byte() else {
                if !containers.isEmpty { throw error("unexpected end of input") }
                return nil
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: ","), UInt8(ascii: ":"):
                continue
            case UInt8(ascii: "{"):
                containers.append(true)
                expectsKey = true
                return .objectStart
            case UInt8(ascii: "["):
                containers.append(false)
                expectsKey = false
                return .arrayStart
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard let isObject = containers.popLast(), isObject == (byte == UInt8(ascii: "}")) else {
                    throw error("unbalanced '\(Character(Unicode.Scalar(byte)))'")
                }
                expectsKey = containers.last == true
                return isObject ? .objectEnd : .arrayEnd
            case UInt8(ascii: "\""):
                let text = try string()
                if containers.last == true && expectsKey {
                    expectsKey = false
                    return .key(text)
                }
                expectsKey = containers.last == true
                return .string(text)
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                var word = [byte]
                let length = byte == UInt8(ascii: "f") ? 5 : 4
                while word.count < length, let next = try self.byte() { word.append(next) }
                expectsKey = containers.last == true
                switch String(decoding: word, as: UTF8.self) {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default: throw error("unexpected literal")
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var text = [byte]
                while index < chunk.count || !atEnd {
                    guard let next = try self.byte() else { break }
                    if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) || "+-.eE".utf8.contains(next) {
                        text.append(next)
                    } else {
                        index -= 1  // not part of the number
                        break
                    }
                }
                expectsKey = containers.last == true
                return .number(String(decoding: text, as: UTF8.self))
            default:
                throw error("unexpected character '\(Character(Unicode.Scalar(byte)))'")
            }
        }
    }

    private mutating func string() throws -> String {
        var bytes: [UInt8] = []
        var pendingHigh: UInt32?
        while true {
            guard let byte = try byte() else { throw error("unterminated string") }
            if byte == UInt8(ascii: "\"") { break }
            if byte != UInt8(ascii: "\\") {
                bytes.append(byte)
                continue
            }
            guard let escape = try self.byte() else { throw error("unterminated string") }
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
            case UInt8(ascii: "b"): bytes.append(8)
            case UInt8(ascii: "f"): bytes.append(12)
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "u"):
                var hex: [UInt8] = []
                for _ in 0..<4 {
                    guard let digit = try self.byte() else { throw error("unterminated string") }
                    hex.append(digit)
                }
                guard let value = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) else { throw error("bad \\u escape") }
                var scalar: Unicode.Scalar?
                if (0xD800...0xDBFF).contains(value) {
                    pendingHigh = value
                    continue
                } else if (0xDC00...0xDFFF).contains(value), let high = pendingHigh {
                    scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00))
                } else {
                    scalar = Unicode.Scalar(value)
                }
                pendingHigh = nil
                guard let scalar else { throw error("bad \\u escape") }
                bytes += Array(String(Character(scalar)).utf8)
            default:
                throw error("bad escape")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: - Files

/// Reads a file (or standard input for `-`) in 64 KiB chunks.
final class ChunkedFileReader: @unchecked Sendable {
    private let descriptor: Int32
    private let closes: Bool

    init(_ name: String, in context: ShellContext) throws {
        if name == "-" {
            if context.standardInput.isScriptSource {
                throw UsageError(message: "'-' cannot be read: the script itself comes from standard input")
            }
            descriptor = STDIN_FILENO
            closes = false
        } else {
            descriptor = open(name, O_RDONLY)
            guard descriptor >= 0 else { throw ShellError("\(name): \(String(cString: strerror(errno)))") }
            closes = true
        }
    }

    /// Replaces `buffer` with the next chunk; false at the end.
    func read(into buffer: inout [UInt8]) throws -> Bool {
        buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ShellError("read failed: \(String(cString: strerror(errno)))")
            }
            buffer.removeSubrange(count...)
            return count > 0
        }
    }

    deinit {
        if closes { _ = close(descriptor) }
    }
}

private func systemRead(_ descriptor: Int32, _ pointer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, pointer, count)
}

/// Writes a file (created or truncated) or standard output for `-`.
final class FileOutput: @unchecked Sendable {
    private let descriptor: Int32
    private let context: ShellContext?

    init(_ name: String, in context: ShellContext) throws {
        if name == "-" {
            descriptor = -1
            self.context = context
        } else {
            descriptor = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else { throw ShellError("\(name): \(String(cString: strerror(errno)))") }
            self.context = nil
        }
    }

    func write(_ bytes: [UInt8]) throws {
        if let context {
            context.write(bytes)
            return
        }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ShellError("write failed: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    func close() {
        if descriptor >= 0 { _ = systemClose(descriptor) }
    }
}

private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
