import ArgumentParser
import ZooKeeperClient

/// `elect PATH [NAME]`: runs for leader under PATH and prints every change of leader until Ctrl-C.
struct ElectCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "elect",
        abstract: "Run for leader under a path; print leader changes until Ctrl-C.",
        discussion: """
            The leader election recipe: the candidate creates an ephemeral sequential node under \
            PATH (created if missing) with NAME as data; the candidate whose node is first in \
            line leads. Prints 'leader: NAME' at the start and whenever the leader changes (a \
            leader's shell ends, its session expires, or it is interrupted). Ctrl-C withdraws \
            the candidacy: the node is deleted and the next candidate leads.

            Nodes are named like kazoo's (<hex>__lock__<sequence>, data: NAME), so zksh \
            candidates and Python programs using kazoo's Election take part in one election.

            Exit status: 130 when interrupted, 1 when the session ends or the node is lost.

            Examples:
              elect /app/election web-1
              elect --json /app/election
            """)

    @OptionGroup var output: OutputOptions

    @Argument(help: "The election's node; candidates queue under it.")
    var path: String

    @Argument(help: "This candidate's name (default: HOST:PID).")
    var name: String?

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let directory = context.resolve(path)
        let name = self.name ?? Recipes.defaultIdentifier
        let candidate = try await LockContender.enter(client: client, directory: directory, identifier: name)
        do {
            var current: String?
            while true {
                let (children, _, watch) = try await client.getChildrenAndWatch(directory)
                let queue = LockNodeName.queue(children)
                guard queue.contains(candidate.name) else {
                    throw ShellError("lost the candidacy: \(candidate.path) was deleted (session expired?)")
                }
                guard let leader = try await candidate.identifiers(of: [queue[0]]).first else { continue }
                let isSelf = queue[0] == candidate.name
                let report = queue[0] + "/" + leader
                if report != current {
                    current = report
                    if output.wantsJSON(context) {
                        context.printJSON(["leader": .string(leader), "node": .string(ZooKeeperPath.join(directory, queue[0])), "self": .bool(isSelf)])
                    } else {
                        context.print("leader: \(leader)")
                    }
                }
                if try await Recipes.nextEvent(watch) == nil { break }
            }
        } catch is CancellationError {
            // Ctrl-C: withdraw.
        } catch {
            await candidate.leave()
            throw error
        }
        await candidate.leave()
    }
}
