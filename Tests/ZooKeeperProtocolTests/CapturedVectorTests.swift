import Foundation
import NIOCore
import NIOTestUtils
import Testing

@testable import ZooKeeperProtocol

/// Frames captured from real ZooKeeper conversations, stored as `Vectors/*.frames`.
///
/// File format, one frame per line:
/// ```
/// # comment
/// C <hex>      client → server payload (no length prefix)
/// S <hex>      server → client payload (no length prefix)
/// # connection 2   a new TCP connection in the same scenario
/// ```
/// On each connection the first C frame is a ConnectRequest and the first S frame a ConnectResponse. After that, C frames
/// are RequestHeader + request record and S frames are ReplyHeader (+ response record). A reply is
/// linked to its request by xid; xid -1 is a notification (WatcherEvent), -2 a ping reply and -4 an
/// auth reply. A reply with err != 0 has no body, except multi, whose err is 0 and whose per-op
/// results carry the errors.
enum CapturedVectors {
    enum Direction: String, Sendable { case client = "C", server = "S" }

    struct Frame: Sendable {
        var line: Int
        /// Which TCP connection of the scenario the frame belongs to, from 1.
        var connection: Int
        var direction: Direction
        var bytes: [UInt8]
    }

    struct File: Sendable, CustomTestStringConvertible {
        var name: String
        var url: URL
        var testDescription: String { self.name }
    }

