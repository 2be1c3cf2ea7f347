import Foundation
import Testing
import ZooKeeperServer

@Suite struct ServerConfigurationFileTests {
    @Test func sampleConfiguration() throws {
        let file = try ZooKeeperConfigurationFile.parse("""
            # The number of milliseconds of each tick
            tickTime=2000
            initLimit=10
            syncLimit=5
            dataDir=/tmp/zookeeper
            clientPort=2181
            #maxClientCnxns=60
            autopurge.snapRetainCount=3
            autopurge.purgeInterval=1
            4lw.commands.whitelist=ruok, mntr ,srvr
            """)
        #expect(file.tickTime == 2000)
        #expect(file.initLimit == 10)
        #expect(file.syncLimit == 5)
        #expect(file.dataDir == "/tmp/zookeeper")
        #expect(file.clientPort == 2181)
        #expect(file.purgeInterval == 1)
        #expect(file.ignoredKeys.isEmpty)
        let settings = try file.serverSettings()
        #expect(settings.port == 2181)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.dataLogDirectory == "/tmp/zookeeper")
        #expect(settings.core.tickTime == 2000)
        #expect(settings.core.effectiveMinSessionTimeout == 4000)
        #expect(settings.core.effectiveMaxSessionTimeout == 40000)
        #expect(settings.fourLetterWords.allows(.ruok))
        #expect(settings.fourLetterWords.allows(.mntr))
        #expect(!settings.fourLetterWords.allows(.stat))
        #expect(settings.purgeIntervalHours == 1)
    }

    @Test func propertiesSyntax() throws {
        let file = try ZooKeeperConfigurationFile.parse("""
            ! a comment
              tickTime : 500
            dataDir /var/zk
            dataLogDir=/var/\\
                zklog
            clientPortAddress=127.0.0.1\r
            clientPort=2999
            """)
        #expect(file.tickTime == 500)
        #expect(file.dataDir == "/var/zk")
        #expect(file.dataLogDir == "/var/zklog")
        #expect(file.clientPortAddress == "127.0.0.1")
        #expect(file.clientPort == 2999)
    }

    @Test func systemPropertyKeys() throws {
        let file = try ZooKeeperConfigurationFile.parse("""
            dataDir=/d
            clientPort=1
            DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
            zookeeper.jute.maxbuffer=4194304
            extendedTypesEnabled=true
            zookeeper.skipACL=yes
            snapCount=1000
            minSessionTimeout=1000
            maxSessionTimeout=9000
            maxClientCnxns=0
            reconfigEnabled=false
            readonlymode.enabled=true
            admin.enableServer=false
            admin.serverPort=8080
            metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
            """)
        let settings = try file.serverSettings()
        #expect(settings.core.superDigest == "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
        #expect(settings.core.maxBuffer == 4_194_304)
        #expect(settings.core.extendedTypesEnabled)
        #expect(settings.core.skipACL)
        #expect(settings.core.snapCount == 1000)
        #expect(settings.core.minSessionTimeout == 1000)
        #expect(settings.core.maxSessionTimeout == 9000)
        #expect(settings.core.maxClientConnectionsPerHost == 0)
        #expect(settings.fourLetterWords.allows(.isro))
        #expect(settings.fourLetterWords.allows(.srvr))
        #expect(!settings.fourLetterWords.allows(.ruok))
        #expect(file.ignoredKeys.map(\.key) == ["metricsProvider.className"])
        #expect(file.ignoredKeys.map(\.line) == [15])
    }

