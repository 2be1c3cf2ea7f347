import Logging
import NIOCore
import NIOPosix
import ZooKeeperServerCore

/// Links between ensemble members over TCP, for one kind of traffic (election notifications on
/// the election port, Zab and forwarded requests on the quorum port).
///
/// A member sends on its own outgoing connection to each peer and receives on the connections
/// peers open to it, so each direction is one ordered stream. Outgoing links are opened on
/// demand; messages wait while one connects and are dropped when it fails (the protocols above
/// resend or time out, as ZooKeeper's do over its QuorumCnxManager). Incoming links must start
/// with a ``PeerHello`` from a configured member whose address matches the configuration;
/// anything else is logged and closed. Everything runs on `loop`.
final class PeerTransport: @unchecked Sendable {
    struct Peer {
        var host: String
        var port: Int
        /// The configured host's addresses, for checking where incoming links come from.
        var addresses: Set<String>
    }

    typealias MessageHandler = (PeerID, PeerMessage) -> Void
    typealias LinkLostHandler = (PeerID) -> Void

    let kind: String
    let selfId: PeerID
    let loop: EventLoop
    private let logger: Logger
    private var peers: [PeerID: Peer]
    private let onMessage: MessageHandler
    private let onLinkLost: LinkLostHandler

    private enum Outgoing {
        case connecting(queued: [ByteBuffer])
        case connected(Channel)
    }
    private var outgoing: [PeerID: Outgoing] = [:]
    private var retryAfter: [PeerID: NIODeadline] = [:]
    private var incoming: [ObjectIdentifier: (peer: PeerID, channel: Channel)] = [:]
    private var unflushed: Set<PeerID> = []
    private var flushScheduled = false
    private var serverChannel: Channel?
    private(set) var blocked: Set<PeerID> = []
    private var stopped = false

    init(
        kind: String, selfId: PeerID, loop: EventLoop, peers: [PeerID: Peer], logger: Logger,
        onMessage: @escaping MessageHandler, onLinkLost: @escaping LinkLostHandler
    ) {
        self.kind = kind
        self.selfId = selfId
        self.loop = loop
        self.peers = peers
        self.logger = logger
        self.onMessage = onMessage
        self.onLinkLost = onLinkLost
    }

    /// Resolves a configured host to the addresses its links may come from.
    static func addresses(of host: String) -> Set<String> {
        var result: Set<String> = [host]
        if let resolved = try? SocketAddress.makeAddressResolvingHost(host, port: 0), let ip = resolved.ipAddress {
            result.insert(ip)
        }
        if host == "localhost" { result.formUnion(["127.0.0.1", "::1"]) }
        return result
    }

