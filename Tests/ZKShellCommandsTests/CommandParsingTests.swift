import Testing
@testable import ZKShellCommands
import ZooKeeperClient

/// Parses `words` and returns the command as `T`, failing the test otherwise.
func parse<T: ShellCommand>(_ words: [String], as type: T.Type = T.self,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    guard case .command(let command) = try CommandRegistry.standard.parse(words) else {
        Issue.record("expected a command for \(words)", sourceLocation: sourceLocation)
        throw ShellError("not a command")
    }
    return try #require(command as? T, sourceLocation: sourceLocation)
}

/// The usage error parsing `words` throws.
func usageError(_ words: [String], sourceLocation: SourceLocation = #_sourceLocation) -> UsageError? {
    do {
        _ = try CommandRegistry.standard.parse(words, columns: 80)
        Issue.record("expected a usage error for \(words)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("Command parsing")
struct CommandParsingTests {
    @Test func connect() throws {
        let plain = try parse(["connect"], as: ConnectCommand.self)
        #expect(plain.hosts == nil && plain.timeout == nil)
        let full = try parse(["connect", "h1:1,h2:2/app", "--timeout", "2.5", "--session-timeout", "8"], as: ConnectCommand.self)
        #expect(full.hosts == "h1:1,h2:2/app")
        #expect(full.timeout == 2.5)
        #expect(full.sessionTimeout == 8)
        #expect(usageError(["connect", "--timeout", "0"])?.message.contains("--timeout") == true)
        #expect(usageError(["connect", "--timeout"]) != nil)
        #expect(usageError(["connect", "a", "b"])?.message == "Unexpected argument 'b'")
    }

    @Test func closeAndQuit() throws {
        _ = try parse(["close"], as: CloseCommand.self)
        _ = try parse(["quit"], as: QuitCommand.self)
        _ = try parse(["exit"], as: QuitCommand.self)
        #expect(usageError(["close", "now"]) != nil)
    }

    @Test func ls() throws {
        let plain = try parse(["ls"], as: LsCommand.self)
        #expect(plain.path == nil && !plain.stat && !plain.watch && !plain.recursive && !plain.output.json)
        let flags = try parse(["ls", "-sw", "/a"], as: LsCommand.self)
        #expect(flags.stat && flags.watch && flags.path == "/a")
        let recursive = try parse(["ls", "-R", "--json", "/a"], as: LsCommand.self)
        #expect(recursive.recursive && recursive.output.json)
        #expect(usageError(["ls", "-q"])?.message == "Unknown option '-q'")
        #expect(usageError(["ls", "-R", "-w", "/"])?.message == "-R cannot be combined with -s or -w")
        let error = usageError(["ls", "-x"])
        #expect(error?.usage.contains("Usage: ls [-s] [-w] [-R] [--json] [<path>]") == true)
        #expect(error?.usage.contains("See 'help ls'") == true)
    }

    @Test func get() throws {
        let get = try parse(["get", "-s", "-w", "-x", "/a"], as: GetCommand.self)
        #expect(get.stat && get.watch && get.hex && !get.base64 && get.format == .hexDump)
        #expect(try parse(["get", "-b", "/a"], as: GetCommand.self).format == .base64)
        #expect(try parse(["get", "/a"], as: GetCommand.self).format == .automatic)
        #expect(usageError(["get"])?.message == "Missing expected argument '<path>'")
        #expect(usageError(["get", "-b", "-x", "/a"])?.message == "-b and -x cannot be combined")
    }

    @Test func set() throws {
        let set = try parse(["set", "-s", "-v", "3", "/a", "data"], as: SetCommand.self)
        #expect(set.stat && set.version == 3 && set.path == "/a" && set.data == "data")
        #expect(try parse(["set", "-v", "-1", "/a", ""], as: SetCommand.self).version == -1)
        #expect(try parse(["set", "/a"], as: SetCommand.self).data == nil)
        #expect(try parse(["set", "/a", "--", "-5"], as: SetCommand.self).data == "-5")
        let badValue = usageError(["set", "-v", "x", "/a", "d"])
        #expect(badValue?.message == "The value 'x' is invalid for '-v <version>'")
        #expect(badValue?.usage.hasPrefix("Help:  -v <version>") == true)
        #expect(usageError(["set"])?.usage == "Usage: set [-s] [-v <version>] [--json] <path> [<data>]\n  See 'help set' for more information.")
        #expect(usageError(["set"]) != nil)
    }

    @Test func create() throws {
        let create = try parse(["create", "-s", "-e", "/a/b-", "x"], as: CreateCommand.self)
        #expect(create.mode == .ephemeralSequential && create.data == "x")
        #expect(try parse(["create", "/a"], as: CreateCommand.self).mode == .persistent)
        #expect(try parse(["create", "-c", "/a"], as: CreateCommand.self).mode == .container)
        #expect(try parse(["create", "-t", "500", "/a"], as: CreateCommand.self).mode == .persistentWithTTL)
        #expect(try parse(["create", "-s", "-t", "500", "/a"], as: CreateCommand.self).mode == .persistentSequentialWithTTL)
        #expect(try parse(["create", "-p", "/a/b/c"], as: CreateCommand.self).parents)
        #expect(usageError(["create", "-e", "-c", "/a"]) != nil)
        #expect(usageError(["create", "-e", "-t", "5", "/a"]) != nil)
        #expect(usageError(["create", "-t", "0", "/a"])?.message == "-t needs a TTL above 0 milliseconds")
        #expect(usageError(["create", "/a", "b", "c"]) != nil)
    }

    @Test func deleteAndDeleteAll() throws {
        let delete = try parse(["delete", "-v", "7", "/a"], as: DeleteCommand.self)
        #expect(delete.version == 7 && delete.path == "/a")
        #expect(try parse(["rm", "/a"], as: DeleteCommand.self).version == -1)
        #expect(try parse(["deleteall", "/a"], as: DeleteAllCommand.self).path == "/a")
        #expect(try parse(["rmr", "/a"], as: DeleteAllCommand.self).path == "/a")
        #expect(usageError(["delete"]) != nil)
        #expect(usageError(["deleteall", "-v", "1", "/a"]) != nil)
    }

    @Test func statExistsSync() throws {
        #expect(try parse(["stat", "-w", "/a"], as: StatCommand.self).watch)
        #expect(try parse(["exists", "/a"], as: ExistsCommand.self).path == "/a")
        #expect(try parse(["sync"], as: SyncCommand.self).path == nil)
        #expect(usageError(["stat"]) != nil)
        #expect(usageError(["exists", "-w", "/a"]) != nil)
    }

    @Test func watch() throws {
        let watch = try parse(["watch", "-R", "-d", "/a"], as: WatchCommand.self)
        #expect(watch.recursive && watch.data && !watch.children)
        #expect(try parse(["watch", "/a", "-c"], as: WatchCommand.self).children)
        #expect(usageError(["watch", "-R", "-c", "/a"])?.message == "-R and -c cannot be combined")
        #expect(usageError(["watch"]) != nil)
    }

    @Test func navigationAndHistory() throws {
        #expect(try parse(["cd"], as: CdCommand.self).path == "/")
        #expect(try parse(["cd", ".."], as: CdCommand.self).path == "..")
        _ = try parse(["pwd"], as: PwdCommand.self)
        #expect(try parse(["history", "5"], as: HistoryCommand.self).count == 5)
        #expect(usageError(["history", "-1"]) != nil)
        #expect(try parse(["help", "ls"], as: ShellHelpCommand.self).command == "ls")
    }

    @Test func unknownCommandIsAUsageError() {
        let error = usageError(["frobnicate", "/"])
        #expect(error?.message == "unknown command 'frobnicate' (type 'help' for a list)")
        #expect(error?.usage == "")
    }

    @Test func helpFlagGivesHelpText() throws {
        guard case .help(let text) = try CommandRegistry.standard.parse(["ls", "--help"], columns: 80) else {
            Issue.record("expected help")
            return
        }
        #expect(text.contains("USAGE: ls [-s] [-w] [-R] [--json] [<path>]"))
        guard case .help = try CommandRegistry.standard.parse(["get", "-h"], columns: 80) else {
            Issue.record("expected help")
            return
        }
    }

    @Test(arguments: CommandRegistry.standardCommands.map { $0.name })
    func everyCommandHasGeneratedHelp(_ name: String) throws {
        let registry = CommandRegistry.standard
        let type = try #require(registry.command(named: name))
        let help = registry.helpMessage(for: type, columns: 80)
        #expect(help.contains("OVERVIEW: \(type.configuration.abstract)"))
        #expect(help.contains("USAGE: \(name)"))
        #expect(help.contains("Examples:"))
        #expect(help.contains("-h, --help"))
        #expect(!type.configuration.abstract.isEmpty)
        // Every argument carries its own help text.
        let info = registry.arguments(of: type)
        for flag in info.flags where flag != "-h" && flag != "--help" {
            #expect(help.contains(flag), "\(name) help mentions \(flag)")
        }
    }

    @Test func commandNamesAreUnique() {
        let names = CommandRegistry.standard.commandNames
        #expect(Set(names).count == names.count)
        #expect(names.contains("ls") && names.contains("exit") && names.contains("rmr"))
    }

    @Test func overviewListsEveryCommand() {
        let overview = CommandRegistry.standard.overview()
        for type in CommandRegistry.standardCommands {
            #expect(overview.contains("  \(type.name) "))
        }
    }

    @Test func argumentSummaryComesFromDeclarations() throws {
        let registry = CommandRegistry.standard
        let set = registry.arguments(of: SetCommand.self)
        #expect(set.flags == ["--help", "--json", "-h", "-s", "-v"])
        #expect(set.optionsWithValue == ["-v"])
        #expect(set.positionals == ["path", "data"])
        #expect(registry.arguments(of: ShellHelpCommand.self).positionals == ["command"])
        #expect(registry.arguments(of: ConnectCommand.self).optionsWithValue
            == ["--timeout", "--session-timeout", "--auth", "--sasl", "--tls-ca", "--tls-cert", "--tls-key"])
    }
}
