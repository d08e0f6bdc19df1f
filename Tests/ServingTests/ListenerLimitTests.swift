import Foundation
import Metrics
import MetricsTestKit
import Serving
import TestSupport
import Testing

/// Every bound of ``ListenerLimits``, tried as a hostile client would: the listener answers or
/// disconnects, counts the refusal, gives back what it held, and keeps serving.
@Suite("Listener limits", .timeLimit(.minutes(2)), .requiresTools("curl", "nghttp", "openssl"))
struct ListenerLimitTests {
    static let request = "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello"

    func refusals(_ metrics: TestMetrics, _ reason: String) throws -> Int64 {
        try metrics.expectCounter("rebound_listener_refused_total", [("listener", "test"), ("reason", reason)]).totalValue
    }

    /// A normal request on a fresh connection is answered.
    func stillServes(_ listener: RunningListener) async throws {
        let connection = try await RawConnection.open(port: listener.port)
        await connection.send(Self.request.replacingOccurrences(of: "host: x", with: "host: x\r\nconnection: close"))
        let answer = await connection.readUntilClosed()
        #expect(answer?.contains("received 5 bytes") == true, "\(answer.map { "answer: [\($0)]" } ?? "no answer")")
    }

    @Test("connections beyond the cap are closed on accept; a slot freed is usable again")
    func connectionCap() async throws {
        var limits = ListenerLimits()
        limits.maxConnections = 3
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, tls: false, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            var open: [RawConnection] = []
            for _ in 0..<3 { open.append(try await RawConnection.open(port: listener.port)) }
            let extra = try await RawConnection.open(port: listener.port)
            #expect(await extra.readUntilClosed(timeout: .seconds(5)) == "", "the fourth connection is closed unanswered")
            #expect(try refusals(metrics, "connection_limit") == 1)
            // The three held ones still work.
            await open[0].send(Self.request)
            #expect(await open[0].hasAnswered(within: .seconds(5)))
            open.removeAll()
            try await Task.sleep(for: .milliseconds(200))
            try await stillServes(listener)
        }
    }

    @Test("a TLS handshake dribbled a byte at a time is cut off by the handshake deadline")
    func handshakeDeadline() async throws {
        var limits = ListenerLimits()
        limits.handshakeTimeout = .milliseconds(500)
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let connection = try await RawConnection.open(port: listener.port)
            let started = ContinuousClock.now
            // A TLS record header announcing a 300-byte handshake message, whose bytes then come slowly.
            await connection.send([0x16, 0x03, 0x01, 0x01, 0x2c])
            let sent = await connection.dribble(String(repeating: "\u{0}", count: 100), every: .milliseconds(100))
            #expect(sent < 30, "the connection stayed open for \(sent) bytes")
            #expect(await connection.readUntilClosed(timeout: .seconds(5)) != nil)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try refusals(metrics, "handshake_timeout") == 1)
        }
    }

    @Test("headers dribbled a byte at a time get 408 at the header deadline, and the connection closes")
    func headerDeadline() async throws {
        var limits = ListenerLimits()
        limits.headerTimeout = .milliseconds(500)
        limits.idleTimeout = .seconds(60)
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, tls: false, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let connection = try await RawConnection.open(port: listener.port)
            let sent = await connection.dribble(Self.request, every: .milliseconds(100))
            #expect(sent < 20, "\(sent) bytes went out before the deadline")
            let answer = await connection.readUntilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 408") == true, "\(answer ?? "no answer")")
            #expect(answer?.contains("connection: close") == true)
            #expect(try refusals(metrics, "header_timeout") == 1)
            try await stillServes(listener)
        }
    }

    @Test("a body that stops arriving gets 408 at the request deadline; the budget it held is given back")
    func requestDeadline() async throws {
        var limits = ListenerLimits()
        limits.requestTimeout = .milliseconds(600)
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, tls: false, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let connection = try await RawConnection.open(port: listener.port)
            await connection.send("POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n" + String(repeating: "a", count: 1000))
            let answer = await connection.readUntilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 408") == true, "\(answer ?? "no answer")")
            #expect(try refusals(metrics, "request_timeout") == 1)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try metrics.expectGauge("rebound_listener_buffered_bytes", [("listener", "test")]).lastValue == 0)
            try await stillServes(listener)
        }
    }

    @Test("headers larger than the limit get 431", arguments: [true, false])
    func headersTooLarge(oneHeader: Bool) async throws {
        var limits = ListenerLimits()
        limits.maxHeaderBytes = 8192
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, tls: false, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let connection = try await RawConnection.open(port: listener.port)
            let headers = oneHeader
                ? "x-big: " + String(repeating: "b", count: 20_000) + "\r\n"
                : (0..<2000).map { "x-\($0): v\r\n" }.joined()
            await connection.send("GET /echo HTTP/1.1\r\nhost: x\r\n" + headers + "\r\n")
            let answer = await connection.readUntilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 431") == true, "\(answer ?? "no answer")")
            #expect(try refusals(metrics, "headers_too_large") == 1)
            try await stillServes(listener)
        }
    }

    @Test("a body that would exceed the listener's budget gets 503 with retry-after; the budget comes back")
    func overBudget() async throws {
        var limits = ListenerLimits()
        limits.maxBodyBytes = 40_000
        limits.maxBufferedBytes = 64 * 1024
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, tls: false, endpoint: EchoEndpoint(delay: .seconds(1)), metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let body = String(repeating: "z", count: 40_000)
            let first = try await RawConnection.open(port: listener.port)
            await first.send("POST /echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 40000\r\n\r\n" + body)
            try await Task.sleep(for: .milliseconds(200))
            let second = try await RawConnection.open(port: listener.port)
            await second.send("POST /echo HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 40000\r\n\r\n" + body)
            let refused = await second.readUntilClosed()
            #expect(refused?.hasPrefix("HTTP/1.1 503") == true, "\(refused ?? "no answer")")
            #expect(refused?.contains("retry-after: 1") == true)
            let served = await first.readUntilClosed()
            #expect(served?.contains("received 40000 bytes") == true, "\(served ?? "no answer")")
            #expect(try refusals(metrics, "over_budget") == 1)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try metrics.expectGauge("rebound_listener_buffered_bytes", [("listener", "test")]).lastValue == 0)
            try await stillServes(listener)
        }
    }

    @Test("HTTP/2: streams beyond the connection's buffer budget are refused with REFUSED_STREAM; the others are answered")
    func http2RefusedStreams() async throws {
        var limits = ListenerLimits()
        limits.maxBodyBytes = 40_000
        limits.maxBufferedBytesPerConnection = 100_000
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, endpoint: EchoEndpoint(delay: .milliseconds(500)), metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            try await withTemporaryDirectory { directory in
                let file = directory + "/body"
                try String(repeating: "y", count: 40_000).write(toFile: file, atomically: true, encoding: .utf8)
                let nghttp = try tool("nghttp", package: "nghttp2-client")
                // Six concurrent streams of 40 kB on one connection: two fit 100 kB.
                let result = try await run(nghttp, ["-v", "-n", "-m", "6", "-d", file, listener.url], timeout: .seconds(20))
                let refused = result.output.components(separatedBy: "error_code=REFUSED_STREAM").count - 1
                let answered = result.output.components(separatedBy: ":status: 200").count - 1
                #expect(refused >= 1 && answered >= 2 && refused + answered == 6, "refused \(refused), answered \(answered): \(result.output.suffix(3000))")
                #expect(try refusals(metrics, "over_budget") == Int64(refused))
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try metrics.expectGauge("rebound_listener_buffered_bytes", [("listener", "test")]).lastValue == 0)
        }
    }

    @Test("Expect: 100-continue is answered before the body is sent; an oversized body is refused instead, unsent")
    func expectContinue() async throws {
        var limits = ListenerLimits()
        limits.maxBodyBytes = 1000
        try await RunningListener.with(limits: limits, tls: false) { listener in
            let connection = try await RawConnection.open(port: listener.port)
            await connection.send("POST /echo HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n")
            #expect(await connection.hasAnswered(within: .seconds(5)), "no 100 Continue")
            await connection.send("hello")
            let answer = await connection.readUntilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200") == true, "\(answer ?? "no answer")")
            let large = try await RawConnection.open(port: listener.port)
            await large.send("POST /echo HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5000\r\n\r\n")
            let refused = await large.readUntilClosed()
            #expect(refused?.hasPrefix("HTTP/1.1 413") == true, "\(refused ?? "no answer")")
        }
    }
}
