import ArgumentParser
import Foundation
import ZooKeeperClient

/// `discover [--pick random|round-robin] [-w] PATH`: lists (and picks from) a service's live members.
struct DiscoverCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "List the live members of a service, pick one, or follow them with -w.",
        discussion: """
            Lists the children of PATH (the members register creates), sorted, one per line: \
            HOST:PORT, and a tab and the data when there is any. With --pick only one member \
            is printed: a random one, or the next in turn (round-robin rotates through the \
            members on each call within one shell).

            With -w the members are followed until Ctrl-C: one line per change, '+ MEMBER' \
            when one appears (the existing ones first) and '- MEMBER' when one vanishes; with \
            --pick also 'pick: MEMBER' after each change. PATH need not exist yet.

            Exit status: 0, 1 when there is no member (without -w), 130 when interrupted.

            Examples:
              discover /services/api
              discover --pick random /services/api
              discover -w /services/api
            """)

    enum Pick: String, ExpressibleByArgument, CaseIterable, Sendable {
        case random
        case roundRobin = "round-robin"
    }

    @Option(help: ArgumentHelp("Print one member, chosen this way.", valueName: "random|round-robin"))
    var pick: Pick?

    @Flag(name: .customShort("w"), help: "Follow the members as they come and go, until Ctrl-C.")
    var watch = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's node.")
    var path: String

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let directory = context.resolve(path)
        let json = output.wantsJSON(context)
        guard watch else {
            let members = try await Self.members(of: directory, client: client) ?? []
            if let pick {
                guard let chosen = Self.choose(members.map(\.name), pick, path: directory) else {
                    throw ShellError("no members under \(directory)")
                }
                if json { context.printJSON(["path": .string(directory), "picked": .string(chosen)]) } else { context.print(chosen) }
                return
            }
            if json {
                context.printJSON(["path": .string(directory), "members": .array(members.map { ["name": .string($0.name), "data": .string($0.data)] })])
            } else {
                for member in members { context.print(Self.line(member)) }
            }
            if members.isEmpty { throw ShellError("no members under \(directory)") }
            return
        }
        var known: [String: String] = [:]
        do {
            while true {
                guard let (watchToWait, current) = try await Self.snapshot(directory, client: client) else { continue }
                let names = Set(current.map(\.name))
                var changed = false
                for name in known.keys.sorted() where !names.contains(name) {
                    known[name] = nil
                    changed = true
                    emit(context, json, ["event": "left", "member": .string(name)], "- \(name)")
                }
                for member in current where known[member.name] == nil {
                    known[member.name] = member.data
                    changed = true
                    emit(context, json, ["event": "joined", "member": .string(member.name), "data": .string(member.data)], "+ " + Self.line(member))
                }
                if changed, let pick {
                    let chosen = Self.choose(known.keys.sorted(), pick, path: directory)
                    emit(context, json, ["event": "pick", "member": chosen.map(JSONValue.string) ?? .null], "pick: \(chosen ?? "none")")
                }
                if try await Recipes.nextEvent(watchToWait) == nil { return }
            }
        } catch is CancellationError {
            return
        }
    }

    /// The members and a watch for their change; a watch for the path's creation (and no
    /// members) while it is missing; nil when it appeared meanwhile (look again).
    static func snapshot(_ directory: String, client: ZooKeeperClient) async throws -> (ZooKeeperWatch, [Member])? {
        do {
            let (children, _, watch) = try await client.getChildrenAndWatch(directory)
            return (watch, try await data(of: children.sorted(), under: directory, client: client))
        } catch let error as ZooKeeperError where error.code == .noNode {
            let (stat, watch) = try await client.existsAndWatch(directory)
            return stat == nil ? (watch, []) : nil
        }
    }

    struct Member: Equatable, Sendable {
        var name: String
        var data: String
    }

    /// The members under `directory` with their data, sorted; nil when it does not exist.
    static func members(of directory: String, client: ZooKeeperClient) async throws -> [Member]? {
        do {
            return try await data(of: client.getChildren(directory).children.sorted(), under: directory, client: client)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    static func data(of names: [String], under directory: String, client: ZooKeeperClient) async throws -> [Member] {
        var members: [Member] = []
        for name in names {
            do {
                let data = try await client.getData(ZooKeeperPath.join(directory, name)).data
                members.append(Member(name: name, data: String(decoding: data, as: UTF8.self)))
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue  // gone meanwhile
            }
        }
        return members
    }

    static func line(_ member: Member) -> String {
        member.data.isEmpty ? member.name : member.name + "\t" + DataRenderer.singleLine(Array(member.data.utf8))
    }

    /// The rotation positions of round-robin picks, per path, for the life of the process.
    private static let turns = TurnCounter()

    static func choose(_ names: [String], _ pick: Pick, path: String) -> String? {
        guard !names.isEmpty else { return nil }
        switch pick {
        case .random: return names.randomElement()
        case .roundRobin: return names[turns.next(path) % names.count]
        }
    }

    private func emit(_ context: ShellContext, _ json: Bool, _ document: [String: JSONValue], _ text: String) {
        if json { context.printJSON(.object(document)) } else { context.print(text) }
    }
}

/// A counter per key, safe from any task.
final class TurnCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func next(_ key: String) -> Int {
        lock.withLock {
            defer { counts[key, default: 0] += 1 }
            return counts[key, default: 0]
        }
    }
}
