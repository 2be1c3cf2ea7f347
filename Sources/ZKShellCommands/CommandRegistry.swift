import ArgumentParser
import Foundation

/// The shell's commands: parsing a line into a command, help texts, and completion data.
public struct CommandRegistry: Sendable {
    /// The command types, in the order `help` lists them.
    public let commands: [any ShellCommand.Type]

    public init(commands: [any ShellCommand.Type]) {
        self.commands = commands
    }

    /// Every built-in command. A new command is one new file under `Commands/` plus its entry here.
    public static let standardCommands: [any ShellCommand.Type] = [
        ConnectCommand.self,
        CloseCommand.self,
        QuitCommand.self,
        LsCommand.self,
        GetCommand.self,
        SetCommand.self,
        CreateCommand.self,
        DeleteCommand.self,
        DeleteAllCommand.self,
        StatCommand.self,
        ExistsCommand.self,
        SyncCommand.self,
        WatchCommand.self,
        GetAclCommand.self,
        SetAclCommand.self,
        AddAuthCommand.self,
        WhoAmICommand.self,
        GetEphemeralsCommand.self,
        GetAllChildrenNumberCommand.self,
        AddWatchCommand.self,
        RemoveWatchesCommand.self,
        PrintWatchesCommand.self,
        ConfigCommand.self,
        ReconfigCommand.self,
        ListQuotaCommand.self,
        SetQuotaCommand.self,
        DelQuotaCommand.self,
        TreeCommand.self,
        FindCommand.self,
        GrepCommand.self,
        DuCommand.self,
        CountCommand.self,
        // Health and recipes
        MntrCommand.self,
        SrvrCommand.self,
        SrvStatCommand.self,
        ConsCommand.self,
        RuokCommand.self,
        EnviCommand.self,
        LeaderCommand.self,
        EnsembleCommand.self,
        LockCommand.self,
        ElectCommand.self,
        RegisterCommand.self,
        DiscoverCommand.self,
        // Bulk and editing
        TxnCommand.self,
        EditCommand.self,
        ExportCommand.self,
        ImportCommand.self,
        CpCommand.self,
        DiffCommand.self,
        CdCommand.self,
        PwdCommand.self,
        HistoryCommand.self,
        RedoCommand.self,
        VersionCommand.self,
        BenchCommand.self,
        ShellHelpCommand.self,
    ]

    /// The registry of the built-in commands.
    public static let standard = CommandRegistry(commands: standardCommands)

    /// The outcome of parsing one command's words.
    public enum Parsed: Sendable {
        /// A command ready to run.
        case command(any ShellCommand)
        /// `CMD --help` or `CMD -h`: print this text and succeed.
        case help(String)
    }

    /// The command type named `name` (its name or one of its aliases).
    public func command(named name: String) -> (any ShellCommand.Type)? {
        commands.first { type in
            type.name == name || (type.configuration.aliases).contains(name)
        }
    }

    /// Parses one command's words (`["ls", "-s", "/"]`) with `parseAsRoot`, which never exits.
    ///
    /// - Throws: ``UsageError`` for an unknown command or bad flags and arguments; its `usage`
    ///   is the command's usage line as ArgumentParser renders it.
    public func parse(_ words: [String], columns: Int? = nil) throws(UsageError) -> Parsed {
        guard let name = words.first else { throw UsageError(message: "empty command") }
        guard let type = command(named: name) else {
            throw UsageError(message: "unknown command '\(name)' (type 'help' for a list)")
        }
        let parsed: any ParsableCommand
        do {
            parsed = try type.parseAsRoot(Array(words.dropFirst()))
        } catch {
            if type.exitCode(for: error) == .success {
                // A clean exit (help requested some other way): show its text.
                return .help(type.fullMessage(for: error, columns: columns))
            }
            throw Self.usageError(for: error, of: type, columns: columns)
        }
        guard let command = parsed as? any ShellCommand else {
            // ArgumentParser's own help command: `CMD --help` / `CMD -h`.
            return .help(helpMessage(for: type, columns: columns))
        }
        return .command(command)
    }

