import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ZooKeeperClient {
    /// TLS to the server's `secureClientPort` (PEM files, as ZooKeeper's `ssl.*.type=PEM`).
    ///
    /// ```swift
    /// var configuration = try ZooKeeperClient.Configuration(connectString: "127.0.0.1:2281")
    /// configuration.tls = .init(caFile: "ca.pem", certificateFile: "client.pem", keyFile: "client-key.pem")
    /// ```
    ///
    /// Problems with the files are reported by ``ZooKeeperClient/connect()`` as BADARGUMENTS
    /// naming the file and the reason; a server that fails verification as CONNECTIONLOSS whose
    /// detail says why.
    public struct TLSOptions: Sendable, Hashable {
        /// PEM file with the certificate authorities trusted to sign the server's certificate;
        /// nil uses the system's trust store.
        public var caFile: String?
        /// PEM file with the client certificate (chain), for servers with `ssl.clientAuth=need`.
        public var certificateFile: String?
        /// PEM file with the client certificate's private key (required with `certificateFile`).
        public var keyFile: String?
        /// Verify the server's certificate (chain and name). On by default.
        public var verifyServer: Bool = true
        /// The name to check the server's certificate against (and send as SNI) instead of the
        /// connect string's host. An IP address host is checked against the certificate's IP SANs.
        public var serverHostname: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                    verifyServer: Bool = true, serverHostname: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyServer = verifyServer
            self.serverHostname = serverHostname
        }

        /// Loads the files and builds the TLS context.
        ///
        /// - Throws: ``ZooKeeperError`` BADARGUMENTS whose detail names the file and the problem
        ///   (missing, unreadable, not PEM, key does not match the certificate).
        func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verifyServer ? .fullVerification : .none
            if let caFile {
                try Self.checkReadable(caFile, role: "CA file")
                do {
                    let roots = try NIOSSLCertificate.fromPEMFile(caFile)
                    guard !roots.isEmpty else { throw Self.fileError(caFile, role: "CA file", "contains no PEM certificate") }
                    configuration.trustRoots = .certificates(roots)
                } catch let error as ZooKeeperError {
                    throw error
                } catch {
                    throw Self.fileError(caFile, role: "CA file", "is not a PEM certificate file (\(error))")
                }
            }
            switch (certificateFile, keyFile) {
            case (nil, nil):
                break
            case (.some(let certificateFile), nil):
                throw ZooKeeperError(.badArguments, detail: "TLS client certificate \(certificateFile) needs a key file")
            case (nil, .some(let keyFile)):
                throw ZooKeeperError(.badArguments, detail: "TLS client key \(keyFile) needs a certificate file")
            case (.some(let certificateFile), .some(let keyFile)):
                try Self.checkReadable(certificateFile, role: "client certificate")
                try Self.checkReadable(keyFile, role: "client key")
                let chain: [NIOSSLCertificate]
                do {
                    chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
                } catch {
                    throw Self.fileError(certificateFile, role: "client certificate", "is not a PEM certificate file (\(error))")
                }
                guard !chain.isEmpty else {
                    throw Self.fileError(certificateFile, role: "client certificate", "contains no PEM certificate")
                }
                let key: NIOSSLPrivateKey
                do {
                    key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
                } catch {
                    throw Self.fileError(keyFile, role: "client key", "is not an unencrypted PEM private key (\(error))")
                }
                configuration.certificateChain = chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(key)
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch NIOSSLError.failedToLoadPrivateKey {
                throw Self.fileError(keyFile ?? "", role: "client key",
                                     "does not match the certificate in \(certificateFile ?? "")")
            } catch {
                let names = [caFile, certificateFile, keyFile].compactMap { $0 }.joined(separator: ", ")
                throw ZooKeeperError(.badArguments, detail: "cannot set up TLS with \(names): \(error)")
            }
        }

        /// The name to verify and send as SNI for `host`: the override, else the host unless it
        /// is an IP address (then the certificate is checked against the peer's address).
        func serverName(for host: String) -> String? {
            if let serverHostname { return serverHostname }
            if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return nil }
            return host
        }

        private static func checkReadable(_ path: String, role: String) throws {
            if access(path, F_OK) != 0 { throw fileError(path, role: role, "does not exist") }
            if access(path, R_OK) != 0 { throw fileError(path, role: role, "is not readable") }
        }

        private static func fileError(_ path: String, role: String, _ reason: String) -> ZooKeeperError {
            ZooKeeperError(.badArguments, detail: "TLS \(role) \(path) \(reason)")
        }
    }
}
