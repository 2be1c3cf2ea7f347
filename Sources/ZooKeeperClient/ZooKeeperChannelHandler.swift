import NIOCore
import NIOSSL
import ZooKeeperProtocol

/// Translates one TCP connection's frames for the ``SessionDriver``: the first inbound frame is the
/// ConnectResponse, every later one a reply header plus body. It keeps no protocol state.
final class ZooKeeperChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let driver: SessionDriver
    private let connectionID: Int
    private var handshakeDone = false

    init(driver: SessionDriver, connectionID: Int) {
        self.driver = driver
        self.connectionID = connectionID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = Self.unwrapInboundIn(data)
        if !handshakeDone {
            handshakeDone = true
            do {
                let response = try ConnectResponse(from: &frame)
                driver.connectResponseReceived(response, connectionID: connectionID)
            } catch {
                driver.connectionFailed(connectionID: connectionID, reason: "malformed handshake reply: \(error)")
                context.close(promise: nil)
            }
            return
        }
        do {
            let header = try ReplyHeader(from: &frame)
            driver.replyReceived(header, body: frame, connectionID: connectionID)
        } catch {
            driver.connectionFailed(connectionID: connectionID, reason: "malformed reply: \(error)")
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        driver.flushIfNeeded(connectionID: connectionID)
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver.connectionFailed(connectionID: connectionID, reason: "connection closed by server")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = error is NIOSSLError || error is NIOSSLExtraError ? SessionDriver.describe(error) : "\(error)"
        driver.connectionFailed(connectionID: connectionID, reason: reason)
        context.close(promise: nil)
    }
}
