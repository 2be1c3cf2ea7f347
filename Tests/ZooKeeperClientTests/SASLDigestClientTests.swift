import NIOCore
import Testing
@testable import ZooKeeperClient

/// RFC 2831 section 4's example: chris / secret at elwood.innosoft.com, IMAP.
@Suite struct SASLDigestClientTests {
    static let challenge = #"realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8"#

    static func rfcClient() -> SASLDigestClient {
        SASLDigestClient(username: "chris", password: "secret", cnonce: "OA6MHXh6VqTrRk", digestURI: "imap/elwood.innosoft.com")
    }

    @Test func answersTheRFC2831ExampleChallenge() throws {
        var client = Self.rfcClient()
        guard case .respond(let token) = client.step(Array(Self.challenge.utf8)) else {
            Issue.record("expected a response")
            return
        }
        let fields = SASLDigestFields.parse(String(decoding: token, as: UTF8.self))
        #expect(fields["response"] == "d388dad90d4bbd760a152321f2143af7")
        #expect(fields["username"] == "chris")
        #expect(fields["realm"] == "elwood.innosoft.com")
        #expect(fields["nonce"] == "OA6MG9tEQGm2hh")
        #expect(fields["cnonce"] == "OA6MHXh6VqTrRk")
        #expect(fields["nc"] == "00000001")
        #expect(fields["qop"] == "auth")
        #expect(fields["digest-uri"] == "imap/elwood.innosoft.com")
        #expect(fields["charset"] == "utf-8")
        #expect(!client.isComplete)

        #expect(client.step(Array("rspauth=ea40f60335c427b5527b84dbabcdfffd".utf8)) == .succeeded)
        #expect(client.isComplete)
    }

    @Test func rejectsAServerThatDoesNotKnowThePassword() {
        var client = Self.rfcClient()
        _ = client.step(Array(Self.challenge.utf8))
        guard case .failed(let reason) = client.step(Array("rspauth=00000000000000000000000000000000".utf8)) else {
            Issue.record("a wrong rspauth must fail")
            return
        }
        #expect(reason.contains("rspauth"))
        #expect(!client.isComplete)
    }

