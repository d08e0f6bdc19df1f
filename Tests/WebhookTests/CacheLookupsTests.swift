import ClusterSim
import Kube
import Logging
import Prometheus
import TestSupport
import Testing
import Webhook

/// The handler over Rebound's caches of a ClusterSim API server: synced, not yet synced, a
/// cache that lags behind the API, and an API server that fails or is slow.
@Suite("CacheLookups against ClusterSim")
struct CacheLookupsTests {
    func seed(_ client: KubeClient) async throws {
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: "mysql", labels: optedIn)))
        _ = try await client.create(hddClass)
        _ = try await client.create(claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc"))
    }

    func pod(claim: String) -> [UInt8] {
        var pod = statefulSetPod()
        pod.set(["spec", "volumes"], [["name": "data", "persistentVolumeClaim": ["claimName": .string(claim)]]])
        return admissionReview(pod: pod).serialized()
    }

    @Test("before the caches sync the pod is admitted unchanged (cache_not_synced); after, it is patched")
    func syncedAndNot() async throws {
        try await withSim { _, client in
            try await seed(client)
            let caches = ClusterCaches(client: client)
            let registry = PrometheusCollectorRegistry()
            let lookups = CacheLookups(caches: caches, client: client)
            let handler = AdmissionHandler(lookups: lookups, metrics: WebhookMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: quietLogger)
            let early = await handler.review(pod(claim: "data-my-cluster-mysql-0"))
            #expect(early.result == .degraded)
            #expect(early.response?.warnings.first?.contains("not synced") == true)
            #expect(registry.emitToString().contains(#"rebound_webhook_degraded_total{reason="cache_not_synced"} 1"#))

            let running = Task { await caches.run() }
            let following = Task { await lookups.run() }
            defer {
                running.cancel()
                following.cancel()
            }
            await lookups.waitUntilLoaded()
            let synced = await handler.review(pod(claim: "data-my-cluster-mysql-0"))
            #expect(synced.result == .patched)
            #expect(synced.response?.patch.count == 3)
        }
    }

    @Test("a claim created after the cache last saw the API is found with a live GET; a claim nobody created is missing")
    func cacheMissFallsBackToTheAPI() async throws {
        try await withSim { _, client in
            try await seed(client)
            let caches = ClusterCaches(client: client)
            let lookups = CacheLookups(caches: caches, client: client)
            let running = Task { await caches.run() }
            let following = Task { await lookups.run() }
            await lookups.waitUntilLoaded()
            // Stop the informers: the index stays loaded but no longer follows the API.
            running.cancel()
            following.cancel()
            await running.value
            await following.value
            _ = try await client.create(claim("late", size: "3Gi", storageClass: "csi-carina-sc"))
            guard case .unknown = try lookups.claim(namespace: "mysql", name: "late") else {
                Issue.record("the index should not know the late claim")
                return
            }

            let handler = AdmissionHandler(lookups: lookups, logger: quietLogger)
            let late = await handler.review(pod(claim: "late"))
            #expect(late.result == .patched)
            #expect(late.response?.patch.first?.value?["rebound.io/volume-requests"] == #"{"carina-vg-hdd":3}"#)
            let missing = await handler.review(pod(claim: "never-created"))
            #expect(missing.result == .unchanged)
            #expect(missing.response?.patch.isEmpty == true)
        }
    }

    @Test("an API server that fails or is too slow on a cache miss never blocks the pod")
    func apiTrouble() async throws {
        try await withSim { sim, client in
            try await seed(client)
            let caches = ClusterCaches(client: client)
            // Generous enough that a 500 answered on a loaded CI machine is still seen as an error, not a timeout.
            let lookups = CacheLookups(caches: caches, client: client, liveTimeout: .milliseconds(1500))
            let running = Task { await caches.run() }
            let following = Task { await lookups.run() }
            defer {
                running.cancel()
                following.cancel()
            }
            await lookups.waitUntilLoaded()
            let registry = PrometheusCollectorRegistry()
            let handler = AdmissionHandler(
                lookups: lookups,
                metrics: WebhookMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: quietLogger)

            await sim.faults.inject(.internalError, times: 1, when: .init(method: "GET", pathContains: "persistentvolumeclaims/uncached"))
            let failed = await handler.review(pod(claim: "uncached"))
            #expect(failed.httpStatus == 200 && failed.result == .degraded)
            #expect(failed.response?.allowed == true && failed.response?.patch.isEmpty == true)
            #expect(failed.response?.warnings.first?.contains("could not be asked") == true)

            await sim.faults.setLatency(.seconds(5))
            let started = ContinuousClock.now
            let slow = await handler.review(pod(claim: "uncached"))
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(slow.result == .degraded)
            #expect(slow.response?.warnings.first?.contains("did not answer within") == true)
            await sim.faults.clear()

            let text = registry.emitToString()
            #expect(text.contains(#"rebound_webhook_degraded_total{reason="api_unreachable"} 1"#))
            #expect(text.contains(#"rebound_webhook_degraded_total{reason="timeout"} 1"#))
        }
    }
}

/// Failover deletes a bound claim and the StatefulSet controller recreates it, unbound, and then
/// the pod, faster than a cache may follow.
@Suite("CacheLookups with a claim replaced under the same name")
struct ReplacedClaimTests {
    @Test("a cache still holding the old bound claim does not stop the new pod from being routed; a failed confirmation uses the cache")
    func staleBoundClaimIsConfirmedLive() async throws {
        try await withSim { sim, client in
            let tests = CacheLookupsTests()
            try await tests.seed(client)
            var bound = try await client.get(PersistentVolumeClaim.self, "data-my-cluster-mysql-0", namespace: "mysql")
            bound.spec?.volumeName = "pvc-on-the-failed-node"
            bound = try await client.update(bound)
            let caches = ClusterCaches(client: client)
            let lookups = CacheLookups(caches: caches, client: client, liveTimeout: .milliseconds(1500))
            let running = Task { await caches.run() }
            let following = Task { await lookups.run() }
            await lookups.waitUntilLoaded()
            let handler = AdmissionHandler(lookups: lookups, logger: quietLogger)
            let beforeFailover = await handler.review(tests.pod(claim: "data-my-cluster-mysql-0"))
            #expect(beforeFailover.result == .patched)
            #expect(beforeFailover.response?.patch.count == 1, "a bound claim only gets the migration annotation")

            // Freeze the cache with the bound claim, then replace the claim in the API.
            running.cancel()
            following.cancel()
            await running.value
            await following.value
            try await client.delete(PersistentVolumeClaim.self, "data-my-cluster-mysql-0", namespace: "mysql")
            _ = try await client.create(claim("data-my-cluster-mysql-0", size: "2Gi", storageClass: "csi-carina-sc"))
            let afterFailover = await handler.review(tests.pod(claim: "data-my-cluster-mysql-0"))
            #expect(afterFailover.result == .patched)
            #expect(afterFailover.response?.patch.first?.value?["rebound.io/volume-requests"] == #"{"carina-vg-hdd":2}"#)

            await sim.faults.inject(.internalError, times: 1, when: .init(method: "GET", pathContains: "persistentvolumeclaims/data-my-cluster-mysql-0"))
            let unconfirmed = await handler.review(tests.pod(claim: "data-my-cluster-mysql-0"))
            #expect(unconfirmed.result == .patched, "the API failing falls back to the cached claim rather than degrading")
            #expect(unconfirmed.response?.patch.count == 1)
        }
    }
}
