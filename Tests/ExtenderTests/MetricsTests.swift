import Capacity
@testable import Extender
import Kube
import Prometheus
import Testing

@Suite("Extender metrics", .timeLimit(.minutes(2)))
struct MetricsTests {
    @Test("requests, latencies and drop reasons are counted and served on /metrics")
    func counts() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = ExtenderMetrics(factory: PrometheusMetricsFactory(registry: registry))
        try await ExtenderHarness.run(metrics: metrics, registry: registry, setUp: ClusterFixtures.createSeedCluster) { harness in
            let pod = GoPayloads.pod(GoPayloads.PodSpec())
            for _ in 0..<2 {
                _ = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: FilterPrioritizeTests.seedNames + ["ghost"]))
            }
            _ = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: pod, names: ["dev1-node-2"]))
            _ = try await harness.post("/filter", "{oops")
            _ = try await harness.post("/bind", GoPayloads.bindingArgs(pod: "ghost", uid: "", node: "dev1-node-2"))

            let text = try await harness.send(.GET, "/metrics").text
            let lines = Set(text.split(separator: "\n").map(String.init))
            for expected in [
                "rebound_extender_requests_total{verb=\"filter\",result=\"ok\"} 2",
                "rebound_extender_requests_total{verb=\"filter\",result=\"invalid\"} 1",
                "rebound_extender_requests_total{verb=\"prioritize\",result=\"ok\"} 1",
                "rebound_extender_requests_total{verb=\"bind\",result=\"invalid\"} 1",
                "rebound_extender_requests_total{verb=\"bind\",result=\"ok\"} 0",
                // Per filter: dev1-node-4 unhealthy, dev1-node-1 and -5 short, ghost unknown.
                "rebound_extender_dropped_nodes_total{reason=\"unhealthy\"} 2",
                "rebound_extender_dropped_nodes_total{reason=\"insufficient_capacity\"} 4",
                "rebound_extender_dropped_nodes_total{reason=\"not_found\"} 2",
                "rebound_extender_dropped_nodes_total{reason=\"reserved\"} 0",
                "rebound_extender_request_seconds_count{verb=\"filter\"} 3",
            ] {
                #expect(lines.contains(expected), "missing \(expected)")
            }
        }
    }
}
