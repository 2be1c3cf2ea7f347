import NIOCore
import NIOPosix

/// Sends ZooKeeper four-letter-word commands (`ruok`, `srvr`, `mntr`, `isro`, ...) and returns
/// the server's plain-text answer. The server answers and closes the connection.
public enum FourLetterWord {
    /// Sends `word` to `host` and collects the reply until the server closes the connection.
    public static func send(
        _ word: String, to host: HostAndPort, eventLoop: any EventLoop, timeout: TimeAmount = .seconds(5)
    ) -> EventLoopFuture<String> {
        let promise = eventLoop.makePromise(of: String.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(word: word, promise: promise))
                }
            }
        bootstrap.connect(host: host.host, port: host.port).whenComplete { result in
            switch result {
            case .success(let channel):
                let timer = channel.eventLoop.scheduleTask(in: timeout) {
                    promise.fail(ZooKeeperError(.operationTimeout, detail: "\(host) did not answer '\(word)'"))
                    channel.close(promise: nil)
                }
                promise.futureResult.whenComplete { _ in timer.cancel() }
            case .failure(let error):
                promise.fail(ZooKeeperError(.connectionLoss, detail: "\(host): \(error)"))
            }
        }
        return promise.futureResult
    }

    /// Async form of ``send(_:to:eventLoop:timeout:)``.
    public static func send(
        _ word: String, to host: HostAndPort, eventLoopGroup: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws -> String {
        try await send(word, to: host, eventLoop: eventLoopGroup.next(), timeout: timeout).get()
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let word: String
        let promise: EventLoopPromise<String>
        var received = ByteBuffer()

        init(word: String, promise: EventLoopPromise<String>) {
            self.word = word
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            var buffer = context.channel.allocator.buffer(capacity: 4)
            buffer.writeString(word)
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = Self.unwrapInboundIn(data)
            received.writeBuffer(&chunk)
            if received.readableBytes > 16 * 1024 * 1024 {
                promise.fail(ZooKeeperError(.marshallingError, detail: "four-letter-word reply too large"))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.succeed(received.readString(length: received.readableBytes) ?? "")
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(ZooKeeperError(.connectionLoss, detail: "\(error)"))
            context.close(promise: nil)
        }
    }
}
