import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// `zksh serve` driven by clients we did not write: zkCli.sh (the same scripted session against
/// Apache ZooKeeper and against zksh serve must print the same thing), kazoo's recipes, and the
/// C client's `cli_mt`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServeRealClientTests {
    /// One zkCli.sh session, fed on stdin, covering create (plain, -e, -s, -s -e), get -s,
    /// set -v (good and stale version), ls -R, stat, addauth digest + setAcl/getAcl, delete,
    /// deleteall and failing commands. Apart from times, zxids and session ids the transcripts
    /// must be identical.
    @Test func zkCliTranscriptMatchesApacheZooKeeper() async throws {
        let script = """
            create /cli top
            create /cli/a alpha
            create -e /cli/eph e
            create -s /cli/seq- s1
            create -s /cli/seq- s2
            create -s -e /cli/eseq- x
            get -s /cli/a
            set -v 0 /cli/a beta
            set -v 0 /cli/a gamma
            get -s /cli/a
            get /cli/missing
            get -s /cli/eph
            ls -R /cli
            ls -s /cli
            stat /cli
            addauth digest alice:secret
            setAcl /cli/a auth:alice:secret:cdrwa
            getAcl /cli/a
            create /cli/a/child c
            create /cli/a x
            create /cli/missing/deeper x
            delete /cli/missing
            delete /cli
            delete /cli/seq-0000000002
            deleteall /cli/a
            ls /cli
            deleteall /cli
            ls /
            quit

            """
        let apache = try await ApacheZooKeeperServer.start()
        defer { apache.stop() }
        let zksh = try await ZkshServer.start()
        defer { zksh.stop() }
        let reference = try await zkCliSession(port: apache.port, script: script)
        let ours = try await zkCliSession(port: zksh.port, script: script)

        #expect(reference.stdout.contains("'digest,'alice:"), "the reference transcript is not what the script expects:\n\(reference.stdout)")
        #expect(reference.stderr.contains("Node not empty: /cli"), "\(reference.stderr)")
        #expect(ours.stdout == reference.stdout, "stdout differs:\n--- Apache ZooKeeper\n\(reference.stdout)\n--- zksh serve\n\(ours.stdout)")
        #expect(ours.stderr == reference.stderr, "stderr differs:\n--- Apache ZooKeeper\n\(reference.stderr)\n--- zksh serve\n\(ours.stderr)")
    }

    /// kazoo's Lock, Election, Party, Counter, Queue/LockingQueue, Barrier/DoubleBarrier and
    /// TreeCache recipes, plus an ephemeral node whose session is expired by a takeover.
    @Test func kazooRecipes() async throws {
        let server = try await ZkshServer.start()
        defer { server.stop() }
        let script = try scriptPath("kazoo_recipes.py")
        let result = try await blocking {
            try runProcess("/usr/bin/python3", [script, server.connectString], timeout: .seconds(90))
        }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let names = lines.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(result.status == 0, "python exited with \(result.status)\n\(result.stdout)\n\(result.stderr)")
        #expect(
            names == ["lock", "election", "party", "counter", "queue", "barrier", "treecache", "ephemeral-expiry", "cleanup"],
            "\(result.stdout)\n\(result.stderr)")
        for line in lines {
            #expect(line.hasSuffix(" OK"), "\(line)\n\(server.logTail(lines: 30))")
        }
    }

    /// The C client's command-line tool (Debian package zookeeper-bin): create, get, ls, set,
    /// delete, each answered with rc = 0 and the right data.
    @Test func cClientCliMt() async throws {
        let cliMt = "/usr/lib/zookeeper/bin/cli_mt"
        #expect(FileManager.default.isExecutableFile(atPath: cliMt), "\(cliMt) is missing: apt-get install zookeeper-bin")
        let server = try await ZkshServer.start()
        defer { server.stop() }
        // cli_mt reads stdin asynchronously: each command's answer arrives on its own, so a
        // shell loop paces the commands and keeps stdin open until the last answer is in.
        // cli_mt's create takes no data (the rest of the line is the path); set gives it data.
        let commands = [
            "create /cmt", "set /cmt hello", "get /cmt", "create /cmt/child", "ls /cmt", "set /cmt world", "get /cmt",
            "delete /cmt/child", "delete /cmt", "exists /cmt", "get /cmt",
        ]
        let feeder = commands.map { "echo '\($0)'; sleep 0.3" }.joined(separator: "; ") + "; sleep 0.5"
        let result = try await blocking {
            try runProcess("/bin/sh", ["-c", "(\(feeder)) | \(cliMt) \(server.connectString)"], timeout: .seconds(60))
        }
        let output = result.stdout + result.stderr
        #expect(output.contains("Watcher SESSION_EVENT state = CONNECTED_STATE"), "\(output)")
        #expect(output.contains("Got a new session id: 0x"), "\(output)")
        #expect(output.contains("[/cmt]: rc = 0\n\tname = /cmt\n"), "create /cmt:\n\(output)")
        #expect(output.contains("[/cmt/child]: rc = 0\n\tname = /cmt/child\n"), "create /cmt/child:\n\(output)")
        #expect(output.contains("/cmt: rc = 0\n value_len = 5\nhello\n"), "get /cmt:\n\(output)")
        #expect(output.contains("/cmt: rc = 0\n\tchild\n"), "ls /cmt:\n\(output)")
        #expect(output.contains("/cmt: rc = 0\n value_len = 5\nworld\n"), "set then get /cmt:\n\(output)")
        #expect(output.contains("Watcher CHANGED_EVENT state = CONNECTED_STATE for path /cmt"), "data watch:\n\(output)")
        #expect(output.contains("/cmt/child: rc = 0\n"), "delete /cmt/child:\n\(output)")
        #expect(output.contains("Watcher DELETED_EVENT state = CONNECTED_STATE for path /cmt"), "delete /cmt:\n\(output)")
        #expect(output.contains("Error -101 for /cmt"), "exists after delete:\n\(output)")
        #expect(output.contains("/cmt: rc = -101\n"), "get after delete:\n\(output)")
        let client = try await connectedClient(server.connectString)
        #expect(try await client.exists("/cmt") == nil)
        try await client.close()
    }
}

