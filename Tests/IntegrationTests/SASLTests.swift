import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// SASL DIGEST-MD5 logins (`Configuration.sasl`, `zksh --sasl`) against both servers, each with a
/// JAAS `Server` section holding the user bob.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SASLTests {
    static let user = "bob"
    static let password = "b0b-secret"

    /// A server of `kind` whose JAAS file knows bob (zoo.cfg key for `zksh serve`, system
    /// properties for ZooKeeper, which also needs the sasl auth provider).
    static func startServer(_ kind: TestServerKind) async throws -> (server: any TestServer, jaasDirectory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-sasl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let jaas = directory.appendingPathComponent("jaas.conf")
        try """
            Server {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_\(user)="\(password)"
                user_other="other-pw";
            };
            """.write(to: jaas, atomically: true, encoding: .utf8)
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration["java.security.auth.login.config"] = jaas.path
        configuration.extraJVMOptions = [
            "-Djava.security.auth.login.config=\(jaas.path)",
            "-Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
        ]
        return (try await kind.start(configuration), directory)
    }

    static func saslClient(_ server: any TestServer, password: String = password) async throws -> ZooKeeperClient {
        try await connectedClient(server.connectString, connectTimeout: .seconds(10)) {
            $0.sasl = (username: user, password: password)
        }
    }

    @Test(arguments: TestServerKind.allCases)
    func saslLoginIsTheSessionsIdentityAndPassesSASLACLs(_ kind: TestServerKind) async throws {
        let (server, directory) = try await Self.startServer(kind)
        defer { server.stop(); try? FileManager.default.removeItem(at: directory) }

        let client = try await Self.saslClient(server)
        let identities = try await client.whoAmI()
        #expect(identities.contains(ClientInfo(authScheme: "sasl", user: Self.user)), "\(identities)")

        let path = uniquePath("sasl")
        let acl = [ACL(permissions: .all, id: Id(scheme: "sasl", id: Self.user))]
        try await client.create(path, data: bytes("secret"), acl: acl)
        #expect(try await client.getData(path).data == bytes("secret"))

        // Without the login the node is unreadable.
        let anonymous = try await connectedClient(server.connectString)
        await #expect(throws: ZooKeeperError(.noAuth, path: path)) { _ = try await anonymous.getData(path) }
        try await anonymous.close()

        // A second login as bob reads it too.
        let again = try await Self.saslClient(server)
        #expect(try await again.getData(path).data == bytes("secret"))
        try await again.close()

        // Credentials are per connection: after the server restarts, the session's new
        // connection runs the exchange again before anything else.
        let states = await client.sessionStates()
        try await server.restart()
        var sawDisconnect = false
        for await state in states {
            if state == .disconnected { sawDisconnect = true }
            if sawDisconnect && state == .connected { break }
        }
        let data = try await retryingConnectionLoss { try await client.getData(path).data }
        #expect(data == bytes("secret"))
        #expect(try await client.whoAmI().contains(ClientInfo(authScheme: "sasl", user: Self.user)))
        try await client.close()
    }

    @Test(arguments: TestServerKind.allCases)
    func wrongPasswordIsAuthFailedAndShellSASLFlag(_ kind: TestServerKind) async throws {
        let (server, directory) = try await Self.startServer(kind)
        defer { server.stop(); try? FileManager.default.removeItem(at: directory) }
        do {
            let client = try await Self.saslClient(server, password: "wrong")
            try? await client.close()
            Issue.record("a wrong password connected")
        } catch let error as ZooKeeperError {
            #expect(error.code == .authFailed, "\(error)")
        }

        let zksh = builtProductPath("zksh")
        let path = uniquePath("sasl-shell")
        let connectString = server.connectString
        let ok = try await blocking {
            try runProcess(zksh, ["--sasl", "\(Self.user):\(Self.password)", "-s", connectString, "--timeout", "10",
                                  "-c", "whoami; create \(path) v; setAcl \(path) sasl:\(Self.user):cdrwa; get \(path)"], timeout: .seconds(30))
        }
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("sasl: \(Self.user)"), "\(ok.stdout)")
        #expect(ok.stdout.contains("v"))
        // `connect --sasl` in a script switches the login; without it the node is unreadable.
        let switched = try await blocking {
            try runProcess(zksh, ["-s", connectString, "--timeout", "10", "--keep-going",
                                  "-c", "get \(path); connect --sasl \(Self.user):\(Self.password); get \(path)"], timeout: .seconds(30))
        }
        #expect(switched.status == 1)
        #expect(switched.stderr.contains("NOAUTH"), "\(switched.stderr)")
        #expect(switched.stdout.contains("v"), "\(switched.stdout)")
        let wrong = try await blocking {
            try runProcess(zksh, ["--sasl", "\(Self.user):nope", "-s", connectString, "--timeout", "10", "-c", "ls /"], timeout: .seconds(30))
        }
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("AUTHFAILED"), "\(wrong.stderr)")
    }
}
