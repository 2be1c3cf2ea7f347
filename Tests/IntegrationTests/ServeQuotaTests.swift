import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Quotas in `zksh serve` against Apache ZooKeeper: the usage the server keeps in
/// `/zookeeper/quota/<path>/zookeeper_stats`, and hard limits with `enforceQuota=true`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServeQuotaTests {
    let zksh = builtProductPath("zksh")

    func run(_ server: any TestServer, _ script: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        let zksh = self.zksh
        let arguments = ["-s", server.connectString, "-c", script]
        let result = try await blocking { try runProcess(zksh, arguments, timeout: .seconds(60)) }
        return (result.status, result.stdout, result.stderr)
    }

    /// The same shell script against both servers: identical output, status and stats node.
    @Test func quotaUsageMatchesApacheZooKeeper() async throws {
        // One unique path for both servers (they are separate), so nothing needs normalizing.
        let r = uniquePath("quota")
        let script = """
            create \(r) abc; create \(r)/c de; setquota -n 3 \(r); listquota \(r); \
            create \(r)/d; create \(r)/c/e fghij; set \(r)/c xyz; create -e \(r)/eph 12; listquota \(r); \
            set \(r) ""; delete \(r)/c/e; delete \(r)/d; listquota \(r); \
            setquota -B 100 \(r); listquota \(r)
            """
        var outputs: [TestServerKind: (status: Int32, stdout: String, stderr: String)] = [:]
        var stats: [TestServerKind: String] = [:]
        for kind in TestServerKind.allCases {
            let server = try await SharedServer.get(kind)
            outputs[kind] = try await run(server, script)
            let client = try await connectedClient(server.connectString)
            let result = try await client.getData("/zookeeper/quota\(r)/zookeeper_stats")
            // ZooKeeper updates the stats node in place: never a new version or mzxid.
            #expect(result.stat.version == 0, "\(kind)")
            #expect(result.stat.mzxid == result.stat.czxid, "\(kind)")
            stats[kind] = String(decoding: result.data ?? [], as: UTF8.self)
            try await client.close()
        }
        let apache = try #require(outputs[.apache])
        let served = try #require(outputs[.zksh])
        #expect(apache.status == 0, "\(apache.stderr)")
        #expect(served.stdout == apache.stdout)
        #expect(served.stderr == apache.stderr)
        #expect(served.status == apache.status)
        #expect(stats[.zksh] == stats[.apache])
        // Pin the reference too, so a change in both would not go unnoticed.
        #expect(apache.stdout.split(separator: "\n").filter { $0.hasPrefix("Output stat") } == [
            "Output stat for \(r) count=2,bytes=5",
            "Output stat for \(r) count=5,bytes=13",
            "Output stat for \(r) count=3,bytes=5",
            "Output stat for \(r) count=3,bytes=5",
        ])

        // Deleting the quota, and asking for it afterwards.
        let cleanup = "delquota \(r); deleteall \(r); listquota \(r)"
        var after: [TestServerKind: (status: Int32, stdout: String, stderr: String)] = [:]
        for kind in TestServerKind.allCases {
            after[kind] = try await run(try await SharedServer.get(kind), cleanup)
        }
        let apacheAfter = try #require(after[.apache])
        let servedAfter = try #require(after[.zksh])
        #expect(apacheAfter.stderr.contains("quota for \(r) does not exist."), "\(apacheAfter.stderr)")
        #expect(servedAfter.stdout == apacheAfter.stdout)
        #expect(servedAfter.stderr == apacheAfter.stderr)
        #expect(servedAfter.status == apacheAfter.status)
    }

    /// With `enforceQuota=true` a create beyond a hard count limit fails with QUOTAEXCEEDED in
    /// both servers; the stats survive a restart of `zksh serve` (replayed from its log).
    @Test func hardLimitsAreEnforcedWithEnforceQuota() async throws {
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration = ["enforceQuota": "true"]
        async let apacheStart = TestServerKind.apache.start(configuration)
        let served = try await TestServerKind.zksh.start(configuration)
        defer { served.stop() }
        let apache = try await apacheStart
        defer { apache.stop() }

        let r = "/enforced"
        let script = """
            create \(r); setquota -N 3 \(r); create \(r)/a; create \(r)/b; listquota \(r); create \(r)/c
            """
        let apacheResult = try await run(apache, script)
        let servedResult = try await run(served, script)
        #expect(apacheResult.status == 1)
        #expect(apacheResult.stderr.contains("QUOTAEXCEEDED"), "\(apacheResult.stderr)")
        #expect(servedResult.stdout == apacheResult.stdout)
        #expect(servedResult.stderr == apacheResult.stderr)
        #expect(servedResult.status == apacheResult.status)

        // The same through the client API: the error code is -125.
        let client = try await connectedClient(served.connectString)
        do {
            _ = try await client.create("\(r)/c")
            Issue.record("the create over the hard limit succeeded")
        } catch let error as ZooKeeperError {
            #expect(error.code == .quotaExceeded && error.code.rawValue == -125)
        }
        // Outside the quota, and after freeing room, creates succeed.
        _ = try await client.create("/elsewhere")
        try await client.delete("\(r)/b")
        _ = try await client.create("\(r)/c", data: Array("1234".utf8))
        try await client.close()

        let listed = try await run(served, "listquota \(r)")
        #expect(listed.stdout.contains("Output stat for \(r) count=3,bytes=4"), "\(listed.stdout)")
        try await served.restart()
        let replayed = try await run(served, "listquota \(r); create \(r)/d")
        #expect(replayed.stdout == listed.stdout)
        #expect(replayed.stderr.contains("QUOTAEXCEEDED"), "\(replayed.stderr)")

        // Without enforcement (the shared servers), the same hard limit only tracks.
        let shared = try await SharedServer.get(.zksh)
        let u = uniquePath("quota")
        let unenforced = try await run(shared, "create \(u); setquota -N 1 \(u); create \(u)/a; delquota \(u); deleteall \(u)")
        #expect(unenforced.status == 0, "\(unenforced.stderr)")
    }

    @Test func configurationKeys() throws {
        let file = try ZooKeeperConfigurationFile.parse("""
            clientPort=2181
            dataDir=/tmp/unused
            enforceQuota=true
            znode.container.checkIntervalMs=250
            znode.container.maxPerMinute=120
            zookeeper.znode.container.maxNeverUsedIntervalMs=30000
            """)
        #expect(file.ignoredKeys.isEmpty)
        let core = try file.serverSettings().core
        #expect(core.enforceQuota)
        #expect(core.containerCheckInterval == 250)
        #expect(core.containerMaxPerMinute == 120)
        #expect(core.containerMaxNeverUsedInterval == 30000)
        let defaults = try ZooKeeperConfigurationFile.parse("clientPort=2181\ndataDir=/tmp/unused").serverSettings().core
        #expect(!defaults.enforceQuota && defaults.containerMaxPerMinute == 10_000 && defaults.containerMaxNeverUsedInterval == 0)
        #expect(try ZooKeeperConfigurationFile.parse("clientPort=1\ndataDir=/tmp/unused\nzookeeper.enforceQuota=true").serverSettings().core.enforceQuota)
        #expect(throws: ConfigurationFileError.self) { try ZooKeeperConfigurationFile.parse("znode.container.maxPerMinute=0") }
        #expect(throws: ConfigurationFileError.self) { try ZooKeeperConfigurationFile.parse("enforceQuota=maybe") }
    }
}