// MARK: - zkCli.sh

/// Runs one zkCli.sh session with `script` on stdin and returns its stdout and stderr, each
/// normalized: JVM and logging noise and watcher notices dropped, times, zxids and session ids
/// replaced, the port replaced.
func zkCliSession(port: Int, script: String) async throws -> (stdout: String, stderr: String) {
    let result = try await blocking {
        try runProcess(
            "/usr/share/zookeeper/bin/zkCli.sh", ["-server", "127.0.0.1:\(port)"], stdin: script,
            environment: ["CLIENT_JVMFLAGS": "-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"],
            timeout: .seconds(60))
    }
    guard result.status == 0 else {
        throw TestSupportError("zkCli.sh exited with \(result.status)", details: result.stdout + result.stderr)
    }
    return (normalizeZkCli(result.stdout, port: port), normalizeZkCli(result.stderr, port: port))
}

func normalizeZkCli(_ text: String, port: Int) -> String {
    var lines: [String] = []
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = String(raw)
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("SLF4J:") || trimmed == "WATCHER::" || trimmed.hasPrefix("WatchedEvent ")
            || trimmed.hasPrefix("JLine support") || trimmed.hasPrefix("Welcome to ZooKeeper")
            || trimmed.range(of: #"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d"#, options: .regularExpression) != nil
            || trimmed.hasPrefix("log4j:")
        {
            continue
        }
        line = line.replacingOccurrences(of: "127.0.0.1:\(port)", with: "HOST:PORT")
        for key in ["cZxid", "mZxid", "pZxid"] where line.hasPrefix("\(key) = ") {
            line = "\(key) = ZXID"
        }
        for key in ["ctime", "mtime"] where line.hasPrefix("\(key) = ") {
            line = "\(key) = TIME"
        }
        if line.hasPrefix("ephemeralOwner = "), line != "ephemeralOwner = 0x0" {
            line = "ephemeralOwner = SESSION"
        }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}

/// A helper script in Tests/IntegrationTests/Scripts, found from the source checkout.
func scriptPath(_ name: String) throws -> String {
    guard let root = findRepositoryRoot() else { throw TestSupportError("no repository root above \(#filePath)") }
    let path = root + "/Tests/IntegrationTests/Scripts/" + name
    guard FileManager.default.fileExists(atPath: path) else { throw TestSupportError("missing \(path)") }
    return path
}
