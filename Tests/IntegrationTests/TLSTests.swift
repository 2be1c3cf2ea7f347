import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// TLS to Apache ZooKeeper's `secureClientPort` (Netty, PEM key and trust stores, client
/// certificates required), with a CA and certificates made by `openssl` for each run.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TLSTests {
    /// PEM files in a temporary directory: `ca.pem`, `server.pem` + `server-key.pem` (SAN IP
    /// 127.0.0.1), `client.pem` + `client-key.pem`, and `other-ca.pem` (a CA that signed nothing).
    struct Certificates {
        let directory: URL
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        static func make() throws -> Certificates {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-tls-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let certificates = Certificates(directory: directory)
            func openssl(_ arguments: [String]) throws {
                let result = try runProcess("openssl", arguments, currentDirectory: directory.path, timeout: .seconds(30))
                guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
            }
            for ca in ["ca", "other-ca"] {
                try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(ca)-key.pem", "-out", "\(ca).pem",
                             "-days", "2", "-subj", "/CN=zksh test \(ca)"])
            }
            try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n"
                .write(toFile: certificates.path("leaf.ext"), atomically: true, encoding: .utf8)
            for (serial, leaf) in ["server", "client"].enumerated() {
                try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(leaf)-key.pem", "-out", "\(leaf).csr",
                             "-subj", "/CN=127.0.0.1"])
                try openssl(["x509", "-req", "-in", "\(leaf).csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-set_serial", "\(serial + 2)",
                             "-out", "\(leaf).pem", "-days", "2", "-extfile", "leaf.ext"])
            }
            // ZooKeeper's PEM key store holds the private key and the certificate in one file.
            let keyStore = try String(contentsOfFile: certificates.path("server-key.pem"), encoding: .utf8)
                + String(contentsOfFile: certificates.path("server.pem"), encoding: .utf8)
            try keyStore.write(toFile: certificates.path("server-keystore.pem"), atomically: true, encoding: .utf8)
            return certificates
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Certificates plus a ZooKeeper serving TLS on `securePort` with `ssl.clientAuth=need`.
    static func start() async throws -> (server: ApacheZooKeeperServer, securePort: Int, certificates: Certificates) {
        let certificates = try await blocking { try Certificates.make() }
        let securePort = try freeLoopbackPort()
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration["secureClientPort"] = "\(securePort)"
        configuration.extraConfiguration["secureClientPortAddress"] = "127.0.0.1"
        configuration.extraJVMOptions = [
            "-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
            "-Dzookeeper.ssl.keyStore.location=\(certificates.path("server-keystore.pem"))",
            "-Dzookeeper.ssl.keyStore.type=PEM",
            "-Dzookeeper.ssl.trustStore.location=\(certificates.path("ca.pem"))",
            "-Dzookeeper.ssl.trustStore.type=PEM",
            "-Dzookeeper.ssl.clientAuth=need",
        ]
        // The Debian package's classpath has no Netty; its jars are installed beside it.
        configuration.extraClasspath = ["buffer", "codec", "common", "handler", "resolver", "transport",
                                        "transport-native-epoll", "transport-native-unix-common"]
            .map { "/usr/share/java/netty-\($0).jar" }
            .filter { FileManager.default.fileExists(atPath: $0) }
        let server = try await ApacheZooKeeperServer.start(configuration)
        return (server, securePort, certificates)
    }

    static func tls(_ certificates: Certificates, ca: String = "ca.pem", key: String = "client-key.pem") -> ZooKeeperClient.TLSOptions {
        ZooKeeperClient.TLSOptions(caFile: certificates.path(ca), certificateFile: certificates.path("client.pem"),
                                   keyFile: certificates.path(key))
    }

    @Test func tlsWithClientCertificatesAndClearErrors() async throws {
        let (server, securePort, certificates) = try await Self.start()
        defer { server.stop(); try? FileManager.default.removeItem(at: certificates.directory) }
        let secure = "127.0.0.1:\(securePort)"

        // Create and read over TLS, with a client certificate.
        let client = try await connectedClient(secure, connectTimeout: .seconds(15)) { $0.tls = Self.tls(certificates) }
        let path = uniquePath("tls")
        try await client.create(path, data: bytes("over tls"))
        #expect(try await client.getData(path).data == bytes("over tls"))
        try await client.close()

        // A server certificate from a CA the client does not trust: CONNECTIONLOSS saying why.
        do {
            let untrusted = try await connectedClient(secure, connectTimeout: .seconds(10)) {
                $0.tls = Self.tls(certificates, ca: "other-ca.pem")
            }
            try? await untrusted.close()
            Issue.record("connected to a server signed by an untrusted CA")
        } catch let error as ZooKeeperError {
            #expect(error.code == .connectionLoss, "\(error)")
            #expect(error.detail?.contains("not trusted") == true, "\(error)")
        }

        // A missing key file: BADARGUMENTS naming the file, before any connection.
        let missingKey = certificates.path("missing-key.pem")
        do {
            let missing = try await connectedClient(secure) { $0.tls = Self.tls(certificates, key: "missing-key.pem") }
            try? await missing.close()
            Issue.record("connected without a key file")
        } catch let error as ZooKeeperError {
            #expect(error.code == .badArguments, "\(error)")
            #expect(error.detail?.contains(missingKey) == true, "\(error)")
            #expect(error.detail?.contains("does not exist") == true, "\(error)")
        }

        // A key that does not belong to the certificate, and a file that is not PEM.
        do {
            let mismatched = try await connectedClient(secure) { $0.tls = Self.tls(certificates, key: "server-key.pem") }
            try? await mismatched.close()
            Issue.record("connected with a key that does not match the certificate")
        } catch let error as ZooKeeperError {
            #expect(error.code == .badArguments, "\(error)")
            #expect(error.detail?.contains("does not match") == true, "\(error)")
        }
        do {
            let notPEM = try await connectedClient(secure) { $0.tls = Self.tls(certificates, ca: "leaf.ext") }
            try? await notPEM.close()
            Issue.record("connected with a CA file that is not PEM")
        } catch let error as ZooKeeperError {
            #expect(error.code == .badArguments, "\(error)")
            #expect(error.detail?.contains("leaf.ext") == true, "\(error)")
        }

        // The shell: zksh --tls --tls-ca … --tls-cert … --tls-key ….
        let zksh = builtProductPath("zksh")
        let shellPath = uniquePath("tls-shell")
        let arguments = ["--tls", "--tls-ca", certificates.path("ca.pem"), "--tls-cert", certificates.path("client.pem"),
                         "--tls-key", certificates.path("client-key.pem"), "-s", secure, "--timeout", "10",
                         "-c", "create \(shellPath) y; get \(shellPath)"]
        let result = try await blocking { try runProcess(zksh, arguments, timeout: .seconds(30)) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains("y"), "\(result.stdout)")

        // `connect` takes the same options; a bad key path fails naming it.
        let plain = server.connectString
        let script = "connect \(secure) --tls-ca \(certificates.path("ca.pem")) --tls-cert \(certificates.path("client.pem")) "
            + "--tls-key \(certificates.path("client-key.pem")); get \(shellPath); "
            + "connect --tls-cert \(certificates.path("client.pem")) --tls-key \(missingKey)"
        let connected = try await blocking {
            try runProcess(zksh, ["-s", plain, "--timeout", "10", "--keep-going", "-c", script], timeout: .seconds(30))
        }
        #expect(connected.stdout.split(separator: "\n").contains("y"), "\(connected.stdout) \(connected.stderr)")
        #expect(connected.status == 1)
        #expect(connected.stderr.contains(missingKey), "\(connected.stderr)")
    }
}
