import Foundation
import NIOCore
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `zksh serve` against hostile raw-socket clients: an oversize length, garbage after the
/// handshake, an unknown op code, 5,000 pipelined requests whose replies go unread for seconds,
/// and 500 concurrent connections. Meanwhile a well-behaved client keeps working, the process
/// stays up and its resident memory stays bounded. Also `maxClientCnxns`.
///
/// The memory bound, 500 MB: everything the hostile clients send is small (the flood is 5,000
/// requests of ~30 bytes with ~100-byte replies, about 0.5 MB each way; 500 connections cost a
/// few KB of buffers each), and the oversize length must be refused before anything is
/// allocated for it. A server that allocated for the announced 2 GB frame, or buffered without
/// bound, would cross it; a healthy one stays far below (it starts at tens of MB).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServeRobustnessTests {
    static let rssLimitKilobytes = 500 * 1024

    @Test func hostileClientsDoNotHurtOthers() async throws {
        let server = try await ZkshServer.start()
        defer { server.stop() }
        let pid = try serverProcessID(server)
        let port = server.port
        let good = try await connectedClient(server.connectString)
        let path = uniquePath("robust")
        try await good.create(path, data: bytes("0"))
        let probe = WellBehavedProbe(client: good, path: path)

        // (a) An oversize length right after the handshake.
        let oversizeClosed = try await blocking {
            let socket = try RawSocket(port: port)
            _ = try socket.handshake()
            socket.send([0x7f, 0xff, 0xff, 0xf0] + [UInt8](repeating: 1, count: 64))
            return socket.closedByPeer()
        }
        #expect(oversizeClosed, "an oversize frame did not close the connection")
        try await probe.check("after an oversize frame")

        // (b) Garbage after the handshake: a frame too short for a RequestHeader, then noise.
        let garbageClosed = try await blocking {
            let socket = try RawSocket(port: port)
            _ = try socket.handshake()
            var generator = SeededGenerator(seed: 99)
            socket.send([0, 0, 0, 3, 0xde, 0xad, 0xbe] + (0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) })
            return socket.closedByPeer()
        }
        #expect(garbageClosed, "garbage after the handshake did not close the connection")
        try await probe.check("after garbage")

        // (c) An unknown op code: UNIMPLEMENTED (-6) for that xid, then the connection closes.
        let (unknownReply, unknownClosed) = try await blocking {
            let socket = try RawSocket(port: port)
            _ = try socket.handshake()
            var buffer = ByteBufferAllocator().buffer(capacity: 32)
            buffer.writeZooKeeperFrame { frame in
                RequestHeader(xid: 7, type: OpCode(rawValue: 4242)).encode(into: &frame)
                frame.writeBytes([0, 0, 0, 1, 0x2f])
            }
            socket.send(Array(buffer.readableBytesView))
            let reply = try socket.receiveFrame().map(replyHeader)
            return (reply, socket.closedByPeer())
        }
        #expect(unknownReply?.xid == 7 && unknownReply?.err == ZooKeeperError.Code.unimplemented.rawValue, "\(String(describing: unknownReply))")
        #expect(unknownClosed, "the connection stayed open after an unknown op code")
        try await probe.check("after an unknown op code")

        // (d) 5,000 pipelined getData requests, replies left unread for 3 s while the good client works.
        let count = 5_000
        let flooder = try await blocking { try RawSocket(port: port, receiveTimeout: .seconds(20)) }
        _ = try await blocking { try flooder.handshake() }
        let frames = (1...count).flatMap { requestFrame(xid: Int32($0), .getData(PathWatchRequest(path: path, watch: false))) }
        async let sent = blocking { flooder.send(frames) }
        let floodUntil = ContinuousClock.now + .seconds(3)
        var peak = try residentKilobytes(pid)
        while ContinuousClock.now < floodUntil {
            try await probe.check("during the flood")
            peak = max(peak, try residentKilobytes(pid))
            try await Task.sleep(for: .milliseconds(100))
        }
        let replies = try await blocking { () -> [Int32] in
            var xids: [Int32] = []
            for _ in 0..<count {
                guard let payload = flooder.receiveFrame(), let header = try? replyHeader(payload) else { break }
                if header.err == 0 { xids.append(header.xid) }
            }
            return xids
        }
        #expect(try await sent, "the flood could not be sent")
        #expect(replies == (1...count).map { Int32($0) }, "got \(replies.count) good replies of \(count), in order: \(replies.prefix(5))…")
        peak = max(peak, try residentKilobytes(pid))
        try await probe.check("after the flood")

        // (e) 500 connections at once: half with sessions, half idle without a handshake.
        let connections = try await blocking { () -> [RawSocket] in
            var sockets: [RawSocket] = []
            for index in 0..<500 {
                let socket = try RawSocket(port: port)
                if index % 2 == 0 { _ = try socket.handshake(timeout: 30_000) }
                sockets.append(socket)
            }
            return sockets
        }
        try await probe.check("with 500 connections open")
        let ruok = try await blocking { try fourLetterWord("ruok", port: port) }
        #expect(ruok == "imok")
        let cons = try await blocking { try fourLetterWord("cons", port: port) }
        #expect(cons.split(separator: "\n").count >= 250, "cons lists \(cons.split(separator: "\n").count) connections")
        peak = max(peak, try residentKilobytes(pid))
        withExtendedLifetime(connections) {}
        try await probe.check("after the connections")

        #expect(server.isRunning)
        #expect(peak < Self.rssLimitKilobytes, "VmRSS peaked at \(peak) kB")
        // Liveness (others are still served while the attack runs), generous for a loaded CI machine.
        #expect(probe.slowest < .seconds(30), "a well-behaved request took \(probe.slowest)")
        print("ServeRobustnessTests: VmRSS peak \(peak) kB; slowest well-behaved request \(probe.slowest); \(probe.calls) requests")
        try await good.close()
    }

    /// maxClientCnxns=5: the sixth connection from 127.0.0.1 is closed without a session; once
    /// one of the five goes, a new one is accepted.
    @Test func maxClientConnectionsRefusesTheNextOne() async throws {
        var configuration = ApacheZooKeeperConfiguration()
        configuration.extraConfiguration = ["maxClientCnxns": "5"]
        let server = try await ZkshServer.start(configuration)
        defer { server.stop() }
        let port = server.port
        let five = try await blocking { () -> [RawSocket] in
            try (0..<5).map { _ in
                let socket = try RawSocket(port: port)
                _ = try socket.handshake()
                return socket
            }
        }
        let sixthGotSession = try await blocking { () -> Bool in
            let socket = try RawSocket(port: port)
            return (try? socket.handshake()) != nil
        }
        #expect(!sixthGotSession, "the sixth connection from 127.0.0.1 got a session")
        // The five still work, and four-letter words are answered regardless.
        #expect(try await blocking { try fourLetterWord("ruok", port: port) } == "imok")

        five[4].closeNow()
        try await eventually("a slot frees up") {
            try await blocking {
                let socket = try RawSocket(port: port)
                return (try? socket.handshake()) != nil
            }
        }
        withExtendedLifetime(five) {}
    }
}

/// The well-behaved client: a setData and a getData per check, each timed.
final class WellBehavedProbe: @unchecked Sendable {
    let client: ZooKeeperClient
    let path: String
    private let lock = NSLock()
    private var counter = 0
    private var worst: Duration = .zero

    init(client: ZooKeeperClient, path: String) {
        self.client = client
        self.path = path
    }

    var slowest: Duration { lock.withLock { worst } }
    var calls: Int { lock.withLock { counter } }

    func check(_ when: String) async throws {
        let value = lock.withLock {
            counter += 1
            return counter
        }
        let start = ContinuousClock.now
        _ = try await client.setData(path, data: bytes("\(value)"))
        let read = try await client.getData(path).data.text
        let elapsed = ContinuousClock.now - start
        lock.withLock { worst = max(worst, elapsed) }
        #expect(read == "\(value)", "\(when): read \(read), wrote \(value)")
    }
}
