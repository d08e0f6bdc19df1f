import ClusterSim
import Foundation
import Kube
import TestSupport
import Testing

@Suite("KubeClient against ClusterSim over HTTP")
struct ClientTests {
    @Test("create, get, update, patch and delete round-trip with typed errors")
    func crud() async throws {
        try await withSim { _, client in
            let created = try await client.create(makePod("db-0", labels: ["app": "db"]))
            #expect(created.metadata.uid?.isEmpty == false)
            #expect(created.metadata.resourceVersion != nil)

            let duplicate = await #expect(throws: KubeAPIError.self) { try await client.create(makePod("db-0")) }
            #expect(duplicate?.isAlreadyExists == true)
            #expect(duplicate?.code == 409)

            var fetched = try await client.get(Pod.self, "db-0", namespace: "default")
            #expect(fetched.metadata.labels == ["app": "db"])

            // An update from a stale copy is a conflict.
            fetched.metadata.labels = ["app": "db", "tier": "data"]
            let updated = try await client.update(fetched)
            #expect(updated.metadata.labels?["tier"] == "data")
            var stale = fetched
            stale.metadata.labels = ["app": "stale"]
            let conflict = await #expect(throws: KubeAPIError.self) { try await client.update(stale) }
            #expect(conflict?.isConflict == true)
            #expect(conflict?.message.contains("the object has been modified") == true)

            let merged = try await client.patch(Pod.self, "db-0", namespace: "default", .merge(["metadata": ["annotations": ["a/b": "c"]]]))
            #expect(merged.metadata.annotations?["a/b"] == "c")
            let jsonPatched = try await client.patch(
                Pod.self, "db-0", namespace: "default",
                .json([.add(JSONPointer(tokens: ["metadata", "annotations", "x/y"]), "z"), .remove(JSONPointer(tokens: ["metadata", "annotations", "a/b"]))]))
            #expect(jsonPatched.metadata.annotations == ["x/y": "z"])

            let wrongUID = await #expect(throws: KubeAPIError.self) {
                try await client.delete(Pod.self, "db-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0, preconditions: .init(uid: "not-the-uid")))
            }
            #expect(wrongUID?.isConflict == true)
            #expect(wrongUID?.message.contains("Precondition failed: UID") == true)
            let wrongVersion = await #expect(throws: KubeAPIError.self) {
                try await client.delete(Pod.self, "db-0", namespace: "default", options: DeleteOptions(preconditions: .init(resourceVersion: "1")))
            }
            #expect(wrongVersion?.isConflict == true)

            try await client.delete(Pod.self, "db-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0, preconditions: .init(uid: created.metadata.uid)))
            let gone = await #expect(throws: KubeAPIError.self) { try await client.get(Pod.self, "db-0", namespace: "default") }
            #expect(gone?.isNotFound == true)
            #expect(gone?.message == "pods \"db-0\" not found")
        }
    }

