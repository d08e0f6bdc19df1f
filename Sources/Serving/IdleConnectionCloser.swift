import NIOCore

/// Closes a connection on which nothing was read or written for the idle timeout (after NIO's
/// `IdleStateHandler`, which is set to half of it): a client that never finishes its TLS
/// handshake, an HTTP/1.1 keep-alive connection left open, a vanished peer. Without it every such
/// connection holds a file descriptor until the process runs out of them.
///
/// At half the timeout the idle event is passed on, so an HTTP/2 connection can send GOAWAY
/// first (``HTTP2IdleGoAway``); at the full timeout the connection is closed.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private var halfwayPassed = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            if halfwayPassed {
                context.close(promise: nil)
                return
            }
            halfwayPassed = true
        }
        context.fireUserInboundEventTriggered(event)
    }
}
