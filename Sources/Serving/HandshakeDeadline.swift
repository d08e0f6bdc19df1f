import NIOCore
import NIOTLS

/// Closes a connection whose TLS handshake has not completed within
/// ``ListenerLimits/handshakeTimeout`` of being accepted. The idle timeout alone would not do:
/// a client sending one byte of its handshake every few seconds is never idle.
///
/// It sits before the TLS handler, so that closing goes straight to the socket: closed through
/// NIOSSL, the connection would wait up to five seconds for the peer's close_notify, which a
/// client that never finished its handshake does not send. ``Watcher``, after the TLS handler,
/// sees the handshake complete and calls the deadline off.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let context: ListenerContext
    private var timer: Scheduled<Void>?

    init(context: ListenerContext) { self.context = context }

    func handlerAdded(context channelContext: ChannelHandlerContext) {
        let limit = self.context.limits.handshakeTimeout
        let listener = self.context
        let loopBound = NIOLoopBound(channelContext, eventLoop: channelContext.eventLoop)
        timer = channelContext.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            listener.metrics.refused("handshake_timeout")
            listener.logger.notice("closing a connection whose TLS handshake did not complete in time", metadata: [
                "listener": "\(listener.name)", "limit": "\(limit)", "peer": "\(loopBound.value.remoteAddress.map { "\($0)" } ?? "unknown")",
            ])
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func cancel() {
        timer?.cancel()
        timer = nil
    }

    /// After the TLS handler: the handshake completed, so the deadline is off.
    final class Watcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        private let deadline: HandshakeDeadline

        init(_ deadline: HandshakeDeadline) { self.deadline = deadline }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            context.fireUserInboundEventTriggered(event)
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
                deadline.cancel()
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        }
    }
}
