import NIOCore
import NIOTLS

/// Closes a connection whose TLS handshake has not completed within
/// ``ListenerLimits/handshakeTimeout`` of being accepted. The idle timeout alone would not do:
/// a client sending one byte of its handshake every few seconds is never idle.
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
        timer?.cancel()
        timer = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            timer?.cancel()
            timer = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
