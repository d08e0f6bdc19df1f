import ClusterSim
@testable import Failover
import Foundation
import Kube
import Logging
import Synchronization
import TestSupport
import Testing

/// The failover safety findings, each reproduced against ClusterSim over HTTP: never two writers
/// of one volume, never a volume destroyed that someone still uses.
@Suite("Failover safety: fencing, claim ownership, pinning, leadership, partitions, clocks, queueing", .serialized)
struct FailoverSafetyTests {
    static func deletedPods(_ actions: [MigrationAction]) -> [String] {
        actions.compactMap { if case .deletePod(let key) = $0 { key } else { nil } }
    }

    static func deletedClaims(_ actions: [MigrationAction]) -> [String] {
        actions.compactMap { if case .deleteClaim(let key) = $0 { key } else { nil } }
    }

    // Finding 1.
    @Test("a network volume is never detached from a node that is only suspected down; the out-of-service taint confirms it")
    func networkVolumeWaitsForConfirmation() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("web")
        try await harness.addPodWithVolume(
            "web", pod: "web-0", claim: "shared", volume: "pv-cinder", driver: "cinder.csi.openstack.org",
            affinity: [["matchExpressions": [["key": "topology.cinder.csi.openstack.org/zone", "operator": "In", "values": ["nova"]]]]])
        _ = try await harness.store.create(VolumeAttachment.resourceType, namespace: nil, object: [
            "metadata": ["name": "csi-attach-1"], "spec": ["attacher": "cinder.csi.openstack.org", "nodeName": "node-2", "source": ["persistentVolumeName": "pv-cinder"]],
        ])
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("web", "web-0")]))
        let claimUID = await harness.claim("web", "shared")?.uid
        let running = try await harness.startController(settings: FailoverHarness.settings())

        // Ready=False past the timeout: the kubelet may still be running the pod and writing.
        try await harness.setReady("node-2", "False")
        #expect(await harness.waitForEvent("web", "ReboundAwaitingFencing"))
        #expect(running.log.actions.isEmpty)
        #expect(await harness.pod("web", "web-0") != nil)
        #expect((try? await harness.store.get(VolumeAttachment.resourceType, namespace: nil, name: "csi-attach-1")) != nil)

        // Confirmed down: the pod moves and the attachment goes.
        try await harness.taint("node-2", key: "node.kubernetes.io/out-of-service", value: "nodeshutdown")
        let detached = await harness.store.waitUntil([Pod.resourceType, VolumeAttachment.resourceType]) {
            guard await harness.pod("web", "web-0") == nil else { return false }
            return (try? await harness.store.get(VolumeAttachment.resourceType, namespace: nil, name: "csi-attach-1")) == nil
        }
        #expect(detached)
        #expect(await harness.claim("web", "shared")?.uid == claimUID)
        await running.stop()
        await harness.stop()
    }

    @Test("a configured fencing taint confirms a node down; Medik8s' in-progress remediation taint alone does not")
    func fencingTaint() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("web")
        try await harness.addPodWithVolume("web", pod: "web-0", claim: "shared", volume: "pv-net", driver: "nfs.csi.k8s.io", affinity: [])
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("web", "web-0")]))
        var settings = FailoverHarness.settings(timeout: .seconds(60))
        settings.fencing = FencingSignals(taints: ["example.com/fenced=true"])
        let running = try await harness.startController(settings: settings)
        try await harness.setReady("node-2", "Unknown")
        try await harness.taint("node-2", key: "medik8s.io/remediation", value: "self-node-remediation")
        try await Task.sleep(for: .milliseconds(500))
        #expect(await running.controller.nodeStates["node-2"]?.isFailed == false)
        try await harness.taint("node-2", key: "example.com/fenced", value: "true")
        #expect(await harness.store.waitUntil { await harness.pod("web", "web-0") == nil })
        #expect(await running.controller.nodeStates["node-2"] == .failed(.fenced(signal: "taint example.com/fenced=true:NoExecute")))
        await running.stop()
        await harness.stop()
    }

    // Finding 2.
    @Test("a local claim also used by an opted-out pod is never rebuilt, and the opted-in pod waits with an Event")
    func sharedClaim() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("apps", optIn: false)
        _ = try await harness.store.create(PersistentVolumeClaim.resourceType, namespace: "apps", object: [
            "metadata": ["name": "shared-data"],
            "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "2Gi"]]],
        ])
        for (name, annotation) in [("writer", "true"), ("reader", "false")] {
            var pod = FailoverHarness.template(annotation: annotation)
            pod["metadata"]?["name"] = .string(name)
            pod["spec"]?["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": "shared-data"]]]
            _ = try await harness.store.create(Pod.resourceType, namespace: "apps", object: pod)
        }
        try await harness.addStandalonePod("apps", "solo")
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("apps", "writer"), ("apps", "reader"), ("apps", "solo")]))
        let claimUID = await harness.claim("apps", "shared-data")?.uid
        #expect(claimUID != nil)
        let running = try await harness.startController(settings: FailoverHarness.settings())

        try await harness.setReady("node-2", "False")
        #expect(await running.log.waitFor { Self.deletedPods($0).contains("apps/solo") })
        #expect(await harness.waitForEvent("apps", "ReboundClaimShared"))
        #expect(await harness.claim("apps", "shared-data")?.uid == claimUID)
        #expect(await harness.pod("apps", "writer") != nil)
        #expect(!Self.deletedClaims(running.log.actions).contains("apps/shared-data"))
        #expect(Self.deletedPods(running.log.actions) == ["apps/solo"])
        await running.stop()
        await harness.stop()
    }

    // Finding 3.
    @Test("a volume whose affinity admits two nodes is not pinned: its claim is never rebuilt empty")
    func multiNodeAffinity() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("apps")
        try await harness.addPodWithVolume(
            "apps", pod: "db-0", claim: "data-db-0", volume: "pv-two-nodes", driver: "carina.storage.io", affinity: [FailoverHarness.hostnames("node-2", "node-3")])
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("apps", "db-0")]))
        let claimUID = await harness.claim("apps", "data-db-0")?.uid
        let running = try await harness.startController(settings: FailoverHarness.settings())

        try await harness.setReady("node-2", "False")
        #expect(await harness.waitForEvent("apps", "ReboundAwaitingFencing"))
        try await harness.taint("node-2", key: "node.kubernetes.io/out-of-service", value: "nodeshutdown")
        #expect(await harness.store.waitUntil { await harness.pod("apps", "db-0") == nil })
        #expect(await harness.claim("apps", "data-db-0")?.uid == claimUID)
        #expect(Self.deletedClaims(running.log.actions).isEmpty)
        await running.stop()
        await harness.stop()
    }

    // Finding 4.
    @Test("a leader whose lease requests hang stops acting before another replica takes the lease")
    func hangingLeaseRenewals() async throws {
        let harness = try await FailoverHarness.start(nodes: 5, pods: (0..<3).map { ("db-\($0)", "node-2") })

        struct Replica {
            let elector: LeaderElector
            let client: KubeClient
            let log: ActionLog
            var task: Task<Void, Never>?
        }
        func replica(_ identity: String) throws -> Replica {
            let (elector, client) = try harness.elector(identity)
            return Replica(elector: elector, client: client, log: ActionLog())
        }
        func start(_ replica: inout Replica, _ identity: String) {
            let elector = replica.elector
            let work = FailoverHarness.controller(client: replica.client, settings: FailoverHarness.settings(), identity: identity, log: replica.log, mayAct: { elector.mayAct() })
            replica.task = Task { await elector.run(whileLeading: work) }
        }
        var a = try replica("replica-a")
        var b = try replica("replica-b")
        start(&a, "replica-a")
        #expect(await poll { await a.elector.isLeader })
        start(&b, "replica-b")
        try await Task.sleep(for: .milliseconds(500))
        #expect(await !b.elector.isLeader)

        // A proxy holds every Lease request of replica A; its other requests pass.
        await harness.sim.server.api.faults.delay(.seconds(3600), when: .init(pathContains: "/leases", userAgentContains: "replica-a"))
        let bLeads = await poll(timeout: .seconds(15)) { await b.elector.isLeader }
        #expect(bLeads)
        // The moment B leads, A's term is over: it may not write any more.
        #expect(!a.elector.mayAct())

        // A node is deleted: only B acts.
        _ = try await harness.store.delete(Node.resourceType, namespace: nil, name: "node-2")
        #expect(await harness.store.waitUntil { for index in 0..<3 where await harness.pod("apps", "db-\(index)") != nil { return false }; return true })
        _ = await b.log.waitFor { Self.deletedPods($0).count >= 3 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(Self.deletedPods(b.log.actions).count == 3)
        #expect(a.log.actions.isEmpty, "the replica that lost its lease acted: \(a.log.actions)")

        await harness.sim.server.api.faults.clear()
        for replica in [a, b] {
            replica.task?.cancel()
            await replica.task?.value
            try? await replica.client.shutdown()
        }
        await harness.stop()
    }

    @Test("two replicas with one identity never lead together")
    func duplicateIdentity() async throws {
        let harness = try await FailoverHarness.start()
        var electors: [(LeaderElector, KubeClient, Task<Void, Never>)] = []
        for _ in 0..<2 {
            let (elector, client) = try harness.elector("same-name")
            electors.append((elector, client, Task { await elector.run { try? await Task.sleep(for: .seconds(3600)) } }))
            _ = await poll { await electors[0].0.isLeader }
        }
        var both = false
        for _ in 0..<60 {
            let first = electors[0].0.mayAct()
            let second = electors[1].0.mayAct()
            if first && second { both = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!both)
        #expect(await electors[0].0.isLeader)
        for (_, client, task) in electors {
            task.cancel()
            await task.value
            try? await client.shutdown()
        }
        await harness.stop()
    }

    // Finding 5.
    @Test("when the partition guard lets go, nodes still down restart their timers instead of failing at once")
    func partitionRelease() async throws {
        let harness = try await FailoverHarness.start(nodes: 4, pods: [("db", "node-2")])
        let running = try await harness.startController(settings: FailoverHarness.settings(timeout: .seconds(2)))
        for name in ["node-2", "node-3", "node-4"] { try await harness.setReady(name, "Unknown") }
        #expect(await poll { await running.controller.isPaused })
        #expect(await poll { await running.controller.nodeStates["node-2"]?.isFailed == true })

        try await harness.setReady("node-3", "True")
        try await harness.setReady("node-4", "True")
        #expect(await poll { await !running.controller.isPaused })
        let released = ContinuousClock.now
        try await Task.sleep(for: .seconds(1))
        #expect(await harness.pod("apps", "db") != nil, "the pod was deleted on the node's old timer")
        #expect(running.log.actions.isEmpty)
        #expect(await harness.store.waitUntil { await harness.pod("apps", "db") == nil })
        #expect(ContinuousClock.now - released >= .milliseconds(1500))
        await running.stop()
        await harness.stop()
    }

    @Test("the per-zone guard holds the zone that looks partitioned and lets the others move")
    func zoneGuard() async throws {
        let harness = try await FailoverHarness.start()
        for (name, zone) in [("a-1", "a"), ("a-2", "a"), ("a-3", "a"), ("b-1", "b"), ("b-2", "b"), ("b-3", "b")] {
            try await harness.addNode(name)
            _ = try await harness.store.patch(Node.resourceType, namespace: nil, name: name, patchType: .merge, patch: [
                "metadata": ["labels": ["topology.kubernetes.io/zone": .string(zone)]],
            ])
        }
        try await harness.addNamespace("apps")
        try await harness.addStandalonePod("apps", "in-a")
        try await harness.schedulePending(to: "a-1")
        try await harness.addStandalonePod("apps", "in-b")
        try await harness.schedulePending(to: "b-1")
        #expect(await harness.waitRunning([("apps", "in-a"), ("apps", "in-b")]))
        var settings = FailoverHarness.settings(timeout: .milliseconds(500))
        settings.perZonePartitionGuard = true
        let running = try await harness.startController(settings: settings)

        // Two of zone a's three nodes and one of zone b's fail: 3 of 6 in the cluster is allowed,
        // 2 of 3 in zone a is not.
        for name in ["a-1", "a-2", "b-1"] { try await harness.setReady(name, "Unknown") }
        #expect(await harness.store.waitUntil { await harness.pod("apps", "in-b") == nil })
        #expect(await running.controller.isPaused)
        try await Task.sleep(for: .milliseconds(800))
        #expect(await harness.pod("apps", "in-a") != nil)

        try await harness.setReady("a-2", "True")
        #expect(await harness.store.waitUntil { await harness.pod("apps", "in-a") == nil })
        #expect(await !running.controller.isPaused)
        await running.stop()
        await harness.stop()
    }

    // Finding 6.
    @Test("a kubelet's clock decides nothing: an old transition time waits the full timeout, a future one does not postpone")
    func clockSkew() async throws {
        let harness = try await FailoverHarness.start(nodes: 5, pods: [("behind", "node-2"), ("ahead", "node-3")])
        let running = try await harness.startController(settings: FailoverHarness.settings(timeout: .seconds(2)))

        // node-2's kubelet clock runs an hour behind, node-3's an hour ahead.
        let changed = ContinuousClock.now
        try await harness.setReady("node-2", "False", since: Date().addingTimeInterval(-3600))
        try await harness.setReady("node-3", "False", since: Date().addingTimeInterval(3600))
        try await Task.sleep(for: .seconds(1))
        #expect(await harness.pod("apps", "behind") != nil, "failed at first sight on the kubelet's clock")
        let both = await harness.store.waitUntil(timeout: .seconds(15)) {
            let behind = await harness.pod("apps", "behind")
            let ahead = await harness.pod("apps", "ahead")
            return behind == nil && ahead == nil
        }
        #expect(both, "a transition time in the future postponed failover")
        #expect(ContinuousClock.now - changed >= .seconds(2))
        await running.stop()
        await harness.stop()
    }

    // Finding 7.
    @Test("a pod replaced while its migration waits in the rate limiter is migrated too")
    func updateDuringProcessing() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("apps")
        try await harness.addStatefulSet("apps", "db", replicas: 2)
        #expect(await harness.store.waitUntil { await harness.pod("apps", "db-1") != nil })
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("apps", "db-0"), ("apps", "db-1")]))
        var settings = FailoverHarness.settings()
        settings.migrationsPerSecond = 0.125  // the second pod waits 8 s for its turn
        settings.migrationBurst = 1
        settings.workers = 2
        let running = try await harness.startController(settings: settings)
        try await harness.setReady("node-2", "False")
        #expect(await running.log.waitFor { Self.deletedPods($0).count >= 1 })

        // Whichever pod got the first turn, the other waits for the next one (8 s). Meanwhile an
        // operator force-deletes it; its StatefulSet recreates it, pending, still naming the claim
        // pinned to node-2.
        let waiting = Self.deletedPods(running.log.actions).first == "apps/db-0" ? "db-1" : "db-0"
        let first = await harness.pod("apps", waiting)?.uid
        _ = try await harness.store.delete(Pod.resourceType, namespace: "apps", name: waiting, options: SimStore.DeleteOptions(gracePeriodSeconds: 0))
        #expect(await harness.store.waitUntil { await harness.pod("apps", waiting).map { $0.uid != first } ?? false })
        let replacement = await harness.pod("apps", waiting)?.uid
        #expect(replacement != nil)
        // The replacement can never start on node-2's claim: it is migrated in turn.
        let migrated = await harness.store.waitUntil(timeout: .seconds(20)) {
            guard let pod = await harness.pod("apps", waiting) else { return false }
            return pod.uid != replacement
        }
        #expect(migrated)
        await running.stop()
        await harness.stop()
    }

    @Test("the work queue never drops a key changed while it is processed, and never hands it out twice at once")
    func workQueue() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.queuedCount == 2)
        let first = await queue.next()
        #expect(first == "a")
        await queue.add("a")  // changed while processing
        #expect(await queue.queuedCount == 1)
        #expect(await queue.next() == "b")
        await queue.done("a")
        #expect(await queue.queuedCount == 1)
        #expect(await queue.next() == "a")
        await queue.done("a")
        await queue.done("b")
        #expect(await queue.queuedCount == 0)
        await queue.shutDown()
        #expect(await queue.next() == nil)
    }

    // Re-check before each destructive step.
    @Test("a node that recovered stops the migration before its claims are deleted, and the marks are cleared")
    func recoveredBeforeDeletion() async throws {
        let harness = try await FailoverHarness.start(nodes: 2, pods: [("db", "node-2")])
        let client = try harness.sim.client()
        let pod = try await client.get(Pod.self, "db", namespace: "apps")
        let claim = try await client.get(PersistentVolumeClaim.self, "data-db", namespace: "apps")
        let volume = try await client.get(PersistentVolume.self, claim.volumeName ?? "", namespace: nil)
        let settings = FailoverHarness.settings()
        let planner = MigrationPlanner(keys: settings.keys)
        let plan = planner.plan(
            pod: pod, node: "node-2", nodeLabels: nil, reason: .outOfService, claims: ["data-db": claim], volumes: [volume.name: volume], attachments: [],
            claimTemplates: nil)
        #expect(plan.localClaims.count == 1)
        let log = ActionLog()
        var logger = Logger(label: "test.executor")
        logger.logLevel = .critical
        var executor = MigrationExecutor(
            client: client, settings: settings, recorder: EventRecorder(client: client, instance: "test", logger: logger), metrics: FailoverMetrics(),
            logger: logger, waiter: ClaimDeletionWaiter(), planner: planner, observer: { log.record($0) })
        executor.nodeStatus = { _ in .recovered }
        #expect(await executor.execute(plan) == false)
        #expect(!log.actions.contains { if case .deleteClaim = $0 { true } else { false } })
        #expect(await harness.claim("apps", "data-db")?.uid == claim.metadata.uid)
        #expect(await harness.pod("apps", "db")?.uid == pod.metadata.uid)
        let labels = await harness.volume(volume.name)?.value["metadata"]?["labels"]
        #expect(labels?["rebound.io/failed-node"] == nil)
        let annotations = await harness.volume(volume.name)?.value["metadata"]?["annotations"]
        #expect(annotations?["rebound.io/claim-template"] == nil)

        // A replica that is no longer leader writes nothing at all.
        executor.nodeStatus = { _ in .stillDown }
        executor.mayAct = { false }
        #expect(await executor.execute(plan) == false)
        #expect(await harness.pod("apps", "db")?.uid == pod.metadata.uid)
        try? await client.shutdown()
        await harness.stop()
    }
}