    /// The `.frames` files copied into the test bundle, sorted by name. Empty when there are none.
    static func files() -> [File] {
        let root = Bundle.module.url(forResource: "Vectors", withExtension: nil)
            ?? Bundle.module.resourceURL?.appendingPathComponent("Vectors")
        guard let root, let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return []
        }
        var files: [File] = []
        for case let url as URL in enumerator where url.pathExtension == "frames" {
            let relative = url.path.hasPrefix(root.path) ? String(url.path.dropFirst(root.path.count + 1)) : url.lastPathComponent
            files.append(File(name: relative, url: url))
        }
        return files.sorted { $0.name < $1.name }
    }

    /// Parses a transcript. Malformed lines are reported as issues and skipped.
    static func parse(_ text: String, name: String) -> [Frame] {
        var frames: [Frame] = []
        var connection = 1
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("#") {
                // `# connection <n>` starts a new TCP connection, with its own handshake.
                let words = line.dropFirst().split(separator: " ")
                if words.count == 2, words[0] == "connection", let number = Int(words[1]) {
                    if number != connection + 1 {
                        Issue.record("\(name):\(index + 1): connection \(number) follows connection \(connection)")
                    }
                    connection = number
                }
                continue
            }
            if line.isEmpty { continue }
            guard let marker = line.first, let direction = Direction(rawValue: String(marker)),
                  line.dropFirst().first?.isWhitespace == true,
                  let bytes = parseHex(line.dropFirst())
            else {
                Issue.record("\(name):\(index + 1): cannot parse line '\(line.prefix(80))'")
                continue
            }
            frames.append(Frame(line: index + 1, connection: connection, direction: direction, bytes: bytes))
        }
        return frames
    }

    struct Summary: Equatable {
        var requests = 0
        var replies = 0
        var errorReplies = 0
        var notifications = 0
        var pings = 0
        var opCodes: Set<Int32> = []
        var connections = 0
        var connectRequests = 0
        var connectResponses = 0
        var multiErrorResults = 0
        /// Every mismatch found, also recorded as an issue unless the walk was silent.
        var problems: [String] = []

        mutating func add(_ other: Summary) {
            self.requests += other.requests
            self.replies += other.replies
            self.errorReplies += other.errorReplies
            self.notifications += other.notifications
            self.pings += other.pings
            self.opCodes.formUnion(other.opCodes)
            self.connections += other.connections
            self.connectRequests += other.connectRequests
            self.connectResponses += other.connectResponses
            self.multiErrorResults += other.multiErrorResults
            self.problems += other.problems
        }
    }

    /// Decodes every frame with our codec, re-encodes it and checks the bytes are identical and that
    /// the decoder consumed the whole frame.
    @discardableResult
    static func walk(_ frames: [Frame], name: String, reportIssues: Bool = true) -> Summary {
        var summary = Summary()
        var connection = 0
        var sawConnectRequest = false
        var sawConnectResponse = false
        var pending: [Int32: OpCode] = [:]

        func report(_ message: String) {
            summary.problems.append(message)
            if reportIssues { Issue.record(Comment(rawValue: message)) }
        }

        func check(_ frame: Frame, _ what: String, remaining: Int, reencoded: ByteBuffer) {
            let location = "\(name):\(frame.line) (\(frame.direction.rawValue) \(what))"
            if remaining != 0 {
                report("\(location): decoding left \(remaining) of \(frame.bytes.count) bytes")
            }
            let bytes = reencoded.readableArray
            if bytes != frame.bytes {
                report("\(location): re-encoding differs\n captured: \(hexString(frame.bytes))\n ours:     \(hexString(bytes))")
            }
        }

        for frame in frames {
            var buffer = ByteBuffer(bytes: frame.bytes)
            let location = "\(name):\(frame.line)"
            if frame.connection != connection {
                // A new connection: a fresh handshake, and whatever was outstanding is gone.
                connection = frame.connection
                sawConnectRequest = false
                sawConnectResponse = false
                pending = [:]
                summary.connections += 1
            }
            do {
                switch frame.direction {
                case .client where !sawConnectRequest:
                    sawConnectRequest = true
                    summary.connectRequests += 1
                    let request = try ConnectRequest(from: &buffer)
                    check(frame, "ConnectRequest", remaining: buffer.readableBytes, reencoded: request.encoded())

                case .server where !sawConnectResponse:
                    sawConnectResponse = true
                    summary.connectResponses += 1
                    if !sawConnectRequest { report("\(location): ConnectResponse before any ConnectRequest") }
                    let response = try ConnectResponse(from: &buffer)
                    check(frame, "ConnectResponse", remaining: buffer.readableBytes, reencoded: response.encoded())

                case .client:
                    let header = try RequestHeader(from: &buffer)
                    let request = try ZooKeeperRequest.decode(opCode: header.type, from: &buffer)
                    var out = ByteBuffer()
                    header.encode(into: &out)
                    request.encodeBody(into: &out)
                    check(frame, "xid \(header.xid) \(header.type)", remaining: buffer.readableBytes, reencoded: out)
                    if header.xid != SpecialXid.ping && header.xid != SpecialXid.auth {
                        pending[header.xid] = header.type
                    }
                    summary.requests += 1
                    summary.opCodes.insert(header.type.rawValue)

                case .server:
                    if !sawConnectRequest { report("\(location): reply before any ConnectRequest") }
                    let header = try ReplyHeader(from: &buffer)
                    var out = ByteBuffer()
                    header.encode(into: &out)
                    let what: String
                    switch header.xid {
                    case SpecialXid.notification:
                        let event = try WatcherEvent(from: &buffer)
                        event.encode(into: &out)
                        what = "notification \(event.type) \(event.path)"
                        summary.notifications += 1
                    case SpecialXid.ping:
                        what = "ping reply"
                        summary.pings += 1
                    case SpecialXid.auth:
                        what = "auth reply err \(header.err)"
                    default:
                        guard let opCode = pending.removeValue(forKey: header.xid) else {
                            report("\(location): reply with xid \(header.xid) matches no outstanding request")
                            continue
                        }
                        what = "reply to xid \(header.xid) \(opCode) err \(header.err)"
                        summary.replies += 1
                        // A failed reply has no body to decode; the rare body a Java server attaches
                        // to an error (a null SASL token, for example) is still decoded if present.
                        if header.err == 0 || buffer.readableBytes > 0 {
                            let response = try ZooKeeperResponse.decode(opCode: opCode, from: &buffer)
                            response.encode(into: &out)
                            if case .multi(let multi) = response {
                                summary.multiErrorResults += multi.results.filter { $0 != .error(0) && $0.opCode == .error }.count
                            }
                        }
                        if header.err != 0 { summary.errorReplies += 1 }
                    }
                    check(frame, what, remaining: buffer.readableBytes, reencoded: out)
                }
            } catch {
                report("\(location) (\(frame.direction.rawValue)): \(error)\n frame: \(hexString(frame.bytes))")
            }
        }
        // A server may close a connection without answering the ConnectRequest (§3.2), so only the
        // file as a whole must hold a ConnectResponse.
        if summary.connectResponses == 0 { report("\(name): no ConnectResponse (first S frame)") }
        return summary
    }
}

