import Testing
@testable import ZKShellCommands
import ZooKeeperClient

@Suite("Admin and tree commands: parsing")
struct AdminCommandParsingTests {
    @Test func getAclAndSetAcl() throws {
        let get = try parse(["getAcl", "-s", "/a"], as: GetAclCommand.self)
        #expect(get.stat && get.path == "/a")
        _ = try parse(["getacl", "/a"], as: GetAclCommand.self)
        #expect(usageError(["getAcl"])?.message == "Missing expected argument '<path>'")
        #expect(usageError(["getAcl", "-x", "/a"])?.message == "Unknown option '-x'")

        let set = try parse(["setAcl", "-s", "-v", "3", "-R", "/a", "digest:bob:abc=:cdrwa,world:anyone:r"], as: SetAclCommand.self)
        #expect(set.stat && set.recursive && set.version == 3 && set.path == "/a")
        #expect(try parse(["setacl", "/a", "world:anyone:cdrwa"], as: SetAclCommand.self).version == -1)
        #expect(usageError(["setAcl", "/a"])?.message == "Missing expected argument '<acl>'")
        #expect(usageError(["setAcl", "/a", "world:anyone"])?.message.contains("not a valid ACL entry") == true)
        #expect(usageError(["setAcl", "/a", "world:anyone:rx"])?.message.contains("are not permissions") == true)
        #expect(usageError(["setAcl", "-v", "x", "/a", "world:anyone:r"]) != nil)
    }

