import ReboundConfig
import ClusterSim
import Extender
import Foundation
import Kube
import Logging
import Prometheus
import ServiceLifecycle
import TestSupport
import Testing
import Webhook

@testable import rebound

/// The extender as `rebound serve` wires it: configuration keys in, a service answering
/// kube-scheduler out, on the caches serve runs.
@Suite("rebound serve's extender service", .timeLimit(.minutes(2)))
struct ServeExtenderTests {
    /// The extender `rebound serve` would wire from `config`, served with the caches on an
    /// ephemeral port (0 is not a valid setting, so the test never collides with a port in use).
    struct Served {
        let wired: ExtenderServer
        let extender: SchedulerExtender
        let group: ServiceGroup
        let running: Task<Void, any Error>
        let port: Int

        static func start(_ config: ResolvedConfig, client: KubeClient) async throws -> Served {
            // Rebound's namespace, as deploy/ creates it: the shared reservation ledger lives there.
            if (try? await client.get(Namespace.self, "rebound-system")) == nil {
                _ = try await client.create(Namespace(metadata: ObjectMeta(name: "rebound-system")))
            }
            var logger = Logger(label: "test.serve")
            logger.logLevel = .critical
            let registry = PrometheusCollectorRegistry()
            let caches = ClusterCaches(client: client, logger: logger)
            let wired = try #require(ExtenderWiring.server(config: config, caches: caches, client: client, registry: registry, logger: logger))
            var settings = wired.extender.settings
            settings.port = 0
            let extender = SchedulerExtender(settings: settings, caches: caches, client: client, logger: logger)
            let (ports, portSink) = AsyncStream<Int>.makeStream()
            let server = ExtenderServer(extender: extender, registry: registry, logger: logger) { port in
                portSink.yield(port)
                portSink.finish()
            }
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [.init(service: CacheService(caches: caches, logger: logger)), .init(service: server)], logger: logger))
            let running = Task { try await group.run() }
            var port = 0
            for await value in ports { port = value }
            if port == 0 { running.cancel() }
            try #require(port != 0)
            await extender.waitUntilReady()
            return Served(wired: wired, extender: extender, group: group, running: running, port: port)
        }

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }

    @Test("configured from the keys, ready once the caches synced, filtering over HTTP")
    func serveFilter() async throws {
        try await withSim { sim, client in
            for (name, ready) in [("dev1-node-2", "True"), ("dev1-node-4", "Unknown")] {
                let node = Node(
                    metadata: ObjectMeta(name: name),
                    status: NodeStatus(allocatable: ["carina.storage.io/carina-vg-hdd": "188"], conditions: [NodeCondition(type: "Ready", status: ready)]))
                _ = try await client.create(node)
            }
            let config = try ConfigLoader.load(file: nil, environment: [:], overrides: [
                "extender.address=127.0.0.1", "extender.port=18444", "extender.filterPath=/scheduler/filter", "capacity.reservationTTLSeconds=60",
            ])
            let served = try await Served.start(config, client: client)
            defer { served.running.cancel() }
            #expect(served.wired.extender.settings.filterPath == "/scheduler/filter")
            #expect(served.wired.extender.settings.reservationTTL == .seconds(60))
            let port = served.port

            let http = try KubeClient(KubeClientConfiguration(server: "http://127.0.0.1:\(port)"))
            #expect(String(decoding: try await http.send(.GET, "/readyz").bytes, as: UTF8.self) == "ok")
            let pod = """
                {"metadata":{"name":"db-0","namespace":"default","annotations":{"rebound.io/volume-requests":"{\\"carina-vg-hdd\\":1}"}},\
                "spec":{"containers":[{"name":"db","resources":{"limits":{"rebound.io/local-capacity":"1"},"requests":{"rebound.io/local-capacity":"1"}}}]}}
                """
            let body = "{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\"dev1-node-2\",\"dev1-node-4\"]}"
            let answer = try JSONValue(parsing: try await http.send(.POST, "/scheduler/filter", body: Array(body.utf8)).bytes)
            #expect(answer["NodeNames"] == ["dev1-node-2"])
            #expect(answer["FailedAndUnresolvableNodes"]?["dev1-node-4"]?.stringValue == "node is not ready (Ready=Unknown)")
            try? await http.shutdown()
            try await served.stop()
        }
    }

    @Test("with the deployed TLS settings the extender serves only kube-scheduler's client certificate; others are refused at the handshake", .requiresTools("curl"))
    func mutualTLS() async throws {
        try await withSim { sim, client in
            let config = try ConfigLoader.load(file: nil, environment: [:], overrides: [
                "extender.address=127.0.0.1", "extender.tls.certFile=\(TestCertificates.path("tls.crt"))", "extender.tls.keyFile=\(TestCertificates.path("tls.key"))",
                "extender.tls.clientCAFile=\(TestCertificates.path("ca.crt"))", "extender.tls.clientAllowedNames=kube-scheduler",
            ])
            let served = try await Served.start(config, client: client)
            defer { served.running.cancel() }
            #expect(served.wired.extender.settings.tlsClientCAFile == TestCertificates.path("ca.crt"))
            #expect(served.wired.extender.settings.tlsClientAllowedNames == ["kube-scheduler"])
            let port = served.port

            try await withTemporaryDirectory { directory in
                // kube-scheduler's certificate, as `rebound certs` issues it, from the test CA.
                let authority = CertificateAuthority(root: try IssuedCertificate(
                    certificatePEM: String(decoding: TestCertificates.bytes("ca.crt"), as: UTF8.self), privateKeyPEM: String(decoding: TestCertificates.bytes("ca.key"), as: UTF8.self)))
                try WebhookCertificates.generate(validity: .days(1), authority: authority).write(to: directory)
                let curl = try tool("curl", package: "curl")
                func get(_ extra: [String]) async throws -> (status: Int32, output: String) {
                    try await run(curl, ["-sS", "--cacert", TestCertificates.path("ca.crt"), "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"] + extra + ["https://127.0.0.1:\(port)/readyz"])
                }
                let none = try await get([])
                #expect(none.status != 0, "served without a client certificate: \(none.output)")
                let other = try await get(["--cert", TestCertificates.path("client.crt"), "--key", TestCertificates.path("client.key")])
                #expect(other.status != 0 || !other.output.hasSuffix("200"), "served rebound-client's certificate: \(other.output)")
                let scheduler = try await get(["--cert", directory + "/scheduler.crt", "--key", directory + "/scheduler.key"])
                #expect(scheduler.status == 0 && scheduler.output.hasSuffix("200"), "\(scheduler.output)")
            }
            try await served.stop()
        }
    }

    @Test("the shared ledger: created empty at start; without its namespace the extender stays unready and says why")
    func sharedLedgerStart() async throws {
        try await withSim { sim, client in
            let config = try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.address=127.0.0.1"])
            let served = try await Served.start(config, client: client)
            let ledger = try await client.get(ConfigMap.self, "rebound-reservations", namespace: "rebound-system")
            #expect(ledger.data?.isEmpty ?? true)
            try await served.stop()

            let elsewhere = try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.address=127.0.0.1", "extender.sharedLedger.namespace=missing"])
            let caches = ClusterCaches(client: client)
            let extender = SchedulerExtender(settings: ExtenderSettings(config: elsewhere), caches: caches, client: client)
            let running = Task { await withDiscardingTaskGroup { group in
                group.addTask { await caches.run() }
                group.addTask { await extender.run() }
            } }
            try await Task.sleep(for: .seconds(2))
            #expect(await !extender.isReady, "ready without the shared ledger")
            running.cancel()
            await running.value
        }
    }

    @Test("extender.enabled=false builds no service")
    func disabled() async throws {
        try await withSim { _, client in
            let config = try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.enabled=false"])
            let caches = ClusterCaches(client: client)
            #expect(ExtenderWiring.server(config: config, caches: caches, client: client, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test")) == nil)
        }
    }
}
