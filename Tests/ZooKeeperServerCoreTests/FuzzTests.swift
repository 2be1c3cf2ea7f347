import NIOCore
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServerCore

/// Seeded random input for the IO-free core: valid-but-random requests, random byte bodies with
/// random op codes, connections opening and closing, time passing and durability lagging. After
/// every step the actions must be well formed and the tree's invariants must hold; at the end
/// (and now and then on the way) a snapshot restores to an equal tree, and replaying the
/// appended log from nothing gives the same tree.
@Suite(.timeLimit(.minutes(1))) struct FuzzTests {
    @Test(arguments: [UInt64(1), 2, 3, 0xC0FFEE])
    func randomRequestsKeepTheCoreConsistent(seed: UInt64) throws {
        var fuzzer = CoreFuzzer(seed: seed)
        for _ in 0..<4_000 { fuzzer.step() }
        fuzzer.finish()
        #expect(fuzzer.appended.count > 100, "the run hardly wrote anything (\(fuzzer.appended.count) transactions)")
        #expect(fuzzer.successfulCreates > 20, "too few creates succeeded (\(fuzzer.successfulCreates))")
    }

    /// Random chunks of random bytes through ``ZooKeeperFrameDecoder`` with a small maximum: it
    /// never traps, never yields a frame above the maximum, throws only the two frame errors, and
    /// agrees with a one-pass reference parse of the same bytes however they are chunked.
    @Test func frameDecoderOnRandomBytes() {
        var rng = SplitMix64(seed: 42)
        let maximum = 64
        let allocator = ByteBufferAllocator()
        for _ in 0..<3_000 {
            // Mostly plausible lengths, sometimes anything.
            var stream: [UInt8] = []
            for _ in 0..<rng.int(1...6) {
                let length: Int32 = rng.chance(0.8) ? Int32(rng.int(0...(maximum + 8))) : Int32(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
                withUnsafeBytes(of: length.bigEndian) { stream.append(contentsOf: $0) }
                stream.append(contentsOf: rng.bytes(rng.int(0...(maximum + 8))))
            }
            let expected = referenceFrames(stream, maximum: maximum)

            var decoder = ZooKeeperFrameDecoder(maximumFrameLength: maximum)
            var cumulation = allocator.buffer(capacity: 0)
            var frames: [[UInt8]] = []
            var failure: ZooKeeperFrameError?
            var offset = 0
            feeding: while offset < stream.count {
                let chunk = min(stream.count - offset, rng.int(1...20))
                cumulation.writeBytes(stream[offset..<(offset + chunk)])
                offset += chunk
                while true {
                    do {
                        guard let frame = try decoder.nextFrame(from: &cumulation) else { break }
                        #expect(frame.readableBytes <= maximum)
                        frames.append(Array(frame.readableBytesView))
                    } catch {
                        failure = error
                        break feeding
                    }
                }
                // The decoder holds no copies: only what was fed and not yet consumed is buffered.
                #expect(cumulation.readableBytes <= stream.count)
            }
            #expect(frames == expected.frames)
            #expect(failure == expected.error)
        }
    }

    /// A random buffer's worth of bytes as a ConnectRequest, a RequestHeader, and every client op
    /// code's body: decoding throws or succeeds, and never traps or reads past the buffer.
    @Test func recordDecodersOnRandomBytes() {
        var rng = SplitMix64(seed: 7)
        let allocator = ByteBufferAllocator()
        var decoded = 0
        for _ in 0..<4_000 {
            let bytes = rng.bytes(rng.int(0...80))
            var buffer = allocator.buffer(bytes: bytes)
            if (try? ConnectRequest(from: &buffer)) != nil { decoded += 1 }
            buffer = allocator.buffer(bytes: bytes)
            _ = try? RequestHeader(from: &buffer)
            let op = OpCode(rawValue: rng.chance(0.8) ? rng.pick(Array(ServerCore.clientOpCodes)) : Int32(rng.int(-20...120)))
            buffer = allocator.buffer(bytes: bytes)
            if (try? ZooKeeperRequest.decode(opCode: op, from: &buffer)) != nil { decoded += 1 }
            #expect(buffer.readerIndex <= bytes.count)
        }
        #expect(decoded > 0)
    }
}

// MARK: - The core fuzzer

/// SplitMix64: small, fast, and the same sequence on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// The reference parse: frames until the stream ends inside one, or the first bad length.
private func referenceFrames(_ stream: [UInt8], maximum: Int) -> (frames: [[UInt8]], error: ZooKeeperFrameError?) {
    var frames: [[UInt8]] = []
    var index = 0
    while stream.count - index >= 4 {
        let length = stream[index..<(index + 4)].reduce(Int32(0)) { ($0 << 8) | Int32($1) }
        if length < 0 { return (frames, .negativeLength(Int(length))) }
        if Int(length) > maximum { return (frames, .frameTooLarge(length: Int(length), maximum: maximum)) }
        guard stream.count - index - 4 >= Int(length) else { break }
        frames.append(Array(stream[(index + 4)..<(index + 4 + Int(length))]))
        index += 4 + Int(length)
    }
    return (frames, nil)
}

struct CoreFuzzer {
    var rng: SplitMix64
    var core: ServerCore
    var clock: ServerClock
    let configuration: ServerConfiguration
    var appended: [(zxid: Int64, bytes: [UInt8])] = []
    /// Connections the core knows about (opened, not yet reported closed), with their state.
    var open: [UInt64: Bool] = [:]  // id -> handshake sent
    var closedByCore: Set<UInt64> = []
    var nextConnection: UInt64 = 1
    var sessions: [Int64] = []
    var xid: Int32 = 1
    var successfulCreates = 0
    var lastCVersion: [String: (czxid: Int64, cversion: Int32)] = [:]
    var steps = 0

    static let paths = ["/a", "/a/b", "/a/b/c", "/a/x", "/b", "/b/y", "/c", "/zookeeper/quota/q", "/a/b/c/d"]
    static let modes: [CreateMode] = [
        .persistent, .ephemeral, .persistentSequential, .ephemeralSequential, .container, .persistentWithTTL,
        .persistentSequentialWithTTL,
    ]

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        var configuration = ServerConfiguration()
        configuration.tickTime = 100
        configuration.minSessionTimeout = 200
        configuration.maxSessionTimeout = 2_000
        configuration.extendedTypesEnabled = true
        configuration.containerCheckInterval = 500
        configuration.snapCount = 97
        configuration.maxClientConnectionsPerHost = 6
        configuration.superDigest = "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="
        self.configuration = configuration
        clock = ServerClock(monotonic: .uptimeNanoseconds(1_000_000_000_000), wallClockMilliseconds: 1_700_000_000_000)
        core = ServerCore(configuration: configuration, now: clock)
        core.randomBytes = { count in [UInt8](repeating: 7, count: count) }
    }

    mutating func step() {
        steps += 1
        let choice = rng.int(0...99)
        switch choice {
        case 0..<6: openConnection()
        case 6..<9: closeConnection()
        case 9..<14: advanceTime()
        case 14..<19: makeDurable()
        case 19..<24: randomBytesRequest()
        default: randomValidRequest()
        }
        checkInvariants()
        if steps % 250 == 0 { checkSnapshotAndReplay() }
    }

    mutating func finish() {
        run(core.transactionsDurable(upTo: core.lastZxid, now: clock))
        checkInvariants()
        checkSnapshotAndReplay()
    }

    // MARK: Events

    mutating func openConnection() {
        let id = nextConnection
        nextConnection += 1
        let address = rng.chance(0.8) ? "127.0.0.1" : "10.0.0.\(rng.int(1...3))"
        let actions = core.connectionOpened(ConnectionID(rawValue: id), remoteAddress: address + ":\(rng.int(1000...60000))", now: clock)
        if actions.isEmpty { open[id] = false }
        run(actions)
        guard open[id] != nil else { return }
        // Usually complete the handshake: a new session, or resume one (right or wrong password).
        guard rng.chance(0.9) else { return }
        var sessionId: Int64 = 0
        var password = [UInt8](repeating: 0, count: 16)
        if !sessions.isEmpty && rng.chance(0.3) {
            sessionId = rng.pick(sessions)
            password = rng.chance(0.8) ? ServerCore.sessionPassword(for: sessionId) : rng.bytes(16)
        }
        let request = ConnectRequest(
            protocolVersion: 0, lastZxidSeen: rng.chance(0.05) ? core.lastZxid + 5 : Int64(rng.int(0...Int(max(core.lastZxid, 0)))),
            timeOut: Int32(rng.int(0...5_000)), sessionId: sessionId, password: password, readOnly: rng.chance(0.5) ? false : nil)
        open[id] = true
        let connect = core.connectRequestReceived(ConnectionID(rawValue: id), request, now: clock)
        for action in connect {
            if case .append(_, let bytes) = action, let txn = try? Transaction(bytes: bytes), case .createSession = txn.body {
                sessions.append(txn.header.clientId)
            }
        }
        run(connect)
    }

    mutating func closeConnection() {
        guard let id = open.keys.sorted().randomElement(using: &rng) else { return }
        open[id] = nil
        run(core.connectionClosed(ConnectionID(rawValue: id), now: clock))
    }

    mutating func advanceTime() {
        let ms = Int64(rng.pick([1, 50, 100, 250, 700, 2_500]))
        clock.monotonic = clock.monotonic + .milliseconds(ms)
        clock.wallClockMilliseconds += ms
        run(core.tick(now: clock))
    }

    mutating func makeDurable() {
        let target = rng.chance(0.7) ? core.lastZxid : Int64(rng.int(Int(core.durableZxid)...Int(max(core.lastZxid, core.durableZxid))))
        run(core.transactionsDurable(upTo: target, now: clock))
    }

    mutating func randomBytesRequest() {
        guard let id = open.filter({ $0.value }).keys.sorted().randomElement(using: &rng) else { return }
        let op = rng.chance(0.85) ? rng.pick(Array(ServerCore.clientOpCodes).sorted()) : Int32(rng.int(-12...130))
        var body = ByteBufferAllocator().buffer(capacity: 64)
        if rng.chance(0.5) {
            // A valid path string, then junk: gets past the first field of most records.
            let path = rng.pick(Self.paths)
            body.writeInteger(Int32(path.utf8.count))
            body.writeString(path)
        }
        body.writeBytes(rng.bytes(rng.int(0...40)))
        send(id, header: RequestHeader(xid: nextXid(), type: OpCode(rawValue: op)), body: body)
    }

    mutating func randomValidRequest() {
        guard let id = open.filter({ $0.value }).keys.sorted().randomElement(using: &rng) else {
            openConnection()
            return
        }
        let request = randomRequest(depth: 0)
        var body = ByteBufferAllocator().buffer(capacity: 64)
        request.encodeBody(into: &body)
        let xid: Int32
        switch request {
        case .ping: xid = SpecialXid.ping
        case .auth: xid = SpecialXid.auth
        case .setWatches, .setWatches2: xid = SpecialXid.setWatches
        default: xid = nextXid()
        }
        send(id, header: RequestHeader(xid: xid, type: request.opCode), body: body)
    }

    mutating func nextXid() -> Int32 {
        xid += 1
        return xid
    }

    mutating func send(_ id: UInt64, header: RequestHeader, body: ByteBuffer) {
        let actions = core.requestReceived(ConnectionID(rawValue: id), header: header, body: body, now: clock)
        for action in actions {
            if case .append(_, let bytes) = action, let txn = try? Transaction(bytes: bytes) {
                if case .create = txn.body { successfulCreates += 1 }
                if case .multi(let subs) = txn.body {
                    successfulCreates += subs.filter { if case .create = $0.body { return true } else { return false } }.count
                }
            }
        }
        run(actions)
    }

    // MARK: Random requests

    mutating func randomPath() -> String {
        rng.chance(0.03) ? rng.pick(["/", "//", "/a/", "a", "/a/./b", "/zookeeper", "/zookeeper/config", ""]) : rng.pick(Self.paths)
    }

    mutating func randomACL() -> [ACL] {
        switch rng.int(0...9) {
        case 0: return ACL.readUnsafe
        case 1: return []
        case 2: return [ACL(permissions: .all, id: Id(scheme: "digest", id: "u:x"))]
        case 3: return [ACL(permissions: .all, id: Id(scheme: "auth", id: ""))]
        case 4: return [ACL(permissions: [.read, .write], id: Id(scheme: "ip", id: "127.0.0.1"))]
        default: return ACL.openUnsafe
        }
    }

    mutating func randomData() -> [UInt8]? {
        rng.chance(0.05) ? nil : rng.bytes(rng.int(0...12))
    }

    mutating func randomVersion() -> Int32 { rng.chance(0.6) ? -1 : Int32(rng.int(0...3)) }

    mutating func randomRequest(depth: Int) -> ZooKeeperRequest {
        let path = randomPath()
        switch rng.int(0...24) {
        case 0, 1, 2, 3:
            let mode = rng.pick(Self.modes)
            let flags = rng.chance(0.03) ? Int32(rng.int(-1...9)) : mode.rawValue
            if mode == .persistentWithTTL || mode == .persistentSequentialWithTTL {
                return .createTTL(
                    CreateTTLRequest(path: path, data: randomData(), acl: randomACL(), flags: flags, ttl: Int64(rng.int(-1...3_000))))
            }
            let request = CreateRequest(path: path, data: randomData(), acl: randomACL(), flags: flags)
            return rng.pick([.create(request), .create2(request), .createContainer(request)])
        case 4, 5: return .delete(DeleteRequest(path: path, version: randomVersion()))
        case 6, 7: return .setData(SetDataRequest(path: path, data: randomData(), version: randomVersion()))
        case 8: return .getData(PathWatchRequest(path: path, watch: rng.chance(0.5)))
        case 9: return .exists(PathWatchRequest(path: path, watch: rng.chance(0.5)))
        case 10: return .getChildren2(PathWatchRequest(path: path, watch: rng.chance(0.5)))
        case 11: return .setACL(SetACLRequest(path: path, acl: randomACL(), version: randomVersion()))
        case 12: return .getACL(PathRequest(path: path))
        case 13: return .sync(PathRequest(path: path))
        case 14: return .ping
        case 15:
            let scheme = rng.pick(["digest", "digest", "super", "ip", "nope"])
            let auth = rng.pick(["u:x", "super:admin", "bad", ""])
            return .auth(AuthPacket(type: 0, scheme: scheme, auth: Array(auth.utf8)))
        case 16: return .getAllChildrenNumber(PathRequest(path: path))
        case 17: return .getEphemerals(PathRequest(path: path))
        case 18: return .addWatch(AddWatchRequest(path: path, mode: rng.pick(AddWatchMode.allCases)))
        case 19: return .removeWatches(WatchesRequest(path: path, type: rng.pick(WatcherType.allCases)))
        case 20: return .checkWatches(WatchesRequest(path: path, type: rng.pick(WatcherType.allCases)))
        case 21: return .whoAmI
        case 22: return rng.chance(0.2) ? .closeSession : .getChildren(PathWatchRequest(path: path, watch: true))
        default:
            var operations: [MultiOperation] = []
            for _ in 0..<rng.int(0...4) {
                let sub = randomPath()
                switch rng.int(0...4) {
                case 0:
                    let mode = rng.pick([CreateMode.persistent, .ephemeral, .persistentSequential, .container])
                    operations.append(.create(CreateRequest(path: sub, data: randomData(), acl: randomACL(), flags: mode.rawValue), opCode: rng.pick([.create, .create2])))
                case 1: operations.append(.delete(DeleteRequest(path: sub, version: randomVersion())))
                case 2: operations.append(.setData(SetDataRequest(path: sub, data: randomData(), version: randomVersion())))
                case 3: operations.append(.check(CheckVersionRequest(path: sub, version: randomVersion())))
                default: operations.append(.getData(PathWatchRequest(path: sub, watch: false)))
                }
            }
            let request = MultiRequest(operations: operations)
            return rng.chance(0.8) ? .multi(request) : .multiRead(request)
        }
    }

    // MARK: Checks

    /// Checks every action and does what a driver would: records appends, closes.
    mutating func run(_ actions: [ServerAction]) {
        for action in actions {
            switch action {
            case .append(let zxid, let bytes):
                let expected = (appended.last?.zxid ?? 0) + 1
                #expect(zxid == expected, "zxids must be consecutive: got \(zxid), expected \(expected)")
                #expect(zxid <= core.lastZxid)
                do {
                    let transaction = try Transaction(bytes: bytes)
                    #expect(transaction.header.zxid == zxid)
                } catch {
                    Issue.record("appended bytes for zxid \(zxid) do not decode: \(error)")
                }
                appended.append((zxid, bytes))
            case .send(let id, let buffer):
                #expect(open[id.rawValue] != nil, "a frame for \(id), which is not open")
                #expect(!closedByCore.contains(id.rawValue), "a frame for \(id) after the core closed it")
                let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self)
                #expect(length.map { Int($0) + 4 } == buffer.readableBytes, "frame length prefix does not match")
                #expect(buffer.readableBytes <= configuration.maxBuffer + 1024)
            case .close(let id):
                #expect(!closedByCore.contains(id.rawValue), "\(id) closed twice")
                closedByCore.insert(id.rawValue)
                if open.removeValue(forKey: id.rawValue) != nil {
                    // The driver reports the channel gone; the core must take that in stride.
                    let more = core.connectionClosed(id, now: clock)
                    #expect(more.isEmpty)
                }
            case .takeSnapshot:
                break
            case .forward:
                Issue.record("a standalone core forwarded a request")
            }
        }
    }

    mutating func checkInvariants() {
        let tree = core.tree
        var dataSize: Int64 = 0
        var ephemerals: [Int64: Set<String>] = [:]
        #expect(tree.nodes.verify(), "the store's links, counts and child table disagree")
        for (path, node) in tree.nodes {
            dataSize += Int64(path.utf8.count + (node.data?.count ?? 0))
            if path != "/" {
                let parent = ZooKeeperPath.parent(of: path)
                #expect(tree.children(of: parent)?.contains(ZooKeeperPath.name(of: path)) == true, "\(path): parent \(parent) missing or does not list it")
            }
            let children = tree.children(of: path) ?? []
            for child in children {
                #expect(tree.nodes[ZooKeeperPath.join(path, child)] != nil, "\(path) lists child \(child) that does not exist")
            }
            let stat = tree.stat(of: node)
            #expect(Int(stat.numChildren) == children.count)
            // cversion counts child creates and deletes: at least numChildren, except on the nodes
            // that exist from the start, whose built-in children were never "created" (Apache
            // reports cversion -1 for a fresh "/" and -2 for /zookeeper too).
            if !DataTree.specialPaths.contains(path) {
                #expect(stat.cversion >= stat.numChildren, "\(path): cversion \(stat.cversion) below numChildren \(stat.numChildren)")
            }
            #expect(stat.dataLength == Int32(node.data?.count ?? 0))
            #expect(node.czxid <= node.mzxid && node.mzxid <= core.lastZxid && node.pzxid <= core.lastZxid)
            if let previous = lastCVersion[path], previous.czxid == node.czxid {
                #expect(stat.cversion >= previous.cversion, "\(path): cversion went back from \(previous.cversion) to \(stat.cversion)")
            }
            lastCVersion[path] = (node.czxid, stat.cversion)
            if case .ephemeral(let owner) = tree.kind(of: node) {
                ephemerals[owner, default: []].insert(path)
                #expect(children.isEmpty, "ephemeral \(path) has children")
                #expect(core.sessionTimeouts[owner] != nil, "ephemeral \(path) outlives its session \(owner)")
            }
        }
        #expect(tree.approximateDataSize == dataSize)
        #expect(tree.ephemerals == ephemerals)
        for path in tree.containers { #expect(tree.nodes[path]?.ephemeralOwner == NodeKind.containerOwner) }
        #expect(core.durableZxid <= core.lastZxid)
        #expect(core.lastZxid == (appended.last?.zxid ?? 0))
    }

    func checkSnapshotAndReplay() {
        let snapshot = core.snapshot()
        #expect(snapshot.zxid == core.lastZxid)
        do {
            let restored = try ServerCore(configuration: configuration, snapshot: snapshot.bytes, transactions: [], now: clock)
            #expect(restored.tree.nodes == core.tree.nodes, "snapshot → restore changed the tree")
            #expect(restored.sessionTimeouts == core.sessionTimeouts)
            #expect(restored.lastZxid == core.lastZxid)
            let replayed = try ServerCore(configuration: configuration, snapshot: nil, transactions: appended, now: clock)
            #expect(replayed.tree.nodes == core.tree.nodes, "replaying the log does not give the live tree")
            #expect(replayed.sessionTimeouts == core.sessionTimeouts)
            // Half from a snapshot of the replay, half from the log.
            let middle = appended.count / 2
            let early = try ServerCore(configuration: configuration, snapshot: nil, transactions: Array(appended[..<middle]), now: clock)
            let combined = try ServerCore(configuration: configuration, snapshot: early.snapshot().bytes, transactions: appended, now: clock)
            #expect(combined.tree.nodes == core.tree.nodes, "snapshot + log tail does not give the live tree")
        } catch {
            Issue.record("restore failed: \(error)")
        }
    }
}