    @Test func authAndIdentity() throws {
        let auth = try parse(["addauth", "digest", "bob:secret"], as: AddAuthCommand.self)
        #expect(auth.scheme == "digest" && auth.auth == "bob:secret")
        #expect(usageError(["addauth", "digest"])?.message == "Missing expected argument '<auth>'")
        _ = try parse(["whoami", "--json"], as: WhoAmICommand.self)
        #expect(usageError(["whoami", "x"]) != nil)

        let connect = try parse(["connect", "h:1", "--auth", "digest:bob:se:cret", "--auth", "ip:1.2.3.4"], as: ConnectCommand.self)
        #expect(connect.authentication.credentials == [
            ShellContext.Credential(scheme: "digest", auth: Array("bob:se:cret".utf8)),
            ShellContext.Credential(scheme: "ip", auth: Array("1.2.3.4".utf8)),
        ])
        #expect(try parse(["connect"], as: ConnectCommand.self).authentication.credentials.isEmpty)
        #expect(usageError(["connect", "--auth", "nocolon"])?.message.contains("--auth 'nocolon'") == true)
        #expect(usageError(["connect", "--auth", ":x"]) != nil)
    }

    @Test func ephemeralsAndChildrenNumber() throws {
        #expect(try parse(["getEphemerals"], as: GetEphemeralsCommand.self).path == nil)
        #expect(try parse(["getephemerals", "/app"], as: GetEphemeralsCommand.self).path == "/app")
        #expect(try parse(["getAllChildrenNumber", "/a"], as: GetAllChildrenNumberCommand.self).path == "/a")
        #expect(usageError(["getAllChildrenNumber", "/a", "/b"]) != nil)
    }

    @Test func watches() throws {
        #expect(try parse(["addWatch", "/a"], as: AddWatchCommand.self).mode == .persistentRecursive)
        #expect(try parse(["addWatch", "-m", "persistent", "/a"], as: AddWatchCommand.self).mode == .persistent)
        #expect(try parse(["addwatch", "-m", "PERSISTENT_RECURSIVE", "/a"], as: AddWatchCommand.self).mode == .persistentRecursive)
        #expect(try parse(["addWatch", "-m", "persistent-recursive", "/a"], as: AddWatchCommand.self).mode.addWatchMode == .persistentRecursive)
        #expect(usageError(["addWatch", "-m", "sometimes", "/a"])?.message.contains("sometimes") == true)
        #expect(usageError(["addWatch"]) != nil)

        #expect(try parse(["removewatches", "/a"], as: RemoveWatchesCommand.self).type == .any)
        #expect(try parse(["removewatches", "/a", "-c"], as: RemoveWatchesCommand.self).type == .children)
        #expect(try parse(["removewatches", "/a", "-d"], as: RemoveWatchesCommand.self).type == .data)
        #expect(try parse(["removewatches", "/a", "-p"], as: RemoveWatchesCommand.self).type == .persistent)
        let recursive = try parse(["removewatches", "-r", "-l", "/a"], as: RemoveWatchesCommand.self)
        #expect(recursive.type == .persistentRecursive && recursive.local)
        #expect(usageError(["removewatches", "/a", "-c", "-d"])?.message == "-c, -d, -a, -p and -r cannot be combined")
        #expect(usageError(["removewatches", "/a", "-x"]) != nil)

        #expect(try parse(["printwatches", "off"], as: PrintWatchesCommand.self).setting == .off)
        #expect(try parse(["printwatches"], as: PrintWatchesCommand.self).setting == nil)
        #expect(usageError(["printwatches", "maybe"]) != nil)
    }

    @Test func redoVersionConfig() throws {
        #expect(try parse(["redo", "3"], as: RedoCommand.self).number == 3)
        #expect(usageError(["redo", "0"])?.message == "N must be 1 or more")
        #expect(usageError(["redo"]) != nil)
        #expect(usageError(["redo", "x"]) != nil)
        _ = try parse(["version"], as: VersionCommand.self)
        #expect(usageError(["version", "-x"]) != nil)
        let config = try parse(["config", "-c", "-w", "-s"], as: ConfigCommand.self)
        #expect(config.membersOnly && config.watch && config.stat)
        #expect(usageError(["config", "/x"]) != nil)
    }

    @Test func quotas() throws {
        let set = try parse(["setquota", "-n", "10", "/a"], as: SetQuotaCommand.self)
        #expect(set.count == 10 && set.requested.text == "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1")
        let hard = try parse(["setquota", "-N", "5", "-B", "100", "/a"], as: SetQuotaCommand.self)
        #expect(hard.requested.text == "count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=5")
        #expect(usageError(["setquota", "/a"])?.message == "give a limit: -n, -b, -N or -B")
        #expect(usageError(["setquota", "-n", "0", "/a"])?.message == "the -n quota must be greater than zero")
        #expect(usageError(["setquota", "-b", "x", "/a"]) != nil)
        #expect(usageError(["setquota", "-n", "1"]) != nil)
        let del = try parse(["delquota", "-n", "-B", "/a"], as: DelQuotaCommand.self)
        #expect(del.count && del.byteHardLimit && !del.bytes && !del.countHardLimit)
        #expect(usageError(["delquota"]) != nil)
        _ = try parse(["listquota", "/a"], as: ListQuotaCommand.self)
        #expect(usageError(["listquota"]) != nil)
    }

    @Test func treeTools() throws {
        #expect(try parse(["tree"], as: TreeCommand.self).depth == nil)
        #expect(try parse(["tree", "-d", "2", "/a"], as: TreeCommand.self).depth == 2)
        #expect(usageError(["tree", "-d=-1"])?.message == "-d must not be negative")
        #expect(usageError(["tree", "-d", "-1"]) != nil)
        let find = try parse(["find", "/a", "lock-*", "-i", "--regex"], as: FindCommand.self)
        #expect(find.matching.ignoreCase && find.matching.regex && find.pattern == "lock-*")
        #expect(usageError(["find", "/a"]) != nil)
        #expect(usageError(["find", "/a", "(", "--regex"])?.message == "invalid regular expression '('")
        let grep = try parse(["grep", "/a", "x=*", "-i"], as: GrepCommand.self)
        #expect(grep.matching.ignoreCase && !grep.matching.regex)
        #expect(usageError(["grep", "/a", "[", "--regex"]) != nil)
        let du = try parse(["du", "--bytes", "-d", "0", "/a"], as: DuCommand.self)
        #expect(du.exactBytes && du.depth == 0)
        #expect(try parse(["du"], as: DuCommand.self).depth == 1)
        #expect(usageError(["du", "-d", "x"]) != nil)
        #expect(try parse(["count", "/a"], as: CountCommand.self).path == "/a")
        #expect(usageError(["count", "-q"]) != nil)
    }

    @Test func everyNewCommandIsListedAndHasExamples() {
        for name in ["getAcl", "setAcl", "addauth", "whoami", "getEphemerals", "getAllChildrenNumber", "addWatch",
                     "removewatches", "printwatches", "redo", "version", "config", "listquota", "setquota", "delquota",
                     "tree", "find", "grep", "du", "count"] {
            let type = CommandRegistry.standard.command(named: name)
            #expect(type != nil, "\(name)")
            #expect(type?.configuration.discussion.contains("Examples:") == true, "\(name)")
        }
    }
}

