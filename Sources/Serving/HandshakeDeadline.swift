import NIOCore
import NIOSSL
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

    let context: ListenerContext
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

    /// After the TLS handler: the handshake completed, so the deadline is off. With
    /// `allowedClientNames`, the client certificate (already verified against the client CA)
    /// must also carry one of them as its common name or a DNS name, or the connection closes
    /// before any HTTP is read.
    final class Watcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        private let deadline: HandshakeDeadline
        private let allowedClientNames: [String]

        init(_ deadline: HandshakeDeadline, allowedClientNames: [String] = []) {
            self.deadline = deadline
            self.allowedClientNames = allowedClientNames
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard let tls = event as? TLSUserEvent, case .handshakeCompleted = tls else {
                context.fireUserInboundEventTriggered(event)
                return
            }
            deadline.cancel()
            if !allowedClientNames.isEmpty {
                let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
                let names = peer.map(ClientNames.names(of:)) ?? []
                guard ClientNames.allows(names, allowed: allowedClientNames) else {
                    let listener = deadline.context
                    listener.metrics.refused("client_name")
                    listener.logger.warning("refused a client whose certificate names none of the allowed clients", metadata: [
                        "listener": "\(listener.name)", "names": "\(names)", "allowed": "\(allowedClientNames)",
                        "peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")",
                    ])
                    context.close(promise: nil)
                    return
                }
            }
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
