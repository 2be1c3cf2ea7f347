import Crypto

/// The client side of SASL DIGEST-MD5 (RFC 2831, qop=auth) as ZooKeeper's Java client runs it
/// with `Client { DigestLoginModule username=… password=… }`: protocol `zookeeper`, server name
/// `zk-sasl-md5`, no initial response.
///
/// A pure value: challenge in, response out. The session state machine drives it over
/// GetSASLRequest/SetSASLResponse packets (op 102):
///
/// ```
/// client                                  server
///   ── GetSASL(token: "") ───────────────▶
///   ◀── SetSASL(realm=…,nonce=…,qop=…) ──     step(challenge) → .respond(response)
///   ── GetSASL(username=…,response=…) ───▶
///   ◀── SetSASL(rspauth=…) ───────────────     step(rspauth) → .succeeded
/// ```
public struct SASLDigestClient: Sendable, Equatable {
    /// The outcome of one server token.
    public enum Step: Sendable, Equatable {
        /// Send this token to the server.
        case respond([UInt8])
        /// The server proved it knows the password; authentication is complete.
        case succeeded
        /// The exchange failed, with the reason.
        case failed(String)
    }

    private enum State: Sendable, Equatable {
        case initial
        case sentResponse(expectedRspauth: String)
        case complete
        case failed
    }

    public var username: String
    public var password: String
    /// `protocol/server-name` (ZooKeeper's client uses `zookeeper/zk-sasl-md5`).
    public var digestURI: String
    /// The client nonce; must be unpredictable (the state machine makes it from its random source).
    public var cnonce: String
    private var state: State = .initial

    public init(username: String, password: String, cnonce: String, digestURI: String = "zookeeper/zk-sasl-md5") {
        self.username = username
        self.password = password
        self.cnonce = cnonce
        self.digestURI = digestURI
    }

    /// DIGEST-MD5 has no initial response: the first GetSASLRequest carries an empty token.
    public static let initialResponse: [UInt8] = []

    /// Whether the exchange finished successfully.
    public var isComplete: Bool { state == .complete }

    /// Takes the server's next token.
    public mutating func step(_ token: [UInt8]) -> Step {
        switch state {
        case .initial:
            return respond(toChallenge: String(decoding: token, as: UTF8.self))
        case .sentResponse(let expected):
            let fields = SASLDigestFields.parse(String(decoding: token, as: UTF8.self))
            guard let rspauth = fields["rspauth"] else {
                state = .failed
                return .failed("the server's final message has no rspauth")
            }
            guard rspauth.lowercased() == expected else {
                state = .failed
                return .failed("the server's rspauth does not match (the server does not know the password)")
            }
            state = .complete
            return .succeeded
        case .complete, .failed:
            state = .failed
            return .failed("unexpected SASL token after the exchange ended")
        }
    }

    private mutating func respond(toChallenge challenge: String) -> Step {
        let fields = SASLDigestFields.parse(challenge)
        guard let nonce = fields["nonce"], !nonce.isEmpty else {
            state = .failed
            return .failed("the server's challenge has no nonce")
        }
        let offered = (fields["qop"] ?? "auth").split(separator: ",").map { $0.trimmingSpaces() }
        guard offered.contains("auth") else {
            state = .failed
            return .failed("the server does not offer qop=auth (offers \(offered.joined(separator: ",")))")
        }
        if let algorithm = fields["algorithm"], algorithm.lowercased() != "md5-sess" {
            state = .failed
            return .failed("unsupported DIGEST-MD5 algorithm \(algorithm)")
        }
        // Only the first realm is used when several are offered (RFC 2831 2.1.2 lets the client pick).
        let realm = fields["realm"] ?? ""
        let utf8 = fields["charset"]?.lowercased() == "utf-8"
        let nc = "00000001"
        let qop = "auth"
        let response = Self.response(
            username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, nc: nc, qop: qop,
            a2Prefix: "AUTHENTICATE", digestURI: digestURI)
        let rspauth = Self.response(
            username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, nc: nc, qop: qop,
            a2Prefix: "", digestURI: digestURI)
        var parts: [String] = []
        if utf8 { parts.append("charset=utf-8") }
        parts.append("username=\(Self.quote(username))")
        if fields["realm"] != nil { parts.append("realm=\(Self.quote(realm))") }
        parts.append("nonce=\(Self.quote(nonce))")
        parts.append("nc=\(nc)")
        parts.append("cnonce=\(Self.quote(cnonce))")
        parts.append("digest-uri=\(Self.quote(digestURI))")
        parts.append("maxbuf=65536")
        parts.append("response=\(response)")
        parts.append("qop=\(qop)")
        state = .sentResponse(expectedRspauth: rspauth)
        return .respond(Array(parts.joined(separator: ",").utf8))
    }

    // MARK: RFC 2831 arithmetic

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `response-value` of RFC 2831 2.1.2.1 (A2 = `AUTHENTICATE:uri` for the response,
    /// `:uri` for rspauth), without authzid.
    static func response(username: String, realm: String, password: String, nonce: String, cnonce: String,
                         nc: String, qop: String, a2Prefix: String, digestURI: String) -> String {
        let inner = Array(Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8)))
        let a1 = inner + Array(":\(nonce):\(cnonce)".utf8)
        let ha1 = hex(Insecure.MD5.hash(data: a1))
        let ha2 = hex(Insecure.MD5.hash(data: Array("\(a2Prefix):\(digestURI)".utf8)))
        return hex(Insecure.MD5.hash(data: Array("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)".utf8)))
    }

    static func quote(_ value: String) -> String {
        var out = "\""
        for character in value {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
