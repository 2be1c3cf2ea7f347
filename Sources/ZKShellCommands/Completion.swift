import Dispatch
import Foundation
import LineEditor
import ZooKeeperClient

/// Tab completion for the interactive shell: command names, the flags of the current command,
/// znode paths fetched live (absolute or relative to the current node), and local file paths
/// for the FILE arguments of `export`, `import` and `cp` (see
/// ``CommandRegistry/PositionalKind``).
///
/// File paths are relative to the shell's working directory; a leading `~` is expanded to the
/// home directory in the completed word (the commands themselves do not expand it), and
/// directories end in `/`. Hidden entries are only offered once a `.` is typed.
///
/// Children are cached for a short time so that repeated Tabs do not hit the server each time.
/// Completion never connects: without a session, paths just do not complete.
public final class ShellCompleter: @unchecked Sendable {
    /// A node's children, for path completion.
    public typealias ChildrenFetcher = @Sendable (_ path: String) async throws -> [String]
    /// How many children each node has (nil when unknown), for the trailing `/`.
    public typealias ChildCountFetcher = @Sendable (_ paths: [String]) async -> [String: Int]

    private let registry: CommandRegistry
    private let currentDirectory: @Sendable () -> String
    private let fetchChildren: ChildrenFetcher
    private let fetchChildCounts: ChildCountFetcher
    private let cacheLifetime: Duration
    private let homeDirectory: String?
    private let memberIDs: @Sendable () -> [Int]
    private let clock = ContinuousClock()
    private let lock = NSLock()
    private var childrenCache: [String: (at: ContinuousClock.Instant, children: [String])] = [:]
    private var countCache: [String: (at: ContinuousClock.Instant, count: Int)] = [:]
    private var summaries: [String: CommandRegistry.ArgumentSummary] = [:]

    /// At most this many matches get their children counted (for the trailing `/`).
    static let countLimit = 64

    /// A completer over the shell's current session.
    public convenience init(context: ShellContext, cacheLifetime: Duration = .seconds(2)) {
        self.init(
            registry: context.registry,
            currentDirectory: { [weak context] in context?.currentDirectory ?? "/" },
            fetchChildren: { [weak context] path in
                guard let client = context?.currentClient else { return [] }
                return try await client.getChildren(path).children
            },
            fetchChildCounts: { [weak context] paths in
                guard let client = context?.currentClient else { return [:] }
                return await withTaskGroup(of: (String, Int?).self) { group in
                    for path in paths {
                        group.addTask { (path, try? await client.exists(path).map { Int($0.numChildren) }) }
                    }
                    var counts: [String: Int] = [:]
                    for await (path, count) in group { counts[path] = count }
                    return counts
                }
            },
            cacheLifetime: cacheLifetime,
            memberIDs: { [weak context] in context?.localEnsemble?.memberIDs ?? [] })
    }

    /// A completer with its own sources of data (for tests).
    ///
    /// - Parameters:
    ///   - homeDirectory: what `~` in a file path stands for (default: `$HOME`).
    ///   - memberIDs: the member ids of the shell's local ensemble (`ensemble kill ID`).
    public init(registry: CommandRegistry, currentDirectory: @escaping @Sendable () -> String,
                fetchChildren: @escaping ChildrenFetcher, fetchChildCounts: @escaping ChildCountFetcher,
                cacheLifetime: Duration = .seconds(2),
                homeDirectory: String? = ProcessInfo.processInfo.environment["HOME"],
                memberIDs: @escaping @Sendable () -> [Int] = { [] }) {
        self.registry = registry
        self.memberIDs = memberIDs
        self.homeDirectory = homeDirectory
        self.currentDirectory = currentDirectory
        self.fetchChildren = fetchChildren
        self.fetchChildCounts = fetchChildCounts
        self.cacheLifetime = cacheLifetime
    }