    /// Listens for peers' links. Call once, off the loop.
    func listen(host: String, port: Int) throws {
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(IncomingLinkHandler(transport: self))
                }
            }
        serverChannel = try bootstrap.bind(host: host, port: port).wait()
    }

    // MARK: Sending

    func send(_ message: PeerMessage, to peer: PeerID) {
        loop.preconditionInEventLoop()
        guard !stopped, peer != selfId, !blocked.contains(peer), let address = peers[peer] else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        PeerWire.encode(message, into: &buffer)
        switch outgoing[peer] {
        case .connected(let channel):
            channel.write(buffer, promise: nil)
            scheduleFlush(peer)
        case .connecting(var queued):
            queued.append(buffer)
            outgoing[peer] = .connecting(queued: queued)
        case nil:
            if let after = retryAfter[peer], NIODeadline.now() < after { return }
            outgoing[peer] = .connecting(queued: [buffer])
            connect(peer, address)
        }
    }

    private func scheduleFlush(_ peer: PeerID) {
        unflushed.insert(peer)
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.execute { [self] in
            flushScheduled = false
            for id in unflushed {
                if case .connected(let channel) = outgoing[id] { channel.flush() }
            }
            unflushed = []
        }
    }

    private func connect(_ peer: PeerID, _ address: Peer) {
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                // Nothing is read on an outgoing link; a closed peer shows as end of stream.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OutgoingLinkHandler())
                }
            }
        bootstrap.connect(host: address.host, port: address.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard !stopped, !blocked.contains(peer), case .connecting(let queued) = outgoing[peer] else {
                    channel.close(promise: nil)
                    return
                }
                var hello = channel.allocator.buffer(capacity: 18)
                PeerWire.encode(PeerHello(senderId: selfId), into: &hello)
                channel.write(hello, promise: nil)
                for buffer in queued { channel.write(buffer, promise: nil) }
                channel.flush()
                outgoing[peer] = .connected(channel)
                channel.closeFuture.whenComplete { [self] _ in
                    if case .connected(let current) = outgoing[peer], current === channel {
                        outgoing[peer] = nil
                        logger.debug("\(kind) link to member \(peer) closed")
                        onLinkLost(peer)
                    }
                }
            case .failure(let error):
                if case .connecting = outgoing[peer] { outgoing[peer] = nil }
                retryAfter[peer] = .now() + .milliseconds(100)
                logger.trace("cannot reach member \(peer) at \(address.host):\(address.port) (\(kind)): \(error)")
            }
        }
    }

    // MARK: Receiving

    fileprivate func accept(_ hello: PeerHello, remoteAddress: SocketAddress?, channel: Channel) -> Bool {
        let remote = remoteAddress?.ipAddress ?? "?"
        guard let peer = peers[hello.senderId], hello.senderId != selfId else {
            logger.warning("\(kind) port: refused a link from \(remote) claiming to be member \(hello.senderId), which is not in the configuration")
            return false
        }
        guard peer.addresses.contains(remote) else {
            logger.warning("\(kind) port: refused a link from \(remote) claiming to be member \(hello.senderId), configured at \(peer.host)")
            return false
        }
        guard !blocked.contains(hello.senderId), !stopped else { return false }
        incoming[ObjectIdentifier(channel)] = (hello.senderId, channel)
        return true
    }

    fileprivate func received(_ frame: ByteBuffer, from peer: PeerID, channel: Channel) {
        guard !blocked.contains(peer), !stopped else { return }
        var frame = frame
        do {
            onMessage(peer, try PeerWire.decodeMessage(&frame))
        } catch {
            logger.warning("\(kind) link from member \(peer): \(error); closing it")
            channel.close(promise: nil)
        }
    }

    fileprivate func incomingClosed(_ channel: Channel) {
        guard let link = incoming.removeValue(forKey: ObjectIdentifier(channel)) else { return }
        if !stopped { onLinkLost(link.peer) }
    }

    /// The membership changed: links to members that left close, new members may link.
    func setPeers(_ newPeers: [PeerID: Peer]) {
        loop.preconditionInEventLoop()
        for id in peers.keys where newPeers[id] == nil || newPeers[id]?.port != peers[id]?.port || newPeers[id]?.host != peers[id]?.host {
            if case .connected(let channel) = outgoing[id] { channel.close(promise: nil) }
            outgoing[id] = nil
            for (_, link) in incoming where link.peer == id { link.channel.close(promise: nil) }
        }
        peers = newPeers
    }

    // MARK: Partitions and shutdown

    /// Cuts this member off from `ids` (both directions) until they are unblocked.
    func setBlocked(_ ids: Set<PeerID>) {
        loop.preconditionInEventLoop()
        guard ids != blocked else { return }
        let newlyBlocked = ids.subtracting(blocked)
        blocked = ids
        for id in newlyBlocked {
            if case .connected(let channel) = outgoing[id] { channel.close(promise: nil) }
            outgoing[id] = nil
            for (_, link) in incoming where link.peer == id { link.channel.close(promise: nil) }
        }
    }

    func close() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        stopped = true
        var futures: [EventLoopFuture<Void>] = []
        if let serverChannel { futures.append(serverChannel.close()) }
        for (_, state) in outgoing { if case .connected(let channel) = state { futures.append(channel.close()) } }
        for (_, link) in incoming { futures.append(link.channel.close()) }
        outgoing = [:]
        incoming = [:]
        return EventLoopFuture.whenAllComplete(futures, on: loop).map { _ in }
    }
}

private final class OutgoingLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

private final class IncomingLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let transport: PeerTransport
    var peer: PeerID?

    init(transport: PeerTransport) { self.transport = transport }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        if let peer {
            transport.received(frame, from: peer, channel: context.channel)
            return
        }
        do {
            let hello = try PeerWire.decodeHello(&frame)
            guard transport.accept(hello, remoteAddress: context.remoteAddress, channel: context.channel) else {
                context.close(promise: nil)
                return
            }
            peer = hello.senderId
        } catch {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.incomingClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
