import Foundation
import Logging
import Metrics
import NIOCore
import Serving
import ServiceLifecycle
import Synchronization
import TestSupport

/// An endpoint for listener tests: POST answers with the body's length (after `delay`, off the
/// event loop, when one is set); GET answers "ok". Counts the requests it saw.
struct EchoEndpoint: HTTPEndpoint {
    let delay: Duration?
    let seen = Counter()

    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        func add() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    init(delay: Duration? = nil) { self.delay = delay }

    func respond(to request: ServerRequest) -> ServerReply {
        seen.add()
        guard request.method == "POST" else { return .now(.text(200, "ok")) }
        let response = ServerResponse.text(200, "received \(request.body.readableBytes) bytes on \(request.path)")
        guard let delay else { return .now(response) }
        return .later {
            try? await Task.sleep(for: delay)
            return response
        }
    }
}

/// A listener started for one test on an ephemeral loopback port, with TLS from certs/.
struct RunningListener {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    var url: String { "https://127.0.0.1:\(port)/echo" }
    var ca: String { TestCertificates.path("ca.crt") }

    /// - Parameter tlsSettings: replaces the default TLS side (certs/ serving pair, no client CA).
    static func start(
        limits: ListenerLimits, tls: Bool = true, http2: Bool = true, endpoint: any HTTPEndpoint = EchoEndpoint(), metrics: ListenerMetrics? = nil,
        tlsSettings: ListenerTLS? = nil
    ) async throws -> RunningListener {
        var configuration = HTTPListener.Configuration(name: "test", port: 0)
        configuration.host = "127.0.0.1"
        configuration.limits = limits
        configuration.http2 = http2
        if tls { configuration.tls = tlsSettings ?? ListenerTLS(certificateFile: TestCertificates.path("tls.crt"), keyFile: TestCertificates.path("tls.key")) }
        var logger = Logger(label: "test.listener")
        logger.logLevel = .critical
        let (ports, sink) = AsyncStream<Int>.makeStream()
        let listener = HTTPListener(configuration: configuration, endpoint: endpoint, metrics: metrics, logger: logger) { port, _ in
            sink.yield(port)
            sink.finish()
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [listener], logger: logger))
        let task = Task {
            defer { sink.finish() }
            try await group.run()
        }
        var port = 0
        for await value in ports { port = value }
        guard port != 0 else {
            try await task.value
            throw ToolMissing("the listener stopped before listening")
        }
        return RunningListener(port: port, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Runs `body` with a started listener and stops it afterwards whatever happens.
    static func with<T>(limits: ListenerLimits, tls: Bool = true, endpoint: any HTTPEndpoint = EchoEndpoint(), metrics: ListenerMetrics? = nil,
                        _ body: (RunningListener) async throws -> T) async throws -> T {
        let listener = try await start(limits: limits, tls: tls, endpoint: endpoint, metrics: metrics)
        do {
            let result = try await body(listener)
            await listener.stop()
            return result
        } catch {
            await listener.stop()
            throw error
        }
    }

    /// curl with the test CA; returns the status line's code, the body and curl's exit status.
    func curl(_ extra: [String], url: String? = nil) async throws -> (status: Int32, code: String, body: String) {
        let curl = try tool("curl", package: "curl")
        let result = try await run(curl, ["-sS", "--cacert", ca, "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"] + extra + [url ?? self.url])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (result.status, String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }
}
