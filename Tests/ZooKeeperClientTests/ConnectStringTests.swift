import Testing
import ZooKeeperClient

@Suite struct ConnectStringTests {
    @Test func parsesHostsPortsAndChroot() throws {
        let parsed = try ConnectString(parsing: "zk1:2181,zk2,[::1]:2183/app/one")
        #expect(parsed.hosts == [HostAndPort(host: "zk1", port: 2181), HostAndPort(host: "zk2", port: 2181), HostAndPort(host: "::1", port: 2183)])
        #expect(parsed.chroot == "/app/one")
        #expect(parsed.description == "zk1:2181,zk2:2181,[::1]:2183/app/one")
    }

    @Test func rootChrootIsNone() throws {
        #expect(try ConnectString(parsing: "127.0.0.1:2181/").chroot == nil)
    }

    @Test(arguments: ["", ",", "host:0", "host:70000", "host:abc", "[::1", "h:1/bad/", "h:1//x"])
    func rejectsInvalid(_ text: String) {
        #expect(throws: ZooKeeperError.self) { try ConnectString(parsing: text) }
    }
}
