import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.1 connection or one HTTP/2 stream: POST on the webhook path, answered by
/// the ``AdmissionHandler`` on this event loop when memory holds everything (the common case),
/// or after a fetch from the API server otherwise. Every outcome is a response; nothing throws
/// past this handler.
final class WebhookChannelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Incoming {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var tooLarge = false
        let started: ContinuousClock.Instant
    }

    private let path: String
    private let maxBodyBytes: Int
    private let handler: AdmissionHandler
    /// HTTP/2 streams carry no connection headers and end with the response.
    private let isHTTP2: Bool
    private var incoming: Incoming?

    init(path: String, maxBodyBytes: Int, handler: AdmissionHandler, isHTTP2: Bool) {
        self.path = path
        self.maxBodyBytes = maxBodyBytes
        self.handler = handler
        self.isHTTP2 = isHTTP2
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let announced = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            let capacity = min(max(announced, 0), maxBodyBytes)
            incoming = Incoming(head: head, body: context.channel.allocator.buffer(capacity: capacity), tooLarge: announced > maxBodyBytes, started: .now)
        case .body(var part):
            guard var request = incoming, !request.tooLarge else { return }
            incoming = nil  // keeps the buffer uniquely referenced while it grows
            if request.body.readableBytes + part.readableBytes > maxBodyBytes {
                request.tooLarge = true
                request.body.clear()
            } else {
                request.body.writeBuffer(&part)
            }
            incoming = request
        case .end:
            guard let request = incoming else { return }
            incoming = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: Incoming, context: ChannelHandlerContext) {
        let head = request.head
        // kube-apiserver appends ?timeout=10s to the configured path.
        let requestPath = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        guard requestPath == path else {
            return write(status: .notFound, contentType: "text/plain; charset=utf-8",
                         body: Array("no such path \(requestPath); the admission webhook serves POST \(path)\n".utf8), head: head, context: context)
        }
        guard head.method == .POST else {
            return write(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                         body: Array("\(path) accepts POST with an AdmissionReview\n".utf8), head: head, extra: [("allow", "POST")], context: context)
        }
        if request.tooLarge {
            return write(handler.recordRejected(.bodyTooLarge(limit: maxBodyBytes), since: request.started), head: head, context: context)
        }
        switch handler.reviewNow(request.body.readableBytesView, started: request.started) {
        case .answered(let answer):
            write(answer, head: head, context: context)
        case .waiting(let pending):
            // Rare: a cache miss. Fetch off the event loop, answer back on it.
            let handler = self.handler
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            Task {
                let answer = await handler.finish(pending)
                loop.execute {
                    let (this, context) = bound.value
                    this.write(answer, head: head, context: context)
                }
            }
        }
    }

    private func write(_ answer: AdmissionHandler.Answer, head: HTTPRequestHead, context: ChannelHandlerContext) {
        write(status: HTTPResponseStatus(statusCode: answer.httpStatus), contentType: "application/json", body: answer.body, head: head, context: context)
    }

    private func write(
        status: HTTPResponseStatus, contentType: String, body: [UInt8], head: HTTPRequestHead, extra: [(String, String)] = [],
        context: ChannelHandlerContext
    ) {
        let keepAlive = isHTTP2 || head.isKeepAlive
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
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