@Suite("ACL text, quota data, globs, tree drawing")
struct AdminFormatTests {
    @Test func aclParsingSplitsFromTheRight() throws {
        let acl = try ACLText.parse("world:anyone:cdrwa,digest:bob:Jvd6Wj0Ks3Cv4RqD5q8+7TqQ6jY=:rw,ip:fe80::1:r,auth::cdrwa")
        #expect(acl == [
            ACL(permissions: .all, id: .anyone),
            ACL(permissions: [.read, .write], id: Id(scheme: "digest", id: "bob:Jvd6Wj0Ks3Cv4RqD5q8+7TqQ6jY=")),
            ACL(permissions: .read, id: Id(scheme: "ip", id: "fe80::1")),
            ACL(permissions: .all, id: Id(scheme: "auth", id: "")),
        ])
        #expect(try ACLText.parse("world:anyone:").first?.permissions == [])
        #expect(throws: UsageError.self) { try ACLText.parse("world:anyone") }
        #expect(throws: UsageError.self) { try ACLText.parse(":anyone:r") }
        #expect(throws: UsageError.self) { try ACLText.parse("world:anyone:r,") }
        #expect(throws: UsageError.self) { try ACLText.parse("world:anyone:rwx") }
    }

    @Test func aclFormattingIsZkClis() throws {
        let acl = try ACLText.parse("world:anyone:r,digest:bob:h=:cdrwa")
        #expect(ACLText.text(acl) == "'world,'anyone\n: r\n'digest,'bob:h=\n: cdrwa\n")
        #expect(ACLText.json(acl).rendered == #"[{"id":"anyone","perms":"r","scheme":"world"},{"id":"bob:h=","perms":"cdrwa","scheme":"digest"}]"#)
    }

    @Test func quotaDataRoundTrips() throws {
        let old = try QuotaStats(parsing: "count=5,bytes=-1")
        #expect(old[QuotaStats.count] == 5 && old[QuotaStats.bytes] == -1 && !old.has(QuotaStats.countHardLimit))
        #expect(old.text == "count=5,bytes=-1")
        let new = try QuotaStats(parsing: "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2")
        #expect(new[QuotaStats.countHardLimit] == 2 && new[QuotaStats.byteHardLimit] == -1)
        #expect(new.text == "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2")
        #expect(try QuotaStats(parsing: "").text == "count=-1,bytes=-1")
        #expect(try QuotaStats(parsing: "bytes=7;count=3").text == "count=3,bytes=7")
        #expect(throws: ShellError.self) { try QuotaStats(parsing: "count") }
        #expect(throws: ShellError.self) { try QuotaStats(parsing: "count=x") }
        #expect(new.json.rendered == #"{"byteHardLimit":-1,"bytes":-1,"count":-1,"countHardLimit":2}"#)
        #expect(QuotaStats.quotaPath(for: "/a/b") == "/zookeeper/quota/a/b")
        #expect(QuotaStats.quotaPath(for: "/") == "/zookeeper/quota")
    }

    @Test func globs() {
        #expect(GlobPattern("lock-*").matches("lock-0001"))
        #expect(!GlobPattern("lock-*").matches("xlock-1"))
        #expect(GlobPattern("*").matches(""))
        #expect(GlobPattern("a?c").matches("abc") && !GlobPattern("a?c").matches("ac"))
        #expect(GlobPattern("*.json").matches("config.json") && !GlobPattern("*.json").matches("config.jsonx"))
        #expect(GlobPattern("w[0-9]").matches("w7") && !GlobPattern("w[0-9]").matches("wx"))
        #expect(GlobPattern("w[!0-9]").matches("wx") && !GlobPattern("w[!0-9]").matches("w1"))
        #expect(GlobPattern("a*b*c").matches("aXXbYYc") && !GlobPattern("a*b*c").matches("aXXcYYb"))
        #expect(GlobPattern(#"a\*"#).matches("a*") && !GlobPattern(#"a\*"#).matches("ab"))
        #expect(GlobPattern("[ab").matches("[ab"))
        #expect(GlobPattern("LOCK*", caseInsensitive: true).matches("lock-1"))
        #expect(!GlobPattern("LOCK*").matches("lock-1"))
    }

    @Test func textPatterns() throws {
        let line = try TextPattern("max=*", regex: false, caseInsensitive: false, anchored: false)
        #expect(line.matches("x; max=10; y") && !line.matches("min=1"))
        let name = try TextPattern("max*", regex: false, caseInsensitive: false, anchored: true)
        #expect(name.matches("maximum") && !name.matches("the-max"))
        let regex = try TextPattern("^w-[0-9]+$", regex: true, caseInsensitive: true, anchored: true)
        #expect(regex.matches("W-12") && !regex.matches("w-1x"))
        #expect(throws: UsageError.self) { try TextPattern("(", regex: true, caseInsensitive: false, anchored: true) }
    }

    @Test func treeDrawing() {
        #expect(SubtreeWalker.treePrefix(isLast: []) == "")
        #expect(SubtreeWalker.treePrefix(isLast: [false]) == "├── ")
        #expect(SubtreeWalker.treePrefix(isLast: [true]) == "└── ")
        #expect(SubtreeWalker.treePrefix(isLast: [false, true]) == "│   └── ")
        #expect(SubtreeWalker.treePrefix(isLast: [true, false]) == "    ├── ")
        #expect(SubtreeWalker.treePrefix(isLast: [false, false, true]) == "│   │   └── ")
    }

    @Test func humanBytesAndQuotedLines() throws {
        #expect(ByteCount.human(0) == "0 B")
        #expect(ByteCount.human(1023) == "1023 B")
        #expect(ByteCount.human(1536) == "1.5 KiB")
        #expect(ByteCount.human(20 * 1024 * 1024) == "20 MiB")
        let words = ["set", "/a", "it's a; b", "", "#x", "plain"]
        let line = ShellTokenizer.line(words)
        #expect(try ShellTokenizer.commands(in: line) == [words])
    }
}

