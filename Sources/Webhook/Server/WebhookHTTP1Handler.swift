import NIOCore
import NIOHTTP1

/// Serves the webhook over one HTTP/1.1 connection, after NIOHTTP1's request decoder. Every
/// outcome is a response; nothing throws past this handler.
///
/// The response (status line, headers and body) is written as one buffer, so TLS sends it as one
/// record with one write; NIOHTTP1's response encoder would send head and body as two. Requests
/// a client pipelines behind one still waiting for the API server are held and answered in
/// order, as HTTP/1.1 requires; meanwhile the connection is not read, so what a client can
/// pipeline is bounded by the socket's buffers.
final class WebhookHTTP1Handler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Incoming {
        var head: HTTPRequestHead
        var body: ByteBuffer
        /// The Content-Length, capped at the limit, to size the buffer once.
        let announced: Int
        var tooLarge = false
        let started: ContinuousClock.Instant
    }

    private let exchange: WebhookExchange
    private var incoming: Incoming?
    /// A response is being prepared off the event loop; later requests wait in `held`.
    private var answering = false
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// The connection is closing (the client asked, or its request could not be parsed).
    private var closing = false
    /// A read was asked for while a response was being prepared; it is done afterwards.
    private var readPending = false
    /// A flush is scheduled for the end of this event-loop iteration.
    private var flushPending = false
    /// The server is shutting down: the response under way is the last.
    private var quiescing = false

    init(exchange: WebhookExchange) {
        self.exchange = exchange
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
            let announced = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            let limit = exchange.maxBodyBytes
            incoming = Incoming(head: head, body: ByteBuffer(), announced: min(max(announced, 0), limit), tooLarge: announced > limit, started: .now)
        case .body(var part):
            guard var request = incoming, !request.tooLarge else { return }
            incoming = nil  // keeps the buffer uniquely referenced while it grows
            if request.body.readableBytes + part.readableBytes > exchange.maxBodyBytes {
                request.tooLarge = true
                request.body = ByteBuffer()
            } else if request.body.readableBytes == 0 {
                request.body = part  // usually the whole body arrives in one part: no copy
            } else {
                request.body.reserveCapacity(max(request.announced, request.body.readableBytes + part.readableBytes))
                request.body.writeBuffer(&part)
            }
            incoming = request
        case .end:
            guard let request = incoming else { return }
            incoming = nil
            let head = request.head
            switch exchange.answer(target: head.uri, isPost: head.method == .POST, body: request.body, tooLarge: request.tooLarge, started: request.started) {
            case .now(let response):
                write(response, head: head, context: context)
            case .later(let pending):
                answering = true
                exchange.finishLater(pending, on: context.eventLoop) { response in
                    self.answering = false
                    self.write(response, head: head, context: context)
                    self.releaseHeld(context: context)
                    if !self.answering, self.readPending {
                        self.readPending = false
                        context.read()
                    }
                }
            }
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

    private func write(_ response: WebhookExchange.Response, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive && !quiescing
        var buffer = context.channel.allocator.buffer(capacity: 160 + response.body.count)
        Self.writeHead(status: response.status, version: head.version, contentType: response.contentType, contentLength: response.body.count,
                       extraHeaders: response.extraHeaders, keepAlive: keepAlive, into: &buffer)
        buffer.writeBytes(response.body)
        if keepAlive {
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
        // A request that is not HTTP gets a 400 when no other response is due on the connection;
        // then, as for a broken connection, nothing more can be read from it.
        if error is HTTPParserError, !answering, !closing {
            closing = true
            var buffer = context.channel.allocator.buffer(capacity: 128)
            let message = "the request is not valid HTTP/1.1\n"
            Self.writeHead(status: 400, version: .http1_1, contentType: "text/plain; charset=utf-8", contentLength: message.utf8.count,
                           extraHeaders: [], keepAlive: false, into: &buffer)
            buffer.writeString(message)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.close(promise: nil)
    }
}
