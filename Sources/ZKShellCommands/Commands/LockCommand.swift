import ArgumentParser
import ZooKeeperClient

/// `lock [--once] [--timeout S] [--id ID] PATH`: takes a distributed lock (ZooKeeper's lock
/// recipe) and holds it until Ctrl-C.
struct LockCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Take a distributed lock and hold it until Ctrl-C.",
        discussion: """
            The lock recipe: an ephemeral sequential node is created under PATH (which is \
            created if missing), and the lock is held when it is the first in line. A waiter \
            watches only the node just before its own, so a release wakes one waiter. Prints \
            'waiting behind N: ID' while N contenders are ahead (ID is the one just ahead), \
            'acquired PATH' once held, then 'waiters: N (ID, …)' whenever the queue behind \
            changes. Ctrl-C gives the lock up (or leaves the queue), deletes the node and \
            prints 'released PATH'; so does the end of the session.

            Nodes are named like kazoo's (<hex>__lock__<sequence>, data: the ID), so zksh \
            and Python programs using kazoo's Lock or Election share one queue.

            With --once the lock is released right after it is acquired (after printing the \
            waiters), for scripts and tests. With --timeout the wait gives up after that many \
            seconds (exit status 1).

            Exit status: 0 --once acquired and released, 1 timed out or failed, 130 \
            interrupted (the usual way to release a held lock).

            Examples:
              lock /locks/deploy
              lock --once /locks/deploy
              lock --timeout 30 --id ci-runner-7 /locks/deploy
            """)

    @Flag(help: "Release the lock right after acquiring it.")
    var once = false

    @Option(help: ArgumentHelp("Give up waiting after this many seconds.", valueName: "seconds"))
    var timeout: Double?

    @Option(help: ArgumentHelp("The identifier stored in the lock node (default: HOST:PID).", valueName: "id"))
    var id: String?

    @OptionGroup var output: OutputOptions

    @Argument(help: "The lock's node; contenders queue under it.")
    var path: String

    func validate() throws {
        if let timeout, !(timeout >= 0) { throw ValidationError("--timeout must not be negative") }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let directory = context.resolve(path)
        let json = output.wantsJSON(context)
        let deadline = timeout.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        let contender = try await LockContender.enter(client: client, directory: directory, identifier: id ?? Recipes.defaultIdentifier)
        var acquired = false
        do {
            try await acquire(contender, deadline: deadline, context: context, json: json)
            acquired = true
            emit(context, json, ["event": "acquired", "path": .string(directory), "node": .string(contender.path)], "acquired \(directory)")
            if once {
                try await reportWaiters(contender, context: context, json: json, watching: false)
            } else {
                while try await reportWaiters(contender, context: context, json: json, watching: true) {}
            }
        } catch is CancellationError {
            // Ctrl-C: fall through to the release.
        } catch {
            await contender.leave()
            throw error
        }
        await contender.leave()
        if acquired {
            emit(context, json, ["event": "released", "path": .string(directory)], "released \(directory)")
        } else {
            emit(context, json, ["event": "left", "path": .string(directory)], "left the queue of \(directory)")
        }
    }

    /// Waits until the contender is first in line.
    private func acquire(_ contender: LockContender, deadline: ContinuousClock.Instant?, context: ShellContext, json: Bool) async throws {
        var lastReported: String?
        while true {
            try Task.checkCancellation()
            let queue = LockNodeName.queue(try await contender.client.getChildren(contender.directory).children)
            guard let position = queue.firstIndex(of: contender.name) else {
                throw ShellError("lost the lock queue: \(contender.path) was deleted (session expired?)")
            }
            if position == 0 { return }
            let predecessor = queue[position - 1]
            let (stat, watch) = try await contender.client.existsAndWatch(ZooKeeperPath.join(contender.directory, predecessor))
            guard stat != nil else { continue }
            let ahead = try await contender.identifiers(of: Array(queue[..<position]))
            let report = "\(position) \(predecessor)"
            if report != lastReported {
                lastReported = report
                let last = ahead.last ?? predecessor
                emit(context, json, ["event": "waiting", "ahead": .integer(Int64(position)), "predecessor": .string(last),
                                     "queue": .array(ahead.map(JSONValue.string))],
                     "waiting behind \(position): \(last)")
            }
            if try await Recipes.nextEvent(watch, until: deadline) == nil {
                if let deadline, ContinuousClock.now >= deadline {
                    throw ShellError("timed out waiting for the lock \(contender.directory)")
                }
            }
        }
    }

    /// Prints the waiters behind the holder; with `watching`, first waits for the queue to change.
    ///
    /// - Returns: true to go on watching.
    @discardableResult
    private func reportWaiters(_ contender: LockContender, context: ShellContext, json: Bool, watching: Bool) async throws -> Bool {
        let (children, _, watch) = try await contender.client.getChildrenAndWatch(contender.directory)
        let queue = LockNodeName.queue(children)
        guard let position = queue.firstIndex(of: contender.name) else {
            throw ShellError("lost the lock: \(contender.path) was deleted (session expired?)")
        }
        let waiters = try await contender.identifiers(of: Array(queue[(position + 1)...]))
        emit(context, json, ["event": "waiters", "waiters": .array(waiters.map(JSONValue.string))],
             "waiters: \(waiters.count)" + (waiters.isEmpty ? "" : " (\(waiters.joined(separator: ", ")))"))
        guard watching else { return false }
        return try await Recipes.nextEvent(watch) != nil
    }

    private func emit(_ context: ShellContext, _ json: Bool, _ document: [String: JSONValue], _ text: String) {
        if json { context.printJSON(.object(document)) } else { context.print(text) }
    }
}
