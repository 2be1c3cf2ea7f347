import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy in front of a server, so a test can cut every client connection at once
/// (the way a network failure does) while the server keeps running.
final class TCPProxy: Sendable {
    let port: Int
    private let serverChannel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    private init(port: Int, serverChannel: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) {
        self.port = port
        self.serverChannel = serverChannel
        self.connections = connections
    }

    /// Starts a proxy on a free 127.0.0.1 port forwarding to `targetPort`.
    static func start(targetPort: Int, group: any EventLoopGroup) async throws -> TCPProxy {
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.setOption(.autoRead, value: false).flatMap {
                    ClientBootstrap(group: inbound.eventLoop)
                        .connect(host: "127.0.0.1", port: targetPort)
                }.flatMap { outbound in
                    connections.withLockedValue {
                        $0[ObjectIdentifier(inbound)] = inbound
                        $0[ObjectIdentifier(outbound)] = outbound
                    }
                    let forget: @Sendable (any Channel) -> Void = { channel in
                        _ = connections.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
                    }
                    inbound.closeFuture.whenComplete { _ in forget(inbound); outbound.close(promise: nil) }
                    outbound.closeFuture.whenComplete { _ in forget(outbound); inbound.close(promise: nil) }
                    return inbound.pipeline.addHandler(Relay(peer: outbound)).flatMap {
                        outbound.pipeline.addHandler(Relay(peer: inbound))
                    }.flatMap {
                        inbound.setOption(.autoRead, value: true)
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPProxy(port: channel.localAddress!.port!, serverChannel: channel, connections: connections)
    }

    /// Closes every proxied connection on both sides. New connections are still accepted.
    func cutConnections() {
        let all = connections.withLockedValue { current -> [any Channel] in
            defer { current = [:] }
            return Array(current.values)
        }
        for channel in all { channel.close(promise: nil) }
    }

    func stop() async {
        cutConnections()
        try? await serverChannel.close()
    }

    private final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let peer: any Channel

        init(peer: any Channel) { self.peer = peer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            peer.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
