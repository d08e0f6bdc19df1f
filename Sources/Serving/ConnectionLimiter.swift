import Logging
import NIOCore
import Synchronization

/// On a listening socket: counts the open connections and closes each one accepted beyond
/// ``ListenerLimits/maxConnections`` at once, before any TLS work is spent on it. (Pausing
/// accepts instead would let a flood of idle connections lock out the real callers until the
/// idle timeout; closing keeps the slots for connections that do work.)
final class ConnectionLimiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let context: ListenerContext
    private let open = Atomic<Int>(0)
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    init(context: ListenerContext) { self.context = context }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let count = open.add(1, ordering: .relaxed).newValue
        context.metrics.connectionsOpen(count)
        child.closeFuture.whenComplete { [self] _ in
            let remaining = open.subtract(1, ordering: .relaxed).newValue
            context.metrics.connectionsOpen(remaining)
        }
        guard count <= context.limits.maxConnections else {
            context.metrics.refused("connection_limit")
            warnAtMostEverySecond(count)
            child.close(promise: nil)
            return
        }
        channelContext.fireChannelRead(data)
    }

    /// A flood must not flood the log too.
    private func warnAtMostEverySecond(_ count: Int) {
        let now = ContinuousClock.now
        let due = lastWarning.withLock { last -> Bool in
            if let last, now - last < .seconds(1) { return false }
            last = now
            return true
        }
        if due {
            context.logger.warning("closing connections over the limit", metadata: [
                "listener": "\(context.name)", "open": "\(count)", "limit": "\(context.limits.maxConnections)",
            ])
        }
    }

    /// Connections open now (tests).
    var openConnections: Int { open.load(ordering: .relaxed) }
}
