import NIOCore
import NIOHPACK
import NIOHTTP2

/// Serves the webhook over one HTTP/2 connection, frame by frame on the connection's own
/// pipeline. Each stream is one request; streams are kept in a dictionary rather than given a
/// child channel each, because setting up a channel per request cost more than answering it.
/// The handler grants flow-control credit itself as it consumes request bodies.
final class WebhookHTTP2Handler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private struct Incoming {
        var path: String
        var method: String
        var body = ByteBuffer()
        var announced: Int
        var tooLarge: Bool
        /// Body bytes not yet given back to the client as stream flow-control credit.
        var unacknowledged = 0
        let started: ContinuousClock.Instant
    }

    /// Credit is returned once this much of a window has been consumed (half the default window).
    private static let windowUpdateThreshold = 32_768

    private let exchange: WebhookExchange
    private var streams: [HTTP2StreamID: Incoming] = [:]
    /// Body bytes not yet given back as connection flow-control credit.
    private var connectionUnacknowledged = 0

    init(exchange: WebhookExchange) {
        self.exchange = exchange
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers):
            if streams[frame.streamID] == nil {
                let announced = headers.headers.first(name: "content-length").flatMap(Int.init) ?? 0
                streams[frame.streamID] = Incoming(
                    path: headers.headers.first(name: ":path") ?? "", method: headers.headers.first(name: ":method") ?? "",
                    announced: min(max(announced, 0), exchange.maxBodyBytes), tooLarge: announced > exchange.maxBodyBytes, started: .now)
            }
            // A second HEADERS frame is a trailer block: it only ends the request.
            if headers.endStream { respond(to: frame.streamID, context: context) }
        case .data(let payload):
            let length = payload.data.readableBytes + (payload.paddingBytes ?? 0)
            grantConnectionCredit(length, context: context)
            guard var request = streams.removeValue(forKey: frame.streamID) else { return }
            if case .byteBuffer(var part) = payload.data, !request.tooLarge {
                if request.body.readableBytes + part.readableBytes > exchange.maxBodyBytes {
                    request.tooLarge = true
                    request.body = ByteBuffer()
                } else if request.body.readableBytes == 0 {
                    request.body = part
                } else {
                    request.body.reserveCapacity(max(request.announced, request.body.readableBytes + part.readableBytes))
                    request.body.writeBuffer(&part)
                }
            }
            if payload.endStream {
                streams[frame.streamID] = request
                respond(to: frame.streamID, context: context)
                return
            }
            request.unacknowledged += length
            if request.unacknowledged >= Self.windowUpdateThreshold {
                context.write(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .windowUpdate(windowSizeIncrement: request.unacknowledged))), promise: nil)
                request.unacknowledged = 0
            }
            streams[frame.streamID] = request
        case .rstStream:
            streams.removeValue(forKey: frame.streamID)
        default:
            // SETTINGS, PING, GOAWAY, WINDOW_UPDATE and PRIORITY are NIOHTTP2Handler's business.
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private func grantConnectionCredit(_ length: Int, context: ChannelHandlerContext) {
        connectionUnacknowledged += length
        if connectionUnacknowledged >= Self.windowUpdateThreshold {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionUnacknowledged))), promise: nil)
            connectionUnacknowledged = 0
        }
    }

    private func respond(to streamID: HTTP2StreamID, context: ChannelHandlerContext) {
        guard let request = streams.removeValue(forKey: streamID) else { return }
        let outcome = exchange.answer(target: request.path, isPost: request.method == "POST", body: request.body, tooLarge: request.tooLarge, started: request.started)
        switch outcome {
        case .now(let response):
            write(response, on: streamID, context: context)
        case .later(let pending):
            exchange.finishLater(pending, on: context.eventLoop) { response in
                self.write(response, on: streamID, context: context)
                context.flush()
            }
        }
    }

    private func write(_ response: WebhookExchange.Response, on streamID: HTTP2StreamID, context: ChannelHandlerContext) {
        var headers = HPACKHeaders()
        headers.reserveCapacity(3 + response.extraHeaders.count)
        headers.add(name: ":status", value: String(response.status))
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers)))), promise: nil)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(buffer), endStream: true)))), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream-level error (a reset stream, a flow-control mistake of the client) has already
        // been answered by NIOHTTP2Handler; connection-level ones close the connection there.
        context.fireErrorCaught(error)
    }
}