    /// The completion for `line` with the cursor at `cursor` (in `Character`s).
    public func complete(line: String, cursor: Int) async -> LineEditor.Completion {
        let characters = Array(line)
        let cursor = min(max(cursor, 0), characters.count)
        let scan = ShellTokenizer.scan(String(characters[..<cursor]))
        var words = scan.endsInCommand ? scan.commands.last ?? [] : []
        let current = scan.endsInWord ? words.removeLast() : ShellTokenizer.Word(text: "", start: cursor, end: cursor)

        guard let commandName = words.first?.text else {
            return LineEditor.Completion(replaceFrom: current.start, candidates: registry.commandNames.filter { $0.hasPrefix(current.text) })
        }
        guard let type = registry.command(named: commandName) else { return .none }
        let summary = self.summary(of: type)

        if current.text.hasPrefix("-") {
            return LineEditor.Completion(replaceFrom: current.start, candidates: summary.flags.filter { $0.hasPrefix(current.text) })
        }
        // Which positional argument is being typed: skip flags and option values.
        var positionalIndex = 0
        var positionals: [String] = []
        var expectsValue = false
        for word in words.dropFirst() {
            if expectsValue {
                expectsValue = false
            } else if word.text.hasPrefix("-") && word.text != "-" {
                expectsValue = summary.optionsWithValue.contains(word.text)
            } else {
                positionalIndex += 1
                positionals.append(word.text)
            }
        }
        guard !expectsValue, !summary.positionalKinds.isEmpty else { return .none }
        if positionalIndex >= summary.positionalKinds.count {
            guard summary.lastPositionalRepeats else { return .none }
            positionalIndex = summary.positionalKinds.count - 1
        }
        let candidates: [String]
        switch summary.positionalKinds[positionalIndex] {
        case .node:
            candidates = await pathCandidates(for: current.text)
        case .command:
            candidates = registry.commandNames.filter { $0.hasPrefix(current.text) }
        case .file:
            candidates = fileCandidates(for: current.text, extensions: [])
        case .nodeOrFile(let extensions):
            candidates = await nodeOrFileCandidates(for: current.text, extensions: extensions)
        case .choice(let values):
            candidates = values.filter { $0.hasPrefix(current.text) }
        case .member:
            if let type = type as? any MemberIDCompleting.Type, !type.completesMemberIDs(after: positionals) { return .none }
            let typed = Set(positionals)
            candidates = memberIDs().map(String.init).filter { $0.hasPrefix(current.text) && !typed.contains($0) }
        case .other:
            return .none
        }
        return LineEditor.Completion(replaceFrom: current.start, candidates: candidates)
    }

    /// For `cp`'s SRC and DST: nothing for `zk://…`; files for words that start like a local
    /// path (`~`, `./`, `../`); otherwise znode paths, or files when no znode matches.
    func nodeOrFileCandidates(for typed: String, extensions: [String]) async -> [String] {
        if typed.hasPrefix("zk://") { return [] }
        if typed.hasPrefix("~") || typed.hasPrefix("./") || typed.hasPrefix("../") {
            return fileCandidates(for: typed, extensions: extensions)
        }
        let nodes = await pathCandidates(for: typed)
        return nodes.isEmpty ? fileCandidates(for: typed, extensions: extensions) : nodes
    }

