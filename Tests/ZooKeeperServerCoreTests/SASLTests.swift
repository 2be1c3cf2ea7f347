import NIOCore
import Testing
@testable import ZooKeeperServerCore

@Suite struct SASLTests {
    @Test func rfc2831Vector() {
        let response = SASLDigestServer.response(
            username: "chris", realm: "elwood.innosoft.com", password: "secret", nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk", nc: "00000001", qop: "auth", authzid: nil, a2Prefix: "AUTHENTICATE",
            digestURI: "imap/elwood.innosoft.com")
        #expect(response == "d388dad90d4bbd760a152321f2143af7")
        let rspauth = SASLDigestServer.response(
            username: "chris", realm: "elwood.innosoft.com", password: "secret", nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk", nc: "00000001", qop: "auth", authzid: nil, a2Prefix: "",
            digestURI: "imap/elwood.innosoft.com")
        #expect(rspauth == "ea40f60335c427b5527b84dbabcdfffd")
    }

    @Test func digestMD5ExchangeGivesSaslId() {
        var h = Harness { $0.saslDigestUsers = ["bob": "pw"] }
        h.core.randomBytes = { Array(repeating: 7, count: $0) }
        _ = h.session(1)
        let (first, challenge) = h.call(1, xid: 2, .sasl(GetSASLRequest(token: [])))
        #expect(first.err == 0 && first.zxid == 0)
        guard case .sasl(let c) = challenge, let token = c.token else {
            Issue.record("no challenge")
            return
        }
        let fields = SASLDigestFields.parse(String(decoding: token, as: UTF8.self))
        #expect(fields["realm"] == "zk-sasl-md5" && fields["qop"] == "auth")
        let nonce = fields["nonce"]!
        let uri = "zookeeper/zk-sasl-md5"
        let response = SASLDigestServer.response(
            username: "bob", realm: "zk-sasl-md5", password: "pw", nonce: nonce, cnonce: "abc", nc: "00000001",
            qop: "auth", authzid: nil, a2Prefix: "AUTHENTICATE", digestURI: uri)
        let answer = "charset=utf-8,username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"\(nonce)\",nc=00000001,cnonce=\"abc\",digest-uri=\"\(uri)\",maxbuf=65536,response=\(response),qop=auth"
        let (second, final) = h.call(1, xid: 3, .sasl(GetSASLRequest(token: Array(answer.utf8))))
        #expect(second.err == 0)
        guard case .sasl(let f) = final else {
            Issue.record("no final token")
            return
        }
        #expect(String(decoding: f.token ?? [], as: UTF8.self).hasPrefix("rspauth="))
        #expect(h.call(1, .whoAmI).1 == .whoAmI([ClientInfo(authScheme: "ip", user: "127.0.0.1"), ClientInfo(authScheme: "sasl", user: "bob")]))
    }

    @Test func wrongPasswordFails() {
        var h = Harness { $0.saslDigestUsers = ["bob": "pw"] }
        _ = h.session(1)
        _ = h.call(1, xid: 2, .sasl(GetSASLRequest(token: [])))
        let actions = h.request(1, xid: 3, .sasl(GetSASLRequest(token: Array("username=\"bob\",response=00".utf8))))
        guard case .reply(let header, _) = Harness.frames(actions, 1).first else {
            Issue.record("no reply")
            return
        }
        #expect(header.err == -115)
        #expect(Harness.closes(actions) == [1])
    }
}
