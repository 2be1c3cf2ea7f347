import Foundation
import LineEditor
import Testing
@testable import ZKShellCommands

/// A fixed tree for completion, counting fetches.
final class FakeTree: @unchecked Sendable {
    let children: [String: [String]] = [
        "/": ["app", "zookeeper", "apple"],
        "/app": ["config", "workers", "my node"],
        "/app/workers": ["w1", "w2"],
        "/zookeeper": ["quota", "config"],
    ]
    private let lock = NSLock()
    private var fetches = 0
    var fetchCount: Int { lock.withLock { fetches } }
    var directory = "/"

    func completer(lifetime: Duration = .seconds(60)) -> ShellCompleter {
        ShellCompleter(
            registry: .standard,
            currentDirectory: { self.directory },
            fetchChildren: { path in
                self.lock.withLock { self.fetches += 1 }
                guard let children = self.children[path] else { throw ShellError("no node") }
                return children
            },
            fetchChildCounts: { paths in
                Dictionary(uniqueKeysWithValues: paths.map { ($0, self.children[$0]?.count ?? 0) })
            },
            cacheLifetime: lifetime)
    }
}

@Suite("Completion")
struct CompletionTests {
    func complete(_ line: String, cursor: Int? = nil, tree: FakeTree = FakeTree()) async -> LineEditor.Completion {
        await tree.completer().complete(line: line, cursor: cursor ?? line.count)
    }

    @Test func commandNames() async {
        #expect(await complete("l") == .init(replaceFrom: 0, candidates: ["leader", "listquota", "lock", "ls"]))
        #expect(await complete("de") == .init(replaceFrom: 0, candidates: ["delete", "deleteall", "delquota"]))
        #expect(await complete("").candidates == CommandRegistry.standard.commandNames)
        #expect(await complete("ls /; gr") == .init(replaceFrom: 6, candidates: ["grep"]))
    }

    @Test func flagsOfTheCurrentCommand() async {
        #expect(await complete("create -") == .init(replaceFrom: 7, candidates: ["--help", "--json", "-c", "-e", "-h", "-p", "-s", "-t"]))
        #expect(await complete("ls --j") == .init(replaceFrom: 3, candidates: ["--json"]))
        #expect(await complete("bogus -").candidates.isEmpty)
    }

    @Test func absolutePaths() async {
        #expect(await complete("ls /ap") == .init(replaceFrom: 3, candidates: ["/app/", "/apple"]))
        #expect(await complete("get /app/") == .init(replaceFrom: 4, candidates: ["/app/config", "/app/my\\ node", "/app/workers/"]))
        #expect(await complete("get /app/w") == .init(replaceFrom: 4, candidates: ["/app/workers/"]))
        #expect(await complete("ls /").candidates == ["/app/", "/apple", "/zookeeper/"])
        #expect(await complete("ls /nope/").candidates.isEmpty)
    }

    @Test func relativePaths() async {
        let tree = FakeTree()
        tree.directory = "/app"
        #expect(await complete("get w", tree: tree) == .init(replaceFrom: 4, candidates: ["workers/"]))
        #expect(await complete("cd ../ap", tree: tree) == .init(replaceFrom: 3, candidates: ["../app/", "../apple"]))
        #expect(await complete("ls ", tree: tree) == .init(replaceFrom: 3, candidates: ["config", "my\\ node", "workers/"]))
        #expect(await complete("ls workers/", tree: tree).candidates == ["workers/w1", "workers/w2"])
    }

    @Test func quotedWordsAreReplacedWhole() async {
        #expect(await complete("get '/app/my") == .init(replaceFrom: 4, candidates: ["/app/my\\ node"]))
    }

    @Test func onlyPathArgumentsCompleteAsPaths() async {
        #expect(await complete("set /app/config ").candidates.isEmpty)  // DATA
        #expect(await complete("set -v ").candidates.isEmpty)  // the option's value
        #expect(await complete("set -v 3 /ap").candidates == ["/app/", "/apple"])
        #expect(await complete("connect ").candidates.isEmpty)
        #expect(await complete("help cr") == .init(replaceFrom: 5, candidates: ["create"]))
    }

    @Test func cursorInTheMiddle() async {
        #expect(await complete("get /ap more", cursor: 7) == .init(replaceFrom: 4, candidates: ["/app/", "/apple"]))
    }

    @Test func childrenAreCached() async {
        let tree = FakeTree()
        let completer = tree.completer()
        _ = await completer.complete(line: "ls /a", cursor: 5)
        _ = await completer.complete(line: "ls /z", cursor: 5)
        #expect(tree.fetchCount == 1)
        completer.invalidateCache()
        _ = await completer.complete(line: "ls /z", cursor: 5)
        #expect(tree.fetchCount == 2)

        let uncached = tree.completer(lifetime: .zero)
        _ = await uncached.complete(line: "ls /a", cursor: 5)
        _ = await uncached.complete(line: "ls /a", cursor: 5)
        #expect(tree.fetchCount == 4)
    }

    @Test func waitingVariantReturnsTheSameAnswer() async {
        // The line editor calls this from its own thread; blocking a Swift concurrency thread
        // instead could starve the task it waits for on a 2-core machine.
        let completer = FakeTree().completer()
        let completion = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: completer.completeWaiting(line: "ls /ap", cursor: 6, timeout: .seconds(30))) }.start()
        }
        #expect(completion == .init(replaceFrom: 3, candidates: ["/app/", "/apple"]))
    }
}