    @Test("graceful pod deletion keeps the pod terminating; a second delete with grace 0 removes it")
    func gracefulDeletion() async throws {
        try await withSim { _, client in
            _ = try await client.create(makePod("web-0", node: "node-1"))
            let terminating = try await client.delete(Pod.self, "web-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 30))
            #expect(terminating?.metadata.deletionTimestamp != nil)
            #expect(terminating?.metadata.deletionGracePeriodSeconds == 30)
            let stillThere = try await client.get(Pod.self, "web-0")
            #expect(stillThere.metadata.deletionTimestamp != nil)
            try await client.delete(Pod.self, "web-0", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            await #expect(throws: KubeAPIError.self) { try await client.get(Pod.self, "web-0") }
        }
    }

    @Test("finalizers hold a deleted object until they are removed")
    func finalizers() async throws {
        try await withSim { _, client in
            var claim = PersistentVolumeClaim(metadata: ObjectMeta(name: "data", namespace: "default", finalizers: ["kubernetes.io/pvc-protection"]))
            claim.spec = PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": "1Gi"]))
            _ = try await client.create(claim)
            let held = try await client.delete(PersistentVolumeClaim.self, "data", namespace: "default")
            #expect(held?.metadata.deletionTimestamp != nil)
            _ = try await client.patch(PersistentVolumeClaim.self, "data", namespace: "default", .merge(["metadata": ["finalizers": .null]]))
            let gone = await #expect(throws: KubeAPIError.self) { try await client.get(PersistentVolumeClaim.self, "data") }
            #expect(gone?.isNotFound == true)
        }
    }

    @Test("lists 10,000 pods page by page without losing or repeating one")
    func pagination() async throws {
        try await withSim { sim, client in
            for index in 0..<10_000 {
                let pod = try JSONValue(encoding: makePod(String(format: "pod-%05d", index), labels: ["shard": String(index % 4)]))
                _ = try await sim.store.create(Pod.resourceType, namespace: "default", object: pod)
            }
            let first = try await client.list(Pod.self, namespace: "default", options: ListOptions(limit: 500))
            #expect(first.items.count == 500)
            #expect(first.metadata.remainingItemCount == 9_500)
            #expect(first.metadata.continue?.isEmpty == false)

            let all = try await client.listAll(Pod.self, namespace: "default", pageSize: 500)
            #expect(all.items.count == 10_000)
            #expect(Set(all.items.map(\.name)).count == 10_000)
            #expect(all.items.map(\.name) == all.items.map(\.name).sorted())
            #expect(all.metadata.resourceVersion == first.metadata.resourceVersion)

            let shard = try await client.listAll(Pod.self, options: ListOptions(labelSelector: "shard in (1,3)"), pageSize: 700)
            #expect(shard.items.count == 5_000)
            #expect(shard.items.allSatisfy { ["1", "3"].contains($0.metadata.labels?["shard"]) })
        }
    }

    @Test("server answers become typed errors: 429 with Retry-After, 500, 410, bad selectors")
    func errorMapping() async throws {
        try await withSim { sim, client in
            await sim.faults.inject(.tooManyRequests(retryAfter: 7))
            let throttled = await #expect(throws: KubeAPIError.self) { try await client.list(Pod.self) }
            #expect(throttled?.reason == .tooManyRequests)
            #expect(throttled?.retryAfterSeconds == 7)
            #expect(throttled?.isRetryable == true)

            await sim.faults.inject(.internalError)
            let failed = await #expect(throws: KubeAPIError.self) { try await client.get(Namespace.self, "default") }
            #expect(failed?.code == 500)
            #expect(failed?.isRetryable == true)

            await sim.faults.inject(.gone)
            let gone = await #expect(throws: KubeAPIError.self) { try await client.list(Node.self) }
            #expect(gone?.isGone == true)

            let badSelector = await #expect(throws: KubeAPIError.self) { try await client.list(Pod.self, options: ListOptions(labelSelector: "a in (")) }
            #expect(badSelector?.code == 400)

            // And the server still answers normally afterwards.
            let namespace = try await client.get(Namespace.self, "default")
            #expect(namespace.name == "default")
        }
    }

    @Test("field selectors filter pods by node, as the failover controller asks")
    func fieldSelectors() async throws {
        try await withSim { _, client in
            _ = try await client.create(makePod("a", node: "node-1"))
            _ = try await client.create(makePod("b", node: "node-2"))
            _ = try await client.create(makePod("c", node: "node-1"))
            let onNode1 = try await client.list(Pod.self, options: ListOptions(fieldSelector: "spec.nodeName=node-1"))
            #expect(onNode1.items.map(\.name).sorted() == ["a", "c"])
            let notNode1 = try await client.list(Pod.self, options: ListOptions(fieldSelector: "spec.nodeName!=node-1"))
            #expect(notNode1.items.map(\.name) == ["b"])
        }
    }

    @Test("the client-side rate limit spaces requests at the configured rate")
    func rateLimit() async throws {
        let limiter = RateLimiter(qps: 10, burst: 2)
        var delays: [Duration] = []
        for _ in 0..<5 { delays.append(await limiter.reserve()) }
        #expect(delays[0] == .zero)
        #expect(delays[1] == .zero)
        // Reservations beyond the burst wait 100 ms more each.
        #expect(delays[2] > .milliseconds(50) && delays[2] <= .milliseconds(100))
        #expect(delays[4] > delays[3] && delays[3] > delays[2])
        #expect(await RateLimiter(qps: 0, burst: 1).reserve() == .zero)
    }
}
