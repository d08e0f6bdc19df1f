import NIOCore

/// Closes a connection on which nothing was read or written for the idle timeout (after NIO's
/// `IdleStateHandler`): a client that never finishes its TLS handshake, an HTTP/1.1 keep-alive
/// connection left open, a vanished peer. Without it every such connection holds a file
/// descriptor until the process runs out of them.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
