import NIOCore
import NIOEmbedded
import Testing
@testable import Serving

/// What NIOHTTP2 writes between two flushes reaches TLS as one buffer, in order, and every
/// write's promise is kept.
@Suite("WriteCoalescer")
struct WriteCoalescerTests {
    @Test("writes between flushes leave as one buffer; promises complete when it is written")
    func gathersUntilFlush() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        defer { _ = try? channel.finish() }
        let first = channel.eventLoop.makePromise(of: Void.self)
        let second = channel.eventLoop.makePromise(of: Void.self)
        let done = Record<[Int]>([])
        first.futureResult.whenSuccess { done.value.append(1) }
        second.futureResult.whenSuccess { done.value.append(2) }
        for (part, promise) in [("HEADERS|", first), ("DATA-HEADER|", nil), ("payload", second)] as [(String, EventLoopPromise<Void>?)] {
            channel.write(IOData.byteBuffer(ByteBuffer(string: part)), promise: promise)
        }
        #expect(try channel.readOutbound(as: IOData.self) == nil, "nothing leaves before the flush")
        channel.flush()
        guard case .byteBuffer(let written)? = try channel.readOutbound(as: IOData.self) else {
            Issue.record("no buffer after the flush")
            return
        }
        #expect(String(buffer: written) == "HEADERS|DATA-HEADER|payload")
        #expect(try channel.readOutbound(as: IOData.self) == nil, "one buffer only")
        #expect(done.value.sorted() == [1, 2])

        // The next round starts empty (the storage is reused, not the bytes).
        channel.write(IOData.byteBuffer(ByteBuffer(string: "next")), promise: nil)
        channel.flush()
        guard case .byteBuffer(let again)? = try channel.readOutbound(as: IOData.self) else {
            Issue.record("no buffer after the second flush")
            return
        }
        #expect(String(buffer: again) == "next")
    }

    @Test("a flush with nothing written writes nothing; closing fails writes never flushed")
    func emptyFlushAndClose() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        channel.flush()
        #expect(try channel.readOutbound(as: IOData.self) == nil)
        let lost = channel.eventLoop.makePromise(of: Void.self)
        let failed = Record(false)
        lost.futureResult.whenFailure { _ in failed.value = true }
        channel.write(IOData.byteBuffer(ByteBuffer(string: "never flushed")), promise: lost)
        _ = try? channel.finish()
        #expect(failed.value)
    }
}

/// A value an EmbeddedChannel's callbacks change; they run on the test's own thread.
final class Record<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
