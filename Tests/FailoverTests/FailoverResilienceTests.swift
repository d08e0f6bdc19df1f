import ClusterSim
import Failover
import Foundation
import Kube
import Logging
import TestSupport
import Testing

@Suite("Failover under leader election and API faults", .serialized)
struct FailoverResilienceTests {
    @Test("two replicas under leader election never both act; the other takes over when the leader stops")
    func leaderElection() async throws {
        let harness = try await FailoverHarness.start(
            nodes: 5, pods: (0..<3).map { ("first-\($0)", "node-2") } + (0..<3).map { ("second-\($0)", "node-3") })

        // Each replica acts only while it leads, with caches and a controller built for the term.
        var replicas: [(elector: LeaderElector, client: KubeClient, log: ActionLog, task: Task<Void, Never>)] = []
        for identity in ["replica-a", "replica-b"] {
            let log = ActionLog()
            let (elector, client) = try harness.elector(identity, leaseDuration: .seconds(2), renewDeadline: .milliseconds(1500))
            let work = FailoverHarness.controller(
                client: client, settings: FailoverHarness.settings(), identity: identity, log: log, mayAct: { elector.mayAct() })
            let task = Task { await elector.run(whileLeading: work) }
            replicas.append((elector, client, log, task))
        }
        let someoneLeads = await poll {
            let a = await replicas[0].elector.isLeader
            let b = await replicas[1].elector.isLeader
            return a || b
        }
        #expect(someoneLeads)
        let leaderIndex = await replicas[0].elector.isLeader ? 0 : 1
        let follower = 1 - leaderIndex
        let followerLeads = await replicas[follower].elector.isLeader
        #expect(!followerLeads)

        @Sendable func deletions(_ actions: [MigrationAction]) -> Int {
            actions.filter { if case .deletePod = $0 { true } else { false } }.count
        }
        @Sendable func gone(_ prefix: String) async -> Bool {
            for index in 0..<3 where await harness.pod("apps", "\(prefix)-\(index)") != nil { return false }
            return true
        }
        func podDeletions(_ log: ActionLog) -> Int {
            log.actions.filter { if case .deletePod = $0 { true } else { false } }.count
        }

        try await harness.setReady("node-2", "False")
        let firstMoved = await harness.store.waitUntil { await gone("first") }
        #expect(firstMoved)
        _ = await replicas[leaderIndex].log.waitFor { deletions($0) >= 3 }
        #expect(replicas[follower].log.actions.isEmpty, "the follower acted")
        #expect(podDeletions(replicas[leaderIndex].log) == 3)

        // The leader stops (its pod is evicted, say): it releases the lease and the follower takes over.
        replicas[leaderIndex].task.cancel()
        await replicas[leaderIndex].task.value
        let tookOver = await poll { await replicas[follower].elector.isLeader }
        #expect(tookOver)
        // Whatever the old leader left half-done (claims deleted, not yet recreated), the new one finishes.
        let rebuilt = await harness.store.waitUntil {
            for index in 0..<3 {
                guard await harness.claim("apps", "data-first-\(index)")?.value["metadata"]?["annotations"]?["rebound.io/rebuilt-from-node"] == "node-2" else { return false }
            }
            return true
        }
        #expect(rebuilt)
        let actionsOfOldLeader = replicas[leaderIndex].log.actions.count
        try await harness.setReady("node-3", "False")
        let secondMoved = await harness.store.waitUntil { await gone("second") }
        #expect(secondMoved)
        _ = await replicas[follower].log.waitFor { deletions($0) >= 3 }
        #expect(replicas[leaderIndex].log.actions.count == actionsOfOldLeader)
        #expect(podDeletions(replicas[follower].log) == 3)
        let lease = try await harness.store.get(Lease.resourceType, namespace: "default", name: "rebound-failover")
        #expect(lease.value["spec"]?["holderIdentity"]?.stringValue == (follower == 0 ? "replica-a" : "replica-b"))

        replicas[follower].task.cancel()
        await replicas[follower].task.value
        for replica in replicas { try? await replica.client.shutdown() }
        await harness.stop()
    }

