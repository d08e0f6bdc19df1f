import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.1 connection, after NIOHTTP1's request decoder. Every outcome is a
/// response; nothing throws past this handler.
///
/// The response (status line, headers and body) is written as one buffer, so TLS sends it as one
/// record with one write; NIOHTTP1's response encoder would send head and body as two. Requests
/// a client pipelines behind one still being answered off the event loop are held and answered in
/// order, as HTTP/1.1 requires; meanwhile the connection is not read, so what a client can
/// pipeline is bounded by the socket's buffers.
///
/// Bodies count against the listener's ``BufferBudget`` from their Content-Length on (or as they
/// arrive, when chunked) until their response is written. A body over the size limit is refused
/// (413) as soon as its length is known, one over the budget with 503; either way the connection
/// closes, so the rest of the body is never read.
final class HTTP1ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Incoming {
        var head: HTTPRequestHead
        var body: ByteBuffer
        /// Bytes taken from the budget for this body.
        var reserved: Int
        let started: ContinuousClock.Instant
    }

    /// Budget is taken in steps of at least this much for bodies of unknown length.
    private static let reservationStep = 64 * 1024

    private let listener: ListenerContext
    private let clock: HTTP1RequestClock
    private var incoming: Incoming?
    /// A response is being prepared off the event loop; later requests wait in `held`.
    private var answering = false
    /// Budget held by the request being answered off the event loop.
    private var answeringReserved = 0
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// The connection is closing (the client asked, a request was refused, or it was not HTTP).
    private var closing = false
    /// A read was asked for while a response was being prepared; it is done afterwards.
    private var readPending = false
    /// A flush is scheduled for the end of this event-loop iteration.
    private var flushPending = false
    /// The server is shutting down: the response under way is the last.
    private var quiescing = false

    init(listener: ListenerContext, clock: HTTP1RequestClock) {
        self.listener = listener
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if answering {
            held.append(part)
        } else {
            handle(part, context: context)
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        guard !closing else { return }
        switch part {
        case .head(let head):
            let started: ContinuousClock.Instant
            if case .head(let first, _) = clock.phase { started = first } else { started = .now }
            clock.phase = .body(started: started)
            let limit = listener.limits.maxBodyBytes
            let announced = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            if announced > limit {
                return refuse(.bodyTooLarge(limit: limit), head: head, context: context)
            }
            let reserve = max(announced, 0)
            guard listener.reserve(reserve) else { return refuse(.overBudget, head: head, context: context) }
            incoming = Incoming(head: head, body: ByteBuffer(), reserved: reserve, started: started)
            // A client that asked first (curl does for bodies over 1 MiB) is told to send the body
            // now, instead of waiting a second before sending it anyway.
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
        case .body(var part):
            guard var request = incoming else { return }
            incoming = nil  // keeps the buffer uniquely referenced while it grows
            let size = request.body.readableBytes + part.readableBytes
            if size > listener.limits.maxBodyBytes {
                listener.release(request.reserved)
                return refuse(.bodyTooLarge(limit: listener.limits.maxBodyBytes), head: request.head, context: context)
            }
            if size > request.reserved {
                let more = max(size - request.reserved, Self.reservationStep)
                guard listener.reserve(more) else {
                    listener.release(request.reserved)
                    return refuse(.overBudget, head: request.head, context: context)
                }
                request.reserved += more
            }
            if request.body.readableBytes == 0 {
                request.body = part  // usually the whole body arrives in one part: no copy
            } else {
                request.body.reserveCapacity(min(request.reserved, listener.limits.maxBodyBytes))
                request.body.writeBuffer(&part)
            }
            incoming = request
        case .end:
            guard let request = incoming else { return }
            incoming = nil
            clock.phase = .answering
            let head = request.head
            let served = ServerRequest(method: head.method.rawValue, target: head.uri, body: request.body, started: request.started)
            switch listener.endpoint.respond(to: served) {
            case .now(let response):
                listener.release(request.reserved)
                write(response, head: head, context: context)
            case .later(let work):
                answering = true
                answeringReserved = request.reserved
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                Task {
                    let response = await work()
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.finishLater(response, head: head, context: context)
                    }
                }
            }
        }
    }

    private func finishLater(_ response: ServerResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        answering = false
        listener.release(answeringReserved)
        answeringReserved = 0
        guard context.channel.isActive else { return }
        write(response, head: head, context: context)
        releaseHeld(context: context)
        if !answering, readPending {
            readPending = false
            context.read()
        }
    }

    /// No reading while a response is prepared off the event loop.
    func read(context: ChannelHandlerContext) {
        if answering {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Answers the requests that arrived while a response was being prepared, until one has to
    /// wait again.
    private func releaseHeld(context: ChannelHandlerContext) {
        while !answering, let part = held.popFirst() {
            handle(part, context: context)
        }
    }

    /// Answers a refused request and closes the connection after it: its body is never read.
    private func refuse(_ refusal: Refusal, head: HTTPRequestHead?, context: ChannelHandlerContext) {
        incoming = nil
        clock.phase = .answering
        let response = listener.refuse(refusal, target: head?.uri, peer: context.remoteAddress)
        closing = true
        var buffer = context.channel.allocator.buffer(capacity: 160 + response.body.readableBytes)
        Self.writeHead(status: response.status, version: head?.version ?? .http1_1, contentType: response.contentType,
                       contentLength: response.body.readableBytes, extraHeaders: response.extraHeaders, keepAlive: false, into: &buffer)
        buffer.writeImmutableBuffer(response.body)
        HTTP1ReadGuard.sendLast(buffer, clock: clock, context: context)
    }

    private func write(_ response: ServerResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive && !quiescing
        var buffer = context.channel.allocator.buffer(capacity: 160 + response.body.readableBytes)
        Self.writeHead(status: response.status, version: head.version, contentType: response.contentType, contentLength: response.body.readableBytes,
                       extraHeaders: response.extraHeaders, keepAlive: keepAlive, into: &buffer)
        buffer.writeImmutableBuffer(response.body)
        if keepAlive {
            clock.phase = .idle
            context.write(wrapOutboundOut(buffer), promise: nil)
            flushAtEndOfTick(context: context)
        } else {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Flushes once the event loop has handled every connection that was ready, instead of at
    /// once: under load the responses of one loop iteration then leave together, and a client
    /// waiting on many connections wakes once for them instead of once each (with one flush per
    /// response, the load generator in the benchmark spent 8 µs more per request being woken).
    private func flushAtEndOfTick(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushPending = false
            context.flush()
        }
    }

    /// The status line and headers of a response. HTTP/1.0 clients that asked to keep the
    /// connection are told it is kept; HTTP/1.1 keeps it unless told `connection: close`.
    static func writeHead(
        status: Int, version: HTTPVersion, contentType: String, contentLength: Int, extraHeaders: [(String, String)], keepAlive: Bool,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeString("HTTP/\(version.major).\(version.minor) \(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\r\n")
        buffer.writeString("content-type: ")
        buffer.writeString(contentType)
        buffer.writeString("\r\ncontent-length: ")
        buffer.writeString(String(contentLength))
        buffer.writeString("\r\n")
        for (name, value) in extraHeaders {
            buffer.writeString(name)
            buffer.writeString(": ")
            buffer.writeString(value)
            buffer.writeString("\r\n")
        }
        if !keepAlive {
            buffer.writeString("connection: close\r\n")
        } else if version.major == 1, version.minor == 0 {
            buffer.writeString("connection: keep-alive\r\n")
        }
        buffer.writeString("\r\n")
    }

    /// On shutdown an idle connection closes at once; one with a request under way closes after
    /// its response, which says `connection: close`.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is HTTP1RequestAbandoned {
            closing = true
            releaseAll()
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        if incoming == nil, !answering {
            closing = true
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request that is not HTTP gets an answer when no other response is due on the
        // connection; then, as for a broken connection, nothing more can be read from it.
        if let parserError = error as? HTTPParserError, !answering, !closing {
            if let request = incoming { listener.release(request.reserved) }
            let refusal: Refusal = parserError == .headerOverflow ? .headersTooLarge(limit: listener.limits.maxHeaderBytes) : .malformed
            return refuse(refusal, head: incoming?.head, context: context)
        }
        context.close(promise: nil)
    }

    /// Whatever budget the connection still holds goes back when it closes.
    func channelInactive(context: ChannelHandlerContext) {
        releaseAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseAll()
    }

    private func releaseAll() {
        if let request = incoming {
            listener.release(request.reserved)
            incoming = nil
        }
        held.removeAll()
    }
}
