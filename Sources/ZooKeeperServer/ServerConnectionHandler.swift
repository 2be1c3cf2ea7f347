import Logging
import NIOCore
import ZooKeeperProtocol
import ZooKeeperServerCore

/// One client connection. Only translates: bytes in → events for the ``ServerDriver``; the
/// driver writes the core's frames back through the channel.
///
/// ```
/// first 4 bytes ──┬─ a known four-letter word ──▶ answer (whitelist permitting), close
///                 └─ anything else: a frame length ──▶ ConnectRequest frame
///                                                      ──▶ RequestHeader + body frames …
/// ```
/// A negative or oversize length (above `jute.maxbuffer`), an undecodable ConnectRequest or
/// RequestHeader closes this connection only. Runs on the driver's event loop.
final class ServerConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// Waiting for the first 4 bytes (a length or a four-letter word).
        case awaitingFirstBytes
        /// Frames; `handshakeDone` once the ConnectRequest has been handed to the core.
        case frames(handshakeDone: Bool)
        /// Closed or closing: ignore input.
        case closed
    }

    private let driver: ServerDriver
    private var logger: Logger
    private var phase = Phase.awaitingFirstBytes
    private var cumulation: ByteBuffer?
    private var decoder: ZooKeeperFrameDecoder
    /// Set once the core knows about the connection.
    private(set) var connectionID: ConnectionID?
    private var handshakeTimer: Scheduled<Void>?

    init(driver: ServerDriver, maximumFrameLength: Int, logger: Logger) {
        self.driver = driver
        self.decoder = ZooKeeperFrameDecoder(maximumFrameLength: maximumFrameLength)
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let remote = context.remoteAddress.map(Self.describe) ?? "unknown"
        logger[metadataKey: "remote"] = "\(remote)"
        // Connections that never complete the handshake are closed (zookeeper.nio.sessionlessCnxnTimeout).
        let channel = context.channel
        let timeout = driver.settings.sessionlessConnectionTimeout
        handshakeTimer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout))) { [logger] in
            logger.info("closing a connection that sent no ConnectRequest within \(timeout) ms")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        phase = .closed
        if let connectionID {
            self.connectionID = nil
            driver.connectionClosed(connectionID)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if case .closed = phase { return }
        if cumulation == nil {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        process(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Backpressure: stop reading from a client whose replies pile up unread.
        let writable = context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: writable).whenFailure { _ in }
        if writable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error: \(error)")
        close(context: context)
    }

    /// Called by the driver when the core asks to close this connection.
    func closedByCore() {
        phase = .closed
    }

    private func process(context: ChannelHandlerContext) {
        guard var buffer = cumulation else { return }
        defer {
            if case .closed = phase {
                cumulation = nil
            } else if buffer.readableBytes == 0 {
                cumulation = nil
            } else {
                if buffer.readerIndex > 65536 { buffer.discardReadBytes() }
                cumulation = buffer
            }
        }
        loop: while true {
            switch phase {
            case .closed:
                return
            case .awaitingFirstBytes:
                guard let first = buffer.getSlice(at: buffer.readerIndex, length: 4) else { return }
                if let word = FourLetterWord(bytes: first.readableBytesView) {
                    // stmk carries an 8-byte mask after the word.
                    if word == .stmk && buffer.readableBytes < 12 { return }
                    buffer.moveReaderIndex(forwardBy: 4)
                    let argument = word == .stmk ? buffer.readInteger(as: Int64.self) : nil
                    answer(word, argument: argument, context: context)
                    return
                }
                if first.getInteger(at: first.readerIndex, as: UInt32.self) == 0xfff4_fffd {
                    close(context: context)  // telnet interrupt: no command
                    return
                }
                phase = .frames(handshakeDone: false)
                guard let id = driver.connectionOpened(handler: self, channel: context.channel, remoteAddress: context.remoteAddress) else {
                    return  // the core closed it (maxClientCnxns)
                }
                connectionID = id
            case .frames(let handshakeDone):
                guard let connectionID else { return }
                let frame: ByteBuffer
                do {
                    guard let next = try decoder.nextFrame(from: &buffer) else { return }
                    frame = next
                } catch {
                    logger.warning("closing the connection: \(error)")
                    close(context: context)
                    return
                }
                if !handshakeDone {
                    var body = frame
                    let request: ConnectRequest
                    do {
                        request = try ConnectRequest(from: &body)
                    } catch {
                        logger.warning("closing the connection: malformed ConnectRequest (\(error))")
                        close(context: context)
                        return
                    }
                    handshakeTimer?.cancel()
                    handshakeTimer = nil
                    phase = .frames(handshakeDone: true)
                    driver.connectRequestReceived(connectionID, request)
                } else {
                    var body = frame
                    let header: RequestHeader
                    do {
                        header = try RequestHeader(from: &body)
                    } catch {
                        logger.warning("closing the connection: malformed request header (\(error))")
                        close(context: context)
                        return
                    }
                    driver.requestReceived(connectionID, header: header, body: body)
                }
                continue loop
            }
        }
    }

    private func answer(_ word: FourLetterWord, argument: Int64?, context: ChannelHandlerContext) {
        phase = .closed
        handshakeTimer?.cancel()
        let text = driver.fourLetterWord(word, argument: argument)
        logger.debug("four-letter word \(word.rawValue)")
        let channel = context.channel
        var reply = context.channel.allocator.buffer(capacity: text.utf8.count)
        reply.writeString(text)
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func close(context: ChannelHandlerContext) {
        phase = .closed
        context.close(promise: nil)
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4:
            return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6:
            return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket:
            return address.description
        }
    }
}