    @Test("converges through server errors, conflicts, throttling and dropped watches")
    func faults() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("apps")
        for index in 0..<4 { try await harness.addStandalonePod("apps", "db-\(index)") }
        try await harness.addStatefulSet("apps", "web", replicas: 2)
        let created = await harness.store.waitUntil { await harness.pod("apps", "web-1") != nil }
        #expect(created)
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning((0..<4).map { ("apps", "db-\($0)") } + [("apps", "web-0"), ("apps", "web-1")]))
        let oldWeb = await harness.pod("apps", "web-0")?.uid
        let faults = harness.sim.faults
        await faults.inject(.internalError, times: 3, when: .init(method: "DELETE", pathContains: "/persistentvolumeclaims/"))
        await faults.inject(SimFaults.Failure(code: 409, reason: "Conflict", message: "injected conflict"), times: 2, when: .init(method: "PATCH", pathContains: "/persistentvolumes/"))
        await faults.inject(.tooManyRequests(retryAfter: 1), times: 1, when: .init(method: "DELETE", pathContains: "/pods/"))
        await faults.inject(.serviceUnavailable, times: 2, when: .init(method: "POST", pathContains: "/persistentvolumeclaims"))
        let running = try await harness.startController(settings: FailoverHarness.settings())

        try await harness.setReady("node-2", "False")
        // Connections drop while the migration runs.
        _ = await running.log.waitFor(count: 2)
        await harness.store.dropAllWatches()
        let converged = await harness.store.waitUntil(timeout: .seconds(40)) {
            for index in 0..<4 {
                guard await harness.pod("apps", "db-\(index)") == nil, let claim = await harness.claim("apps", "data-db-\(index)"),
                    claim.value["metadata"]?["annotations"]?["rebound.io/rebuilt-from-node"] == "node-2"
                else { return false }
            }
            guard let web = await harness.pod("apps", "web-0"), web.uid != oldWeb else { return false }
            return true
        }
        #expect(converged)
        #expect(await faults.injectedCount == 8)
        let volumes = try await harness.store.list(PersistentVolume.resourceType, namespace: nil).items
        #expect(volumes.filter { $0.labels["rebound.io/failed-node"] == "node-2" }.count == 6)
        await running.stop()
        await harness.stop()
    }

    @Test("a claim rebuild left half-done by a stopped controller is finished from the volume's record")
    func restartSafety() async throws {
        let harness = try await FailoverHarness.start(nodes: 2, pods: [("db", "node-2")])
        let claim = try #require(await harness.claim("apps", "data-db"))
        let volume = try #require(claim.boundVolume)
        // The state a controller leaves when it stops right after deleting the pod and the claim.
        let template = MigrationPlanner(keys: .init()).replacement(for: try claim.value.decode(as: PersistentVolumeClaim.self), failedNode: "node-2")
        _ = try await harness.store.patch(PersistentVolume.resourceType, namespace: nil, name: volume, patchType: .merge, patch: [
            "metadata": ["labels": ["rebound.io/failed-node": "node-2"], "annotations": ["rebound.io/claim-template": .string(try JSONValue(encoding: template).jsonString), "rebound.io/replaced-claim-uid": .string(claim.uid)]],
            "spec": ["persistentVolumeReclaimPolicy": "Retain"],
        ])
        _ = try await harness.store.delete(Pod.resourceType, namespace: "apps", name: "db", options: .init(gracePeriodSeconds: 0))
        _ = try await harness.store.delete(PersistentVolumeClaim.resourceType, namespace: "apps", name: "data-db")
        #expect(await harness.store.waitUntil { await harness.claim("apps", "data-db") == nil })

        let running = try await harness.startController(settings: FailoverHarness.settings())
        let finished = await harness.store.waitUntil {
            guard let rebuilt = await harness.claim("apps", "data-db"), rebuilt.uid != claim.uid else { return false }
            return await harness.volume(volume)?.value["metadata"]?["annotations"]?["rebound.io/claim-template"] == nil
        }
        #expect(finished)
        #expect(await harness.claim("apps", "data-db")?.value["metadata"]?["annotations"]?["example.com/keep"] == "yes")
        #expect(running.log.actions == [.createClaim("apps/data-db")])
        await running.stop()
        await harness.stop()
    }

    @Test("a deleted node and an out-of-service taint count as failed at once")
    func deletionAndTaint() async throws {
        let harness = try await FailoverHarness.start(nodes: 4, pods: [("on-deleted", "node-2"), ("on-tainted", "node-3")])
        // An hour-long timeout: only deletion and the taint can trigger anything in this test.
        let running = try await harness.startController(settings: FailoverHarness.settings(timeout: .seconds(3600)))

        _ = try await harness.store.delete(Node.resourceType, namespace: nil, name: "node-2")
        let deletedMoved = await harness.store.waitUntil { await harness.pod("apps", "on-deleted") == nil }
        #expect(deletedMoved)
        _ = try await harness.store.patch(Node.resourceType, namespace: nil, name: "node-3", patchType: .merge,
                                          patch: ["spec": ["taints": [["key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"]]]])
        let taintedMoved = await harness.store.waitUntil {
            guard await harness.pod("apps", "on-tainted") == nil else { return false }
            return await harness.claim("apps", "data-on-tainted")?.value["metadata"]?["annotations"]?["rebound.io/rebuilt-from-node"] == "node-3"
        }
        #expect(taintedMoved)
        await running.stop()
        await harness.stop()
    }
}