    @Test func badValueNamesKeyAndLine() {
        do {
            _ = try ZooKeeperConfigurationFile.parse("dataDir=/d\ntickTime=fast\n", path: "/etc/zoo.cfg")
            Issue.record("expected an error")
        } catch let error as ConfigurationFileError {
            #expect(error.line == 2)
            #expect(error.key == "tickTime")
            #expect(error.description == "/etc/zoo.cfg:2: tickTime: \"fast\" is not an integer")
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: ConfigurationFileError.self) {
            try ZooKeeperConfigurationFile.parse("skipACL=maybe")
        }
        #expect(throws: ConfigurationFileError.self) {
            try ZooKeeperConfigurationFile.parse("minSessionTimeout=5000\nmaxSessionTimeout=4000")
        }
        #expect(throws: ServerSettingsError.self) {
            try ZooKeeperConfigurationFile.parse("clientPort=1").serverSettings()  // no dataDir
        }
    }

    @Test func serverLinesInEveryForm() throws {
        let file = try ZooKeeperConfigurationFile.parse("""
            dataDir=/d
            server.1=zk1:2888:3888
            server.2=zk2:2888:3888:participant
            server.3=zk3:2888:3888:observer
            server.4=zk4:2888:3888;2181
            server.5=zk5:2888:3888:participant;127.0.0.1:2182
            server.6=[::1]:2888:3888;[::1]:2183
            server.7=a:1:2|b:3:4;2184
            """)
        #expect(file.servers.count == 7)
        #expect(file.servers[0].addresses == [.init(host: "zk1", quorumPort: 2888, electionPort: 3888)])
        #expect(file.servers[1].role == .participant)
        #expect(file.servers[2].role == .observer)
        #expect(file.servers[3].clientPort == 2181)
        #expect(file.servers[3].clientHost == nil)
        #expect(file.servers[4].clientHost == "127.0.0.1")
        #expect(file.servers[4].clientPort == 2182)
        #expect(file.servers[5].addresses[0].host == "::1")
        #expect(file.servers[5].clientHost == "::1")
        #expect(file.servers[6].addresses.count == 2)
        #expect(file.servers[6].line == 8)
        // Several servers make an ensemble: its member needs a myid, and one listed.
        do {
            _ = try file.serverSettings()
            Issue.record("an ensemble member without myid was accepted")
        } catch {
            #expect("\(error)".contains("myid is missing"), "\(error)")
        }
        var member = file
        member.myid = 4
        let settings = try member.serverSettings()
        #expect(settings.quorum?.myid == 4)
        #expect(settings.quorum?.members.count == 7)
        #expect(settings.quorum?.members.first { $0.id == 3 }?.observer == true)
        #expect(settings.port == 2181)
        #expect(settings.core.serverId == 4)
        member.myid = 9
        #expect(throws: ServerSettingsError.self) { try member.serverSettings() }
        #expect(throws: ConfigurationFileError.self) {
            try ZooKeeperConfigurationFile.parse("server.x=a:1:2")
        }
        #expect(throws: ConfigurationFileError.self) {
            try ZooKeeperConfigurationFile.parse("server.1=a:1")
        }
        #expect(throws: ConfigurationFileError.self) {
            try ZooKeeperConfigurationFile.parse("server.1=a:1:2:leader")
        }
    }

    @Test func singleServerLineIsStandalone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zkcfg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "3\n".write(to: directory.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
        let jaas = directory.appendingPathComponent("jaas.conf")
        try """
            // users for DIGEST-MD5
            Server {
                   org.apache.zookeeper.server.auth.DigestLoginModule required
                   user_super="adminsecret"
                   user_bob="bob;secret";
            };
            Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="x"; };
            """.write(to: jaas, atomically: true, encoding: .utf8)
        let cfg = directory.appendingPathComponent("zoo.cfg")
        try """
            dataDir=\(directory.path)
            server.3=127.0.0.1:2888:3888;127.0.0.1:2555
            java.security.auth.login.config=\(jaas.path)
            """.write(to: cfg, atomically: true, encoding: .utf8)
        let file = try ZooKeeperConfigurationFile.load(path: cfg.path)
        #expect(file.myid == 3)
        #expect(file.saslDigestUsers == ["super": "adminsecret", "bob": "bob;secret"])
        let settings = try file.serverSettings()
        #expect(settings.port == 2555)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.core.serverId == 1)
        #expect(settings.core.saslDigestUsers["bob"] == "bob;secret")
    }

    @Test func whitelist() {
        #expect(FourLetterWordWhitelist(nil).words == ["srvr"])
        #expect(FourLetterWordWhitelist("*").allows(.dump))
        #expect(FourLetterWordWhitelist("stat, bogus").words == ["stat", "srvr"])
    }
}