@Suite("Admin commands: offline behaviour")
struct AdminOfflineTests {
    @Test func printwatchesIsStoredInTheContext() async throws {
        let shell = try await OfflineShell()
        #expect(shell.context.printsWatchEvents)
        #expect(await shell.runner.execute(["printwatches", "off"]) == .success)
        #expect(!shell.context.printsWatchEvents)
        #expect(await shell.runner.execute(["printwatches"]) == .success)
        #expect(await shell.runner.execute(["printwatches", "on", "--json"]) == .success)
        #expect(shell.output.outputText == "printwatches is off\n{\"printwatches\":true}\n")
        try await shell.shutdown()
    }

    @Test func versionNeedsNoServer() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.execute(["version"]) == .success)
        #expect(shell.output.outputText.hasPrefix("zksh version \(VersionCommand.zkshVersion), client protocol version 0"))
        try await shell.shutdown()
    }

    @Test func redoRunsAHistoryEntry() async throws {
        let shell = try await OfflineShell()
        for line in ["pwd; printwatches", "redo 1", "ls /"] { shell.context.appendHistory(line) }
        #expect(await shell.runner.execute(["redo", "1"]) == .success)
        #expect(shell.output.outputText == "/\nprintwatches is on\n")
        #expect(await shell.runner.execute(["redo", "2"]) == .failure)
        #expect(shell.output.errorText.contains("itself a redo"))
        #expect(await shell.runner.execute(["redo", "9"]) == .failure)
        #expect(shell.output.errorText.contains("no history entry 9"))
        #expect(await shell.runner.execute(["redo", "3"]) == .failure)  // ls needs a session
        try await shell.shutdown()
    }

    @Test func scriptsRecordHistoryForRedo() async throws {
        let shell = try await OfflineShell()
        #expect(await shell.runner.runScript("pwd; redo 1; history", keepGoing: false) == .success)
        #expect(shell.output.outputText == "/\n/\n  1  pwd\n  2  redo 1\n  3  history\n")
        try await shell.shutdown()
    }

    @Test func credentialsFromOptions() async throws {
        let shell = try await OfflineShell()
        #expect(shell.context.credentials.isEmpty)
        try await shell.shutdown()
        #expect(AuthOptions.credential("digest:u:p") == ShellContext.Credential(scheme: "digest", auth: Array("u:p".utf8)))
        #expect(AuthOptions.credential("digest") == nil)
    }
}