    /// Candidates for a typed local path: the typed directory part (with a leading `~`
    /// expanded) plus each matching entry, quoted for the tokenizer, directories with `/`;
    /// with `extensions`, only files that end in one of them (and directories).
    func fileCandidates(for typed: String, extensions: [String]) -> [String] {
        var expanded = typed
        if typed == "~" || typed.hasPrefix("~/"), let home = homeDirectory {
            let base = home.hasSuffix("/") ? String(home.dropLast()) : home
            expanded = base + typed.dropFirst()
            if typed == "~" { expanded += "/" }
        }
        let directoryPart: String
        let namePrefix: String
        if let slash = expanded.lastIndex(of: "/") {
            directoryPart = String(expanded[...slash])
            namePrefix = String(expanded[expanded.index(after: slash)...])
        } else {
            directoryPart = ""
            namePrefix = expanded
        }
        let fileManager = FileManager.default
        let directory = directoryPart.isEmpty ? fileManager.currentDirectoryPath : directoryPart
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else { return [] }
        let lowercasedExtensions = extensions.map { "." + $0.lowercased() }
        var candidates: [String] = []
        for name in names.sorted() where name.hasPrefix(namePrefix) {
            if name.hasPrefix(".") && !namePrefix.hasPrefix(".") { continue }
            var isDirectory: ObjCBool = false
            let full = (directory.hasSuffix("/") ? directory : directory + "/") + name
            guard fileManager.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                candidates.append(ShellTokenizer.quote(directoryPart + name) + "/")
            } else if lowercasedExtensions.isEmpty || lowercasedExtensions.contains(where: { name.lowercased().hasSuffix($0) }) {
                candidates.append(ShellTokenizer.quote(directoryPart + name))
            }
        }
        return candidates
    }

    /// ``complete(line:cursor:)`` for the line editor's synchronous callback: waits at most
    /// `timeout`, then gives up (Tab beeps) rather than freeze the terminal.
    public func completeWaiting(line: String, cursor: Int, timeout: Duration = .milliseconds(1500)) -> LineEditor.Completion {
        final class Box: @unchecked Sendable {
            var value: LineEditor.Completion?
        }
        let box = Box()
        let semaphore = DispatchSemaphore(value: 0)
        let task = Task {
            box.value = await self.complete(line: line, cursor: cursor)
            semaphore.signal()
        }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard semaphore.wait(timeout: .now() + .milliseconds(milliseconds)) == .success else {
            // Let the lookup finish in the background: it fills the cache, so the next Tab is instant.
            _ = task
            return .none
        }
        return box.value ?? .none
    }

    /// Candidates for a typed path: the typed directory part plus each matching child name,
    /// quoted for the tokenizer, with `/` after children that have children.
    func pathCandidates(for typed: String) async -> [String] {
        let directoryPart: String
        let namePrefix: String
        if let slash = typed.lastIndex(of: "/") {
            directoryPart = String(typed[...slash])
            namePrefix = String(typed[typed.index(after: slash)...])
        } else {
            directoryPart = ""
            namePrefix = typed
        }
        let directory = ZooKeeperPath.resolve(directoryPart.isEmpty ? "." : directoryPart, against: currentDirectory())
        guard let children = try? await children(of: directory) else { return [] }
        let matches = children.filter { $0.hasPrefix(namePrefix) }.sorted()
        let counts = matches.count <= Self.countLimit
            ? await childCounts(of: matches.map { ZooKeeperPath.join(directory, $0) })
            : [:]
        return matches.map { name in
            let hasChildren = (counts[ZooKeeperPath.join(directory, name)] ?? 0) > 0
            return ShellTokenizer.quote(directoryPart + name) + (hasChildren ? "/" : "")
        }
    }

    /// Forgets cached children (after the tree changed).
    public func invalidateCache() {
        lock.withLock {
            childrenCache = [:]
            countCache = [:]
        }
    }

    private func children(of path: String) async throws -> [String] {
        let now = clock.now
        if let cached = lock.withLock({ childrenCache[path] }), now - cached.at < cacheLifetime {
            return cached.children
        }
        let children = try await fetchChildren(path)
        lock.withLock { childrenCache[path] = (now, children) }
        return children
    }

    private func childCounts(of paths: [String]) async -> [String: Int] {
        let now = clock.now
        var counts: [String: Int] = [:]
        var missing: [String] = []
        lock.withLock {
            for path in paths {
                if let cached = countCache[path], now - cached.at < cacheLifetime {
                    counts[path] = cached.count
                } else {
                    missing.append(path)
                }
            }
        }
        guard !missing.isEmpty else { return counts }
        let fetched = await fetchChildCounts(missing)
        lock.withLock {
            for (path, count) in fetched { countCache[path] = (now, count) }
        }
        return counts.merging(fetched) { _, new in new }
    }

    private func summary(of type: any ShellCommand.Type) -> CommandRegistry.ArgumentSummary {
        if let cached = lock.withLock({ summaries[type.name] }) { return cached }
        let summary = registry.arguments(of: type)
        lock.withLock { summaries[type.name] = summary }
        return summary
    }
}

/// A command whose `id` arguments are member ids only in some of its forms: `ensemble kill ID`
/// completes the local ensemble's member ids, `ensemble start N` does not.
protocol MemberIDCompleting {
    /// Whether the next `id` argument is a member id, given the positional arguments typed so
    /// far (without flags and option values).
    static func completesMemberIDs(after positionals: [String]) -> Bool
}