extension FailoverSafetyTests {
    @Test("slow lease requests that still finish within the renew deadline keep the leader's term; the other replica never leads")
    func slowLeaseRenewals() async throws {
        let harness = try await FailoverHarness.start()
        var electors: [(LeaderElector, KubeClient, Task<Void, Never>)] = []
        for identity in ["replica-a", "replica-b"] {
            let (elector, client) = try harness.elector(identity)
            electors.append((elector, client, Task { await elector.run { try? await Task.sleep(for: .seconds(3600)) } }))
            #expect(await poll { await electors[0].0.isLeader })
        }
        // Every lease request of the leader takes 300 ms (a GET and an UPDATE: 600 ms a renewal).
        await harness.sim.server.api.faults.delay(.milliseconds(300), when: .init(pathContains: "/leases", userAgentContains: "replica-a"))
        var overlap = false
        var aLostTerm = false
        for _ in 0..<80 {
            let a = electors[0].0.mayAct()
            let b = electors[1].0.mayAct()
            if a && b { overlap = true }
            if !a { aLostTerm = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!overlap)
        #expect(!aLostTerm)
        #expect(await !electors[1].0.isLeader)
        await harness.sim.server.api.faults.clear()
        for (_, client, task) in electors {
            task.cancel()
            await task.value
            try? await client.shutdown()
        }
        await harness.stop()
    }
}

extension FailoverSafetyTests {
    @Test("a node deleted while no controller watched (between leaders) is found from its pods, confirmed by a live read")
    func nodeDeletedBetweenLeaders() async throws {
        let harness = try await FailoverHarness.start(nodes: 3, pods: [("db", "node-2")])
        _ = try await harness.store.delete(Node.resourceType, namespace: nil, name: "node-2")
        let running = try await harness.startController(settings: FailoverHarness.settings())
        #expect(await running.log.waitFor { Self.deletedPods($0) == ["apps/db"] })
        #expect(await running.controller.nodeStates["node-2"] == .failed(.deleted))
        await running.stop()
        await harness.stop()
    }
}
