import NIOCore
import NIOHPACK
import NIOHTTP2

/// Serves one HTTP/2 connection, frame by frame on the connection's own pipeline. Each stream is
/// one request; streams are kept in a dictionary rather than given a child channel each, because
/// setting up a channel per request cost more than answering it.
///
/// Memory is bounded per connection and per listener: a stream's body counts against both
/// budgets from its content-length on (or as it arrives), and a stream that would exceed either is
/// reset with REFUSED_STREAM, which clients retry, before its body is buffered. A body over the
/// size limit is answered 413 at once, then reset with NO_ERROR so the client stops sending it.
/// A stream not received whole within ``ListenerLimits/requestTimeout`` is answered 408 and reset.
///
/// Flow control: each stream's credit is granted as its body is consumed; the connection's credit
/// follows NIOHTTP2's own accounting of the connection window (which includes frames of streams
/// already reset), so no refused stream can leak it.
final class HTTP2ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private struct Incoming {
        var path: String
        var method: String
        var body = ByteBuffer()
        /// Bytes taken from both budgets for this body.
        var reserved: Int
        /// Body bytes not yet given back to the client as stream flow-control credit.
        var unacknowledged = 0
        let started: ContinuousClock.Instant
    }

    /// Credit is returned once this much of a window has been consumed (half the default window).
    private static let windowUpdateThreshold = 32_768
    /// The connection window NIOHTTP2 starts with (the protocol default), kept full.
    private static let connectionWindow = 65_535
    /// Budget is taken in steps of at least this much for bodies of unknown length.
    private static let reservationStep = 64 * 1024

    private let listener: ListenerContext
    private var streams: [HTTP2StreamID: Incoming] = [:]
    /// Bytes this connection holds against ``ListenerLimits/maxBufferedBytesPerConnection``,
    /// including bodies whose answers are being prepared.
    private var connectionReserved = 0
    private var deadline: Scheduled<Void>?
    private var inactive = false

    init(listener: ListenerContext) {
        self.listener = listener
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers):
            if streams[frame.streamID] == nil {
                let path = headers.headers.first(name: ":path") ?? ""
                let announced = headers.headers.first(name: "content-length").flatMap(Int.init) ?? 0
                if announced > listener.limits.maxBodyBytes {
                    return answerEarly(.bodyTooLarge(limit: listener.limits.maxBodyBytes), path: path, on: frame.streamID, context: context)
                }
                let reserve = max(announced, 0)
                guard reserveBudget(reserve) else { return refuseStream(frame.streamID, path: path, context: context) }
                streams[frame.streamID] = Incoming(path: path, method: headers.headers.first(name: ":method") ?? "", reserved: reserve, started: .now)
                armDeadline(context: context)
            }
            // A second HEADERS frame is a trailer block: it only ends the request.
            if headers.endStream { respond(to: frame.streamID, context: context) }
        case .data(let payload):
            guard var request = streams.removeValue(forKey: frame.streamID) else { return }
            let length = payload.data.readableBytes + (payload.paddingBytes ?? 0)
            if case .byteBuffer(var part) = payload.data {
                let size = request.body.readableBytes + part.readableBytes
                if size > listener.limits.maxBodyBytes {
                    releaseBudget(request.reserved)
                    return answerEarly(.bodyTooLarge(limit: listener.limits.maxBodyBytes), path: request.path, on: frame.streamID, context: context)
                }
                if size > request.reserved {
                    let more = max(size - request.reserved, Self.reservationStep)
                    guard reserveBudget(more) else {
                        releaseBudget(request.reserved)
                        return refuseStream(frame.streamID, path: request.path, context: context)
                    }
                    request.reserved += more
                }
                if request.body.readableBytes == 0 {
                    request.body = part
                } else {
                    request.body.reserveCapacity(min(request.reserved, listener.limits.maxBodyBytes))
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
            if let request = streams.removeValue(forKey: frame.streamID) { releaseBudget(request.reserved) }
        default:
            // SETTINGS, PING, GOAWAY, WINDOW_UPDATE and PRIORITY are NIOHTTP2Handler's business.
            break
        }
    }

    /// Keeps the connection window open: NIOHTTP2 reports it after every DATA frame, those of
    /// streams already reset included.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let update = event as? NIOHTTP2WindowUpdatedEvent, update.streamID == .rootStream, let window = update.inboundWindowSize,
            window <= Self.connectionWindow - Self.windowUpdateThreshold
        {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: Self.connectionWindow - window))), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    // MARK: Budgets

    /// Takes `bytes` from the connection's and the listener's budgets, or from neither.
    private func reserveBudget(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        guard connectionReserved + bytes <= listener.limits.maxBufferedBytesPerConnection, listener.reserve(bytes) else { return false }
        connectionReserved += bytes
        return true
    }

    private func releaseBudget(_ bytes: Int) {
        guard bytes > 0 else { return }
        connectionReserved -= bytes
        listener.release(bytes)
    }

    // MARK: Answering

    private func respond(to streamID: HTTP2StreamID, context: ChannelHandlerContext) {
        guard let request = streams.removeValue(forKey: streamID) else { return }
        let served = ServerRequest(method: request.method, target: request.path, body: request.body, started: request.started)
        switch listener.endpoint.respond(to: served) {
        case .now(let response):
            releaseBudget(request.reserved)
            write(response, on: streamID, context: context)
        case .later(let work):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let reserved = request.reserved
            Task {
                let response = await work()
                loop.execute {
                    let (handler, context) = bound.value
                    handler.releaseBudget(reserved)
                    guard !handler.inactive else { return }
                    handler.write(response, on: streamID, context: context)
                    context.flush()
                }
            }
        }
    }

    private func write(_ response: ServerResponse, on streamID: HTTP2StreamID, context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        var headers = HPACKHeaders()
        headers.reserveCapacity(3 + response.extraHeaders.count)
        headers.add(name: ":status", value: String(response.status))
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.readableBytes))
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers)))), promise: nil)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(response.body), endStream: true)))), promise: promise)
    }

    /// Answers a stream before its request has arrived whole, then tells the client to stop
    /// sending it (RST_STREAM NO_ERROR, as RFC 9113 §8.1 allows).
    private func answerEarly(_ refusal: Refusal, path: String, on streamID: HTTP2StreamID, context: ChannelHandlerContext) {
        let response = listener.refuse(refusal, target: path, peer: context.remoteAddress)
        // NIOHTTP2 holds DATA frames for flow control but sends RST_STREAM at once, dropping what
        // it held: the reset waits until the response has gone out.
        let written = context.eventLoop.makePromise(of: Void.self)
        write(response, on: streamID, context: context, promise: written)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        written.futureResult.whenSuccess {
            let (handler, context) = bound.value
            context.writeAndFlush(handler.wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .rstStream(.noError))), promise: nil)
        }
    }

    /// Refuses a stream for want of buffer budget: REFUSED_STREAM tells the client that nothing was
    /// processed, so it may retry (Go's HTTP/2 client, kube-apiserver's, does).
    private func refuseStream(_ streamID: HTTP2StreamID, path: String, context: ChannelHandlerContext) {
        _ = listener.refuse(.overBudget, target: path, peer: context.remoteAddress)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .rstStream(.refusedStream))), promise: nil)
    }

    // MARK: Deadlines

    /// One timer per connection, at the oldest open stream's deadline.
    private func armDeadline(context: ChannelHandlerContext) {
        guard deadline == nil, let oldest = streams.values.map(\.started).min() else { return }
        let due = oldest + listener.limits.requestTimeout
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(max(.zero, due - .now))) {
            let (handler, context) = bound.value
            handler.deadline = nil
            handler.expireStreams(context: context)
        }
    }

    private func expireStreams(context: ChannelHandlerContext) {
        let now = ContinuousClock.now
        let limit = listener.limits.requestTimeout
        for (streamID, request) in streams where now - request.started >= limit {
            streams.removeValue(forKey: streamID)
            releaseBudget(request.reserved)
            answerEarly(.requestTimeout(limit), path: request.path, on: streamID, context: context)
        }
        context.flush()
        armDeadline(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        deadline?.cancel()
        deadline = nil
        for request in streams.values { releaseBudget(request.reserved) }
        streams = [:]
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A stream-level error (a reset stream, a flow-control mistake of the client) has already
        // been answered by NIOHTTP2Handler; connection-level ones close the connection there.
        context.fireErrorCaught(error)
    }
}