    @Test func rejectsChallengesItCannotAnswer() {
        var noNonce = Self.rfcClient()
        #expect(noNonce.step(Array(#"realm="r",qop="auth""#.utf8)) == .failed("the server's challenge has no nonce"))
        var integrityOnly = Self.rfcClient()
        guard case .failed = integrityOnly.step(Array(#"nonce="n",qop="auth-int""#.utf8)) else {
            Issue.record("qop=auth-int only must fail")
            return
        }
        var finished = Self.rfcClient()
        _ = finished.step(Array(Self.challenge.utf8))
        #expect(finished.step(Array("rspauth=ea40f60335c427b5527b84dbabcdfffd".utf8)) == .succeeded)
        guard case .failed = finished.step([]) else {
            Issue.record("a token after the end must fail")
            return
        }
    }

    @Test func usesZooKeepersDigestURIAndEmptyInitialResponse() {
        let client = SASLDigestClient(username: "bob", password: "pw", cnonce: "c")
        #expect(client.digestURI == "zookeeper/zk-sasl-md5")
        #expect(SASLDigestClient.initialResponse.isEmpty)
    }
}

/// The session state machine runs the SASL exchange before anything else on each connection.
@Suite struct SessionSASLTests {
    static let nonce = "bm9uY2U="
    static let challenge = Array(#"realm="zk-sasl-md5",nonce="bm9uY2U=",qop="auth",charset=utf-8,algorithm=md5-sess"#.utf8)

    static func harness() -> Harness {
        var harness = Harness(hostCount: 2)
        var configuration = harness.machine.configuration
        configuration.sasl = (username: "bob", password: "secret")
        harness.machine = SessionStateMachine(configuration: configuration, seed: 42, now: harness.now)
        return harness
    }

    static func saslResponse(_ token: [UInt8]?) -> ZooKeeperResponse { .sasl(SetSASLResponse(token: token)) }

    /// The server's rspauth for the client's response token (the server's half of RFC 2831).
    static func rspauth(for token: [UInt8], password: String = "secret") -> [UInt8] {
        let fields = SASLDigestFields.parse(String(decoding: token, as: UTF8.self))
        let value = SASLDigestClient.response(
            username: fields["username"]!, realm: fields["realm"]!, password: password, nonce: fields["nonce"]!,
            cnonce: fields["cnonce"]!, nc: fields["nc"]!, qop: fields["qop"]!, a2Prefix: "", digestURI: fields["digest-uri"]!)
        return Array("rspauth=\(value)".utf8)
    }

    static func sentSASLToken(_ actions: [SessionStateMachine.Action]) -> (xid: Int32, token: [UInt8])? {
        for action in actions {
            if case .send(let xid, .sasl(let request)) = action { return (xid, request.token) }
        }
        return nil
    }

    /// Runs the exchange on a fresh connection; returns the actions after the server's rspauth.
    static func authenticate(_ harness: inout Harness, password: String = "secret") -> [SessionStateMachine.Action] {
        let opened = harness.connect()
        guard let first = sentSASLToken(opened) else {
            Issue.record("no SASL packet after the handshake: \(opened)")
            return []
        }
        #expect(first.token.isEmpty)
        let answered = harness.reply(xid: first.xid, zxid: 0, body: saslResponse(challenge))
        guard let second = sentSASLToken(answered) else {
            Issue.record("no SASL response to the challenge: \(answered)")
            return []
        }
        let fields = SASLDigestFields.parse(String(decoding: second.token, as: UTF8.self))
        #expect(fields["digest-uri"] == "zookeeper/zk-sasl-md5")
        #expect(fields["nonce"] == nonce)
        return harness.reply(xid: second.xid, zxid: 0, body: saslResponse(rspauth(for: second.token, password: password)))
    }

    @Test func queuedRequestsWaitForTheExchangeAndStateChangesAfterIt() {
        var harness = Self.harness()
        #expect(harness.machine.submit(.getData(PathWatchRequest(path: "/a", watch: false)), id: rid(1), now: harness.now) == [])
        let opened = harness.connect()
        // Only the empty initial token goes out; the session is not yet reported connected.
        #expect(opened.count == 3)
        #expect(!opened.contains(.stateChanged(.connected)))
        #expect(harness.machine.isAuthenticatingWithSASL)
        // A request submitted mid-exchange is queued too.
        #expect(harness.machine.submit(.exists(PathWatchRequest(path: "/b", watch: false)), id: rid(2), now: harness.now) == [])
        harness = Self.harness()
        _ = harness.machine.submit(.getData(PathWatchRequest(path: "/a", watch: false)), id: rid(1), now: harness.now)
        let done = Self.authenticate(&harness)
        #expect(done.first == .stateChanged(.connected))
        #expect(done.dropFirst().first == .send(xid: 3, request: .getData(PathWatchRequest(path: "/a", watch: false))))
        #expect(!harness.machine.isAuthenticatingWithSASL)
        #expect(harness.machine.state == .connected)
    }

    @Test func rejectionIsTerminalAuthFailed() {
        var harness = Self.harness()
        _ = harness.machine.submit(.getData(PathWatchRequest(path: "/a", watch: false)), id: rid(1), now: harness.now)
        let opened = harness.connect()
        let first = Self.sentSASLToken(opened)!
        let answered = harness.reply(xid: first.xid, zxid: 0, body: Self.saslResponse(Self.challenge))
        let second = Self.sentSASLToken(answered)!
        let rejected = harness.reply(xid: second.xid, zxid: 0, err: .authFailed, body: Self.saslResponse(nil))
        #expect(rejected.contains(.closeConnection))
        #expect(rejected.contains(.fail(rid(1), ZooKeeperError(.authFailed, path: "/a"))))
        #expect(rejected.last == .stateChanged(.authFailed))
        #expect(harness.machine.terminationError?.code == .authFailed)
        #expect(harness.machine.terminationError?.detail?.contains("bob") == true)
    }

    @Test func aWrongServerProofIsTerminalAuthFailed() {
        var harness = Self.harness()
        let done = Self.authenticate(&harness, password: "not-the-password")
        #expect(done.contains(.closeConnection))
        #expect(done.last == .stateChanged(.authFailed))
    }

    @Test func theExchangeRunsAgainAfterEachReconnect() {
        var harness = Self.harness()
        _ = Self.authenticate(&harness)
        #expect(harness.machine.state == .connected)
        let lost = harness.machine.connectionLost(now: harness.now, reason: "test")
        #expect(lost.last == .stateChanged(.disconnected))
        _ = harness.advance(.milliseconds(100))
        _ = harness.machine.submit(.exists(PathWatchRequest(path: "/b", watch: false)), id: rid(5), now: harness.now)
        let again = Self.authenticate(&harness)
        #expect(again.first == .stateChanged(.connected))
        #expect(again.contains { if case .send(_, .exists) = $0 { return true } else { return false } })
    }
}