    /// Turns an ArgumentParser error into a usage error: the short message (`message(for:)`),
    /// and as usage the command's usage line plus, for a bad option value, the option's help
    /// line from `fullMessage(for:)` (never the whole help screen).
    static func usageError(for error: any Error, of type: any ShellCommand.Type, columns: Int?) -> UsageError {
        let message = type.message(for: error)
        let hints = type.fullMessage(for: error, columns: columns)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix("Help: ") }
        let usage = hints.map { $0 + "\n" }.joined()
            + "Usage: \(type.usageString())\n  See 'help \(type.name)' for more information."
        return UsageError(message: message, usage: usage)
    }

    /// The generated help of one command (`help ls`, `ls --help`).
    public func helpMessage(for type: any ShellCommand.Type, columns: Int? = nil) -> String {
        type.helpMessage(columns: columns)
    }

    /// The overview `help` prints: one line per command with its usage and abstract.
    public func overview() -> String {
        var text = "Commands (type 'help COMMAND' or 'COMMAND --help' for details):\n"
        let width = commands.map { $0.name.count }.max() ?? 0
        for type in commands {
            let name = type.name.padding(toLength: width, withPad: " ", startingAt: 0)
            var line = "  \(name)  \(type.configuration.abstract)"
            if !type.configuration.aliases.isEmpty {
                line += " (also: \(type.configuration.aliases.joined(separator: ", ")))"
            }
            text += line + "\n"
        }
        text += "\nSeparate commands with ';' or newlines. Quote words with '…' or \"…\"; # starts a comment.\n"
        return text
    }

    // MARK: Completion data

    /// Every name a command can be typed as, sorted.
    public var commandNames: [String] {
        commands.flatMap { [$0.name] + $0.configuration.aliases }.sorted()
    }

    /// What completion needs to know about a command's arguments, from its declarations.
    public struct ArgumentSummary: Equatable, Sendable {
        /// Flag and option names with dashes (`-s`, `--json`, `--help`), sorted.
        public var flags: [String]
        /// Option names that take a value (`-v`, `--timeout`): the next word is that value.
        public var optionsWithValue: Set<String>
        /// The value names of the positional arguments in order (`path`, `data`).
        public var positionals: [String]
        /// What each positional argument completes to, in the same order.
        public var positionalKinds: [PositionalKind] = []
        /// Whether the last positional argument takes any number of words (`ensemble kill ID…`).
        public var lastPositionalRepeats = false
    }

    /// What a positional argument completes to, decided from its declaration.
    public enum PositionalKind: Equatable, Sendable {
        /// A znode path: the value name `path`.
        case node
        /// A command name: the value name `command`.
        case command
        /// A local file: `completion: .file()` (no extensions), as `export`'s and `import`'s FILE.
        case file
        /// A znode path, `zk://…`, or a local file with one of these extensions:
        /// `completion: .file(extensions: […])`, as `cp`'s SRC and DST.
        case nodeOrFile(extensions: [String])
        /// One of a fixed set of words: an `ExpressibleByArgument` enum (`ensemble`'s ACTION,
        /// `printwatches on|off`).
        case choice([String])
        /// A member id of the shell's local ensemble: the value name `id` (`ensemble kill ID`).
        case member
        /// Anything else (data, numbers…): no completion.
        case other
    }

    /// The flags and positionals of a command, read from ArgumentParser's description of it.
    public func arguments(of type: any ShellCommand.Type) -> ArgumentSummary {
        var summary = ArgumentSummary(flags: [], optionsWithValue: [], positionals: [])
        guard let object = try? JSONSerialization.jsonObject(with: Data(type._dumpHelp().utf8)) as? [String: Any],
              let command = object["command"] as? [String: Any],
              let arguments = command["arguments"] as? [[String: Any]]
        else { return summary }
        for argument in arguments {
            let kind = argument["kind"] as? String
            if kind == "positional" {
                let valueName = argument["valueName"] as? String ?? ""
                summary.positionals.append(valueName)
                summary.positionalKinds.append(Self.positionalKind(
                    valueName: valueName, completion: argument["completionKind"], values: argument["allValues"] as? [String]))
                summary.lastPositionalRepeats = argument["isRepeating"] as? Bool ?? false
                continue
            }
            for name in argument["names"] as? [[String: Any]] ?? [] {
                guard let text = name["name"] as? String else { continue }
                let dashed = (name["kind"] as? String) == "long" ? "--" + text : "-" + text
                summary.flags.append(dashed)
                if kind == "option" { summary.optionsWithValue.insert(dashed) }
            }
        }
        summary.flags.sort()
        return summary
    }

    /// A positional's kind from its value name, its dumped `completionKind`
    /// (`{"file":{"extensions":[…]}}` for `completion: .file(extensions:)`) and the values of
    /// an enum argument.
    static func positionalKind(valueName: String, completion: Any?, values: [String]? = nil) -> PositionalKind {
        if let file = (completion as? [String: Any])?["file"] as? [String: Any] {
            let extensions = file["extensions"] as? [String] ?? []
            return extensions.isEmpty ? .file : .nodeOrFile(extensions: extensions)
        }
        if let values, !values.isEmpty { return .choice(values) }
        switch valueName {
        case "path": return .node
        case "command": return .command
        case "id": return .member
        default: return .other
        }
    }
}
