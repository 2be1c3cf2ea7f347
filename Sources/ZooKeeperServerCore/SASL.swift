import Crypto
import ZooKeeperProtocol

/// The server side of SASL DIGEST-MD5 (RFC 2831, qop=auth) as ZooKeeper's DigestLoginModule sets it
/// up: realm "zk-sasl-md5", users and passwords from the JAAS Server section.
struct SASLDigestServer: Sendable {
    enum Step: Sendable, Equatable {
        case challenge([UInt8])
        case success([UInt8]?, user: String)
        case failure
    }

    static let realm = "zk-sasl-md5"

    enum State: Sendable {
        case initial
        case challenged(nonce: String)
        case complete
    }

    var users: [String: String]
    var nonce: String
    var state: State = .initial

    /// `nonce` must be unpredictable; the core passes injected random bytes.
    init(users: [String: String], nonce: String) {
        self.users = users
        self.nonce = nonce
    }

    mutating func step(_ token: [UInt8]) -> Step {
        switch self.state {
        case .initial:
            guard !self.users.isEmpty else { return .failure }
            self.state = .challenged(nonce: self.nonce)
            let challenge = "realm=\"\(Self.realm)\",nonce=\"\(self.nonce)\",qop=\"auth\",charset=utf-8,algorithm=md5-sess"
            return .challenge(Array(challenge.utf8))
        case .challenged(let nonce):
            let fields = SASLDigestFields.parse(String(decoding: token, as: UTF8.self))
            guard let username = fields["username"], let password = self.users[username],
                fields["nonce"] == nonce, let cnonce = fields["cnonce"], let nc = fields["nc"],
                let digestURI = fields["digest-uri"], let response = fields["response"]
            else { return .failure }
            let qop = fields["qop"] ?? "auth"
            guard qop == "auth" else { return .failure }
            let realm = fields["realm"] ?? Self.realm
            let authzid = fields["authzid"]
            let expected = Self.response(
                username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, nc: nc, qop: qop,
                authzid: authzid, a2Prefix: "AUTHENTICATE", digestURI: digestURI)
            guard expected == response.lowercased() else { return .failure }
            let rspauth = Self.response(
                username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, nc: nc, qop: qop,
                authzid: authzid, a2Prefix: "", digestURI: digestURI)
            self.state = .complete
            // ZooKeeper's SaslServerCallbackHandler authorizes the authentication id (or the authzid).
            return .success(Array("rspauth=\(rspauth)".utf8), user: authzid ?? username)
        case .complete:
            // A trailing empty packet after success gets an empty answer.
            return token.isEmpty ? .challenge([]) : .failure
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func response(
        username: String, realm: String, password: String, nonce: String, cnonce: String, nc: String, qop: String,
        authzid: String?, a2Prefix: String, digestURI: String
    ) -> String {
        let inner = Array(Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8)))
        var a1 = inner + Array(":\(nonce):\(cnonce)".utf8)
        if let authzid { a1 += Array(":\(authzid)".utf8) }
        let ha1 = hex(Insecure.MD5.hash(data: a1))
        let ha2 = hex(Insecure.MD5.hash(data: Array("\(a2Prefix):\(digestURI)".utf8)))
        return hex(Insecure.MD5.hash(data: Array("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)".utf8)))
    }
}
