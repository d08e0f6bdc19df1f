import NIOCore
import NIOHTTP1

/// Serves the webhook over one HTTP/1.1 connection (after NIOHTTP1's pipelining handler, so
/// requests come one at a time). Every outcome is a response; nothing throws past this handler.
final class WebhookHTTP1Handler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

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

    init(exchange: WebhookExchange) {
        self.exchange = exchange
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
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
                exchange.finishLater(pending, on: context.eventLoop) { response in self.write(response, head: head, context: context) }
            }
        }
    }

    private func write(_ response: WebhookExchange.Response, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        var headers = HTTPHeaders()
        headers.reserveCapacity(3 + response.extraHeaders.count)
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A broken connection or malformed framing: nothing sensible can be answered on it.
        context.close(promise: nil)
    }
}
