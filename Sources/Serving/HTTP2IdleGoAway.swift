import NIOCore

/// Turns the idle event of an HTTP/2 connection (half the idle timeout, from
/// ``IdleConnectionCloser``) into a request to quiesce, so the connection manager after it sends
/// GOAWAY and closes once the streams are done. (The manager could time idleness itself, but it
/// re-arms a timer for every stream, which cost 4 % of the CPU under load.)
final class HTTP2IdleGoAway: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
