import Foundation
import Metrics
import MetricsTestKit
import Serving
import TestSupport
import Testing

/// HTTP/2 streams that stall or are reset, driven by Python's h2 library (pip install h2).
@Suite("Listener HTTP/2 streams", .timeLimit(.minutes(2)), .requiresPython("h2"))
struct HTTP2StreamTests {
    /// Opens one connection; for each command line argument `N:stall`, `N:reset` or `N:end`, a POST
    /// stream announcing N bytes that sends 1,000 and then stalls (waiting for the server), resets
    /// itself, or ends. Prints each stream's `:status` and the resets it receives.
    static let client = """
        import socket, ssl, sys, time
        import h2.connection, h2.config, h2.events
        port, ca, plans = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
        context = ssl.create_default_context(cafile=ca)
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        streams = {}
        for plan in plans:
            size, action = plan.split(":")
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, [(":method", "POST"), (":path", "/echo"), (":scheme", "https"), (":authority", "x"), ("content-length", size)])
            conn.send_data(stream, b"x" * 1000, end_stream=(action == "end"))
            if action == "reset":
                conn.reset_stream(stream)
            streams[stream] = action
        sock.sendall(conn.data_to_send())
        sock.settimeout(5)
        start = time.time()
        try:
            while time.time() - start < 5:
                data = sock.recv(65536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        status = dict(event.headers)[b":status"].decode()
                        print(f"STATUS {event.stream_id} {status} {time.time() - start:.2f}")
                    elif isinstance(event, h2.events.StreamReset):
                        print(f"RESET {event.stream_id} {event.error_code}")
                sock.sendall(conn.data_to_send())
        except socket.timeout:
            pass
        print("DONE")
        """

    func runClient(port: Int, _ plans: [String]) async throws -> String {
        return try await run("/usr/bin/env", ["python3", "-c", Self.client, String(port), TestCertificates.path("ca.crt")] + plans, timeout: .seconds(30)).output
    }

    @Test("a stream whose body stops arriving is answered 408 and reset at the request deadline; its budget comes back")
    func stalledStream() async throws {
        var limits = ListenerLimits()
        limits.requestTimeout = .milliseconds(700)
        let metrics = TestMetrics()
        try await RunningListener.with(limits: limits, metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let output = try await runClient(port: listener.port, ["100000:stall"])
            let status = output.firstMatch(of: #/STATUS 1 (\d+) ([0-9.]+)/#)
            #expect(status?.output.1 == "408", "\(output)")
            #expect((status.flatMap { Double($0.output.2) } ?? 0) >= 0.6, "\(output)")
            #expect(try metrics.expectCounter("rebound_listener_refused_total", [("listener", "test"), ("reason", "request_timeout")]).totalValue == 1)
            #expect(try metrics.expectGauge("rebound_listener_buffered_bytes", [("listener", "test")]).lastValue == 0)
        }
    }

    @Test("streams the client resets give their budget back; the connection goes on serving")
    func resetStreams() async throws {
        let metrics = TestMetrics()
        try await RunningListener.with(limits: ListenerLimits(), metrics: ListenerMetrics(listener: "test", factory: metrics)) { listener in
            let output = try await runClient(port: listener.port, ["30000:reset", "30000:reset", "30000:reset", "1000:end"])
            #expect(output.contains("STATUS 7 200"), "the last stream, complete at 1,000 bytes, is answered: \(output)")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try metrics.expectGauge("rebound_listener_buffered_bytes", [("listener", "test")]).lastValue == 0)
        }
    }
}
