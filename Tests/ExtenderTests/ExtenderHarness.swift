import AsyncHTTPClient
import Capacity
import ClusterSim
@testable import Extender
import Foundation
import Kube
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus
import TestSupport

/// A ClusterSim API server, caches over it, and the extender served on an ephemeral loopback
/// port (HTTP or HTTPS), started for one test and stopped afterwards.
struct ExtenderHarness: Sendable {
    let sim: RunningSim
    let client: KubeClient
    let caches: ClusterCaches
    let extender: SchedulerExtender
    let url: String
    let http: HTTPClient
    let port: Int

    /// Starts everything, after `setUp` has created the cluster's initial objects, and waits
    /// until the extender is ready.
    static func run<T: Sendable>(
        settings: ExtenderSettings = ExtenderSettings(), metrics: ExtenderMetrics = ExtenderMetrics(), registry: PrometheusCollectorRegistry? = nil,
        tls: Bool = false,
        setUp: (KubeClient) async throws -> Void = { _ in },
        _ body: (ExtenderHarness) async throws -> T
    ) async throws -> T {
        let sim = try await RunningSim.start()
        let client = try sim.client()
        var settings = settings
        settings.address = "127.0.0.1"
        settings.port = 0
        if tls && settings.tlsCertificateFile == nil {
            settings.tlsCertificateFile = TestCertificates.path("tls.crt")
            settings.tlsKeyFile = TestCertificates.path("tls.key")
        }
        var logger = Logger(label: "test.extender")
        logger.logLevel = .critical
        let caches = ClusterCaches(client: client, storageCapacities: settings.keys.capacityFromStorageCapacity, logger: logger)
        let extender = SchedulerExtender(settings: settings, caches: caches, client: client, metrics: metrics, logger: logger)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let server = ExtenderServer(extender: extender, registry: registry, logger: logger) { port in
            portSink.yield(port)
            portSink.finish()
        }
        var tasks: [Task<Void, Never>] = []
        func stop() async {
            for task in tasks.reversed() {
                task.cancel()
                await task.value
            }
            try? await client.shutdown()
            await sim.stop()
        }
        do {
            try await setUp(client)
            tasks.append(Task { await caches.run() })
            tasks.append(Task {
                do { try await server.run() } catch { portSink.finish() }
            })
            var port = 0
            for await value in ports { port = value }
            guard port != 0 else { throw HarnessError("the extender did not start listening") }
            await extender.waitUntilReady()
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(TestCertificates.caPEM))
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tlsConfiguration))
            let harness = ExtenderHarness(sim: sim, client: client, caches: caches, extender: extender, url: "\(tls ? "https" : "http")://127.0.0.1:\(port)", http: http, port: port)
            do {
                let result = try await body(harness)
                try? await http.shutdown()
                await stop()
                return result
            } catch {
                try? await http.shutdown()
                throw error
            }
        } catch {
            await stop()
            throw error
        }
    }

    /// An answer as bytes and text.
    struct Reply: Sendable {
        var code: Int
        var bytes: [UInt8]
        var contentType: String?
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue(parsing: bytes) }
    }

    func post(_ path: String, _ body: String) async throws -> Reply {
        try await send(.POST, path, body: Array(body.utf8))
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 512 << 20)
        return Reply(code: Int(response.status.code), bytes: Array(collected.readableBytesView), contentType: response.headers.first(name: "Content-Type"))
    }

    /// Returns once the extender's state satisfies `predicate` (it re-checks after every change).
    func waitForState(_ predicate: @escaping @Sendable (isolated ExtenderState) -> Bool) async {
        await extender.state.waitUntil(predicate)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
