import NIOCore

/// Gathers the buffers written between two flushes into one, just before TLS. NIOHTTP2 writes
/// every frame, and a DATA frame's header and payload, as separate buffers, and NIOSSL makes a TLS
/// record of each: three records (and three decryptions for the client) for one answer. Copying
/// the few hundred bytes into one buffer is much cheaper than the records.
final class WriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The bytes gathered since the last flush. The storage is reused: by the next write, TLS has
    /// taken what was flushed and this is the only reference left.
    private var gathered: ByteBuffer?
    private var hasPending = false
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            // A file region: what came before it goes first, unchanged in order.
            writePending(context: context)
            context.write(data, promise: promise)
            return
        }
        if !hasPending {
            hasPending = true
            if gathered == nil {
                gathered = context.channel.allocator.buffer(capacity: max(1024, buffer.readableBytes))
            } else {
                gathered!.clear()
            }
        }
        gathered!.writeBuffer(&buffer)
        if let promise { promises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input { failPending(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed from a live pipeline: what was gathered still goes out.
        writePending(context: context)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard hasPending, let buffer = gathered else { return }
        hasPending = false
        let promise: EventLoopPromise<Void>?
        switch promises.count {
        case 0:
            promise = nil
        case 1:
            promise = promises[0]
        default:
            let all = context.eventLoop.makePromise(of: Void.self)
            for waiting in promises { all.futureResult.cascade(to: waiting) }
            promise = all
        }
        promises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }

    private func failPending(_ error: any Error) {
        hasPending = false
        let failed = promises
        promises.removeAll()
        for promise in failed { promise.fail(error) }
    }
}