@Suite("Captured vectors")
struct CapturedVectorTests {
    @Test func atLeastOneVectorFileIsPresent() {
        let files = CapturedVectors.files()
        #expect(!files.isEmpty, "no Vectors/*.frames files in the test bundle")
    }

    @Test("every captured frame decodes and re-encodes byte for byte", arguments: CapturedVectors.files())
    func captured(_ file: CapturedVectors.File) throws {
        let text = try String(contentsOf: file.url, encoding: .utf8)
        let frames = CapturedVectors.parse(text, name: file.name)
        #expect(frames.count >= 2, "\(file.name) holds no conversation")
        let summary = CapturedVectors.walk(frames, name: file.name)
        #expect(summary.connectRequests == summary.connections, "every connection starts with a ConnectRequest")
        #expect(summary.requests + summary.notifications + summary.pings > 0 || frames.count == 2)
    }

    @Test("captured frames pass through the frame decoder", arguments: CapturedVectors.files())
    func capturedThroughFrameDecoder(_ file: CapturedVectors.File) throws {
        let text = try String(contentsOf: file.url, encoding: .utf8)
        let frames = CapturedVectors.parse(text, name: file.name)
        let pairs = frames.map { frame in (Wire(frame.bytes).framed().buffer, [ByteBuffer(bytes: frame.bytes)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ZooKeeperFrameDecoder() }
    }

    /// What the captured corpus as a whole exercises (Vectors/README.md lists the scenarios). This
    /// keeps the byte-for-byte test above from passing on a corpus that lost its interesting frames.
    @Test func corpusCoversTheScenarios() throws {
        var total = CapturedVectors.Summary()
        for file in CapturedVectors.files() {
            let text = try String(contentsOf: file.url, encoding: .utf8)
            // Decoding problems are reported by the per-file test; here only the coverage counts.
            total.add(CapturedVectors.walk(CapturedVectors.parse(text, name: file.name), name: file.name, reportIssues: false))
        }
        let expected: [OpCode] = [
            .create, .delete, .exists, .getData, .setData, .getACL, .setACL, .getChildren, .sync, .getChildren2,
            .multi, .create2, .removeWatches, .createContainer, .createTTL, .auth, .getEphemerals,
            .getAllChildrenNumber, .setWatches2, .addWatch, .whoAmI, .closeSession,
        ]
        for opCode in expected {
            #expect(total.opCodes.contains(opCode.rawValue), "no captured request with op \(opCode)")
        }
        #expect(total.notifications > 0)
        #expect(total.errorReplies > 0)
        #expect(total.multiErrorResults > 0)
        #expect(total.connections > CapturedVectors.files().count, "some scenario reconnects")
    }

    /// The walker itself, on a conversation built from protocol.md's examples, so it is known to
    /// work whatever the captured files contain.
    @Test func walkerOnASyntheticConversation() {
        func hex(_ body: (inout ByteBuffer) -> Void) -> String {
            var buffer = ByteBuffer()
            body(&buffer)
            return hexString(buffer.readableBytesView).replacingOccurrences(of: " ", with: "")
        }
        let multi = MultiRequest(operations: [.create(MultiSamples.create, opCode: .create), .check(MultiSamples.check)])
        let transcript = """
            # synthetic
            C \(hex { ConnectRequest(timeOut: 30000).encode(into: &$0) })
            S \(hex { ConnectResponse(timeOut: 30000, sessionId: 0x1000_0000_0000_0001, password: Sample.password).encode(into: &$0) })
            C \(hex { RequestHeader(xid: -4, type: .auth).encode(into: &$0); AuthPacket(scheme: "digest", auth: Array("user:password".utf8)).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: -4, zxid: 0).encode(into: &$0) })

            C \(hex { RequestHeader(xid: 1, type: .getData).encode(into: &$0); PathWatchRequest(path: "/foo", watch: true).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 2, type: .delete).encode(into: &$0); DeleteRequest(path: "/nope", version: -1).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 1, zxid: 5).encode(into: &$0); GetDataResponse(data: Array("bar".utf8), stat: Sample.stat).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 2, zxid: 6, err: -101).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 3, type: .multi).encode(into: &$0); multi.encode(into: &$0) })
            S \(hex { ReplyHeader(xid: -1, zxid: 7).encode(into: &$0); WatcherEvent(type: .nodeDataChanged, path: "/foo").encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 3, zxid: 7).encode(into: &$0); MultiResponse(results: [.error(0), .error(-103)]).encode(into: &$0) })
            C \(hex { RequestHeader(xid: -2, type: .ping).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: -2, zxid: 7).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 4, type: .sasl).encode(into: &$0); GetSASLRequest(token: [1]).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 4, zxid: 0, err: -115).encode(into: &$0); SetSASLResponse(token: nil).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 5, type: .setData).encode(into: &$0); MultiSamples.setData.encode(into: &$0) })
            # connection 2
            C \(hex { ConnectRequest(lastZxidSeen: 8, timeOut: 30000, sessionId: 0x1000_0000_0000_0001, password: Sample.password).encode(into: &$0) })
            S \(hex { ConnectResponse(timeOut: 30000, sessionId: 0x1000_0000_0000_0001, password: Sample.password).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 5, type: .closeSession).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 5, zxid: 8).encode(into: &$0) })
            """
        let frames = CapturedVectors.parse(transcript, name: "synthetic")
        #expect(frames.count == 20)
        #expect(frames.map(\.connection) == Array(repeating: 1, count: 16) + Array(repeating: 2, count: 4))
        let summary = CapturedVectors.walk(frames, name: "synthetic")
        #expect(summary.connections == 2)
        #expect(summary.connectRequests == 2)
        #expect(summary.connectResponses == 2)
        #expect(summary.requests == 8)
        #expect(summary.replies == 5)
        #expect(summary.errorReplies == 2)
        #expect(summary.notifications == 1)
        #expect(summary.pings == 1)
    }

    /// The walker must notice leftovers, unmatched replies and lossy re-encodings.
    @Test func walkerReportsProblems() {
        func hex(_ body: (inout ByteBuffer) -> Void) -> String {
            var buffer = ByteBuffer()
            body(&buffer)
            return hexString(buffer.readableBytesView).replacingOccurrences(of: " ", with: "")
        }
        let transcript = """
            C \(hex { ConnectRequest(timeOut: 30000).encode(into: &$0) })
            S \(hex { ConnectResponse(timeOut: 30000, sessionId: 1, password: Sample.password).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 1, type: .delete).encode(into: &$0); DeleteRequest(path: "/a", version: -1).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 1, zxid: 2).encode(into: &$0); $0.writeInteger(UInt8(0)) })
            S \(hex { ReplyHeader(xid: 9, zxid: 2).encode(into: &$0) })
            C \(hex { RequestHeader(xid: 2, type: .getChildren).encode(into: &$0); PathWatchRequest(path: "/", watch: false).encode(into: &$0) })
            S \(hex { ReplyHeader(xid: 2, zxid: 2).encode(into: &$0); $0.writeJuteInt(1); $0.writeJuteInt(-1) })
            C 0000
            """
        let summary = CapturedVectors.walk(CapturedVectors.parse(transcript, name: "bad"), name: "bad", reportIssues: false)
        #expect(summary.problems.count == 5, "\(summary.problems)")
        // The trailing byte is both left over and missing from the re-encoding.
        #expect(summary.problems.contains { $0.contains("bad:4") && $0.contains("left 1 of 17 bytes") })
        #expect(summary.problems.contains { $0.contains("bad:4") && $0.contains("re-encoding differs") })
        #expect(summary.problems.contains { $0.contains("bad:5") && $0.contains("matches no outstanding request") })
        #expect(summary.problems.contains { $0.contains("bad:7") && $0.contains("re-encoding differs") })
        #expect(summary.problems.contains { $0.contains("bad:8") && $0.contains("truncated") })
    }

    @Test func parserAcceptsLowercaseAndSpacedHex() {
        let frames = CapturedVectors.parse("# c\n\nC 00 0a ff\nS\t0001\n  # indented comment\n", name: "t")
        #expect(frames.map(\.bytes) == [[0x00, 0x0a, 0xff], [0x00, 0x01]])
        #expect(frames.map(\.direction) == [.client, .server])
        #expect(frames.map(\.line) == [3, 4])
    }
}
