import NIOCore

/// Where the request being read on an HTTP/1.1 connection stands, shared by the
/// ``HTTP1ReadGuard`` before the decoder (which sees bytes) and the ``HTTP1ConnectionHandler``
/// after it (which sees requests). Both live on the connection's event loop.
final class HTTP1RequestClock {
    enum Phase {
        /// Between requests: the next byte starts one.
        case idle
        /// Reading the request line and headers since `started`; `bytes` so far.
        case head(started: ContinuousClock.Instant, bytes: Int)
        /// Headers read; reading the body of the request that started at `started`.
        case body(started: ContinuousClock.Instant)
        /// The request is complete and being answered: no deadline runs.
        case answering
        /// A refusal was sent and the connection is closing: what the client still sends (the
        /// body of a refused request) is read and dropped, so that closing with unread bytes
        /// does not make the kernel reset the connection before the client reads the refusal.
        case discarding
    }

    var phase = Phase.idle
}

/// Tells the handler after the decoder that the request being read was refused.
struct HTTP1RequestAbandoned {}

/// Enforces the read deadlines and the header size of HTTP/1.1 requests, before NIOHTTP1's
/// decoder. A request's headers must arrive within ``ListenerLimits/headerTimeout`` of its first
/// byte and in at most ``ListenerLimits/maxHeaderBytes``; the whole request within
/// ``ListenerLimits/requestTimeout``. A client that dribbles bytes is answered (408 or 431) and
/// disconnected; the idle timeout alone would never fire for it.
///
/// One timer per connection, armed only while a request is being read.
final class HTTP1ReadGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let clock: HTTP1RequestClock
    private let listener: ListenerContext
    private var timer: Scheduled<Void>?
    private var refused = false

    init(clock: HTTP1RequestClock, listener: ListenerContext) {
        self.clock = clock
        self.listener = listener
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        if case .discarding = clock.phase { return }
        let count = unwrapInboundIn(data).readableBytes
        switch clock.phase {
        case .idle:
            clock.phase = .head(started: .now, bytes: count)
            arm(context: context)
        case .head(let started, let bytes):
            clock.phase = .head(started: started, bytes: bytes + count)
        case .body, .answering, .discarding:
            break
        }
        context.fireChannelRead(data)
        // The decoder has now seen these bytes: if they completed the headers, the handler moved
        // the clock on and the body bytes among them are not counted as headers.
        if case .head(_, let bytes) = clock.phase, bytes > listener.limits.maxHeaderBytes {
            refuse(.headersTooLarge(limit: listener.limits.maxHeaderBytes), context: context)
        }
    }

    private func arm(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let deadline: ContinuousClock.Instant
        switch clock.phase {
        // The request deadline may come first when it is set shorter than the header deadline.
        case .head(let started, _): deadline = started + min(listener.limits.headerTimeout, listener.limits.requestTimeout)
        case .body(let started): deadline = started + listener.limits.requestTimeout
        case .idle, .answering, .discarding: return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(max(.zero, deadline - .now))) {
            let (guardHandler, context) = bound.value
            guardHandler.timer = nil
            guardHandler.check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        let now = ContinuousClock.now
        switch clock.phase {
        case .head(let started, _) where now - started >= listener.limits.headerTimeout:
            refuse(.headerTimeout(listener.limits.headerTimeout), context: context)
        case .body(let started) where now - started >= listener.limits.requestTimeout:
            refuse(.requestTimeout(listener.limits.requestTimeout), context: context)
        default:
            arm(context: context)
        }
    }

    /// Answers the refusal (the connection's last response) and closes.
    private func refuse(_ refusal: Refusal, context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        let response = listener.refuse(refusal, target: nil, peer: context.remoteAddress)
        var buffer = context.channel.allocator.buffer(capacity: 160 + response.body.readableBytes)
        HTTP1ConnectionHandler.writeHead(
            status: response.status, version: .http1_1, contentType: response.contentType, contentLength: response.body.readableBytes,
            extraHeaders: response.extraHeaders, keepAlive: false, into: &buffer)
        buffer.writeImmutableBuffer(response.body)
        Self.sendLast(buffer, clock: clock, context: context)
        // The request half read is abandoned: its handler gives back what it holds now, not
        // when the connection finally closes.
        context.fireUserInboundEventTriggered(HTTP1RequestAbandoned())
    }

    /// How long a connection is kept reading (and dropping) after its last response, at most.
    static let lingerTime: TimeAmount = .seconds(2)

    /// Writes a connection's last response, then closes it without losing the response: the
    /// client may still be sending (the body of a request refused for its size), and closing a
    /// socket with unread bytes resets the connection, taking the unread response with it. So
    /// the connection stops writing, drops what arrives for up to ``lingerTime``, then closes.
    static func sendLast(_ buffer: ByteBuffer, clock: HTTP1RequestClock, context: ChannelHandlerContext) {
        clock.phase = .discarding
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: lingerTime) { channel.close(promise: nil) }
        }
    }

    /// The client closed its side: nothing more to drop.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .discarding = clock.phase, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
