import ClusterSim
import Failover
import Foundation
import Kube
import TestSupport
import Testing

@Suite("Failover controller against ClusterSim", .serialized)
struct FailoverControllerTests {
    @Test("the seed story: a StatefulSet pod and a standalone pod leave failed node-2 and their claims are rebuilt")
    func seedStory() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("mysql")
        try await harness.addStatefulSet("mysql", "my-cluster-mysql")
        try await harness.addStandalonePod("mysql", "standalone")
        #expect(await harness.store.waitUntil { await harness.pod("mysql", "my-cluster-mysql-0") != nil })
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("mysql", "my-cluster-mysql-0"), ("mysql", "standalone")]))

        let oldPod = try #require(await harness.pod("mysql", "my-cluster-mysql-0"))
        let oldClaim = try #require(await harness.claim("mysql", "data-my-cluster-mysql-0"))
        let oldVolume = try #require(oldClaim.boundVolume)
        let oldStandaloneClaim = try #require(await harness.claim("mysql", "data-standalone"))
        let oldStandaloneVolume = try #require(oldStandaloneClaim.boundVolume)
        let running = try await harness.startController(settings: FailoverHarness.settings())

        let failedAt = Date()
        try await harness.setReady("node-2", "False", since: failedAt)
        let migrated = await harness.store.waitUntil {
            guard let pod = await harness.pod("mysql", "my-cluster-mysql-0"), pod.uid != oldPod.uid else { return false }
            guard let claim = await harness.claim("mysql", "data-my-cluster-mysql-0"), claim.uid != oldClaim.uid else { return false }
            guard let standalone = await harness.claim("mysql", "data-standalone"), standalone.uid != oldStandaloneClaim.uid else { return false }
            return await harness.pod("mysql", "standalone") == nil
        }
        #expect(migrated)
        #expect(Date().timeIntervalSince(failedAt) >= 1, "acted before the not-ready timeout")

        // The StatefulSet recreated its pod and claim; the claim is fresh and unbound.
        let newClaim = try #require(await harness.claim("mysql", "data-my-cluster-mysql-0"))
        #expect(newClaim.boundVolume == nil)
        // Rebound recreated the standalone claim with its labels, without binding annotations.
        let rebuilt = try #require(await harness.claim("mysql", "data-standalone"))
        #expect(rebuilt.value["metadata"]?["labels"]?["app"] == "standalone")
        #expect(rebuilt.value["metadata"]?["annotations"]?["example.com/keep"] == "yes")
        #expect(rebuilt.value["metadata"]?["annotations"]?["rebound.io/rebuilt-from-node"] == "node-2")
        #expect(rebuilt.value["metadata"]?["annotations"]?["volume.kubernetes.io/selected-node"] == nil)
        #expect(rebuilt.boundVolume == nil)
        #expect(rebuilt.value["spec"]?["resources"]?["requests"]?["storage"] == "2Gi")
        // Both old volumes are kept, labelled with the failed node.
        for name in [oldVolume, oldStandaloneVolume] {
            let volume = try #require(await harness.volume(name))
            #expect(volume.value["spec"]?["persistentVolumeReclaimPolicy"] == "Retain")
            #expect(volume.labels["rebound.io/failed-node"] == "node-2")
            #expect(volume.labels["rebound.io/failed-at"]?.hasSuffix("Z") == true)
        }
        // The replacement lands on node-3 and gets a new volume there.
        try await harness.schedulePending(to: "node-3")
        #expect(await harness.waitRunning([("mysql", "my-cluster-mysql-0")]))
        let placed = try #require(await harness.claim("mysql", "data-my-cluster-mysql-0")?.boundVolume)
        #expect(await harness.volume(placed)?.value["spec"]?["nodeAffinity"]?.jsonString.contains("node-3") == true)
        // Every write was recorded as an Event.
        let reasons: Set<String> = ["ReboundMigrating", "ReboundClaimDeleted", "ReboundPodForceDeleted", "ReboundClaimRebuilt"]
        let recorded = await harness.store.waitUntil([Event.resourceType]) {
            let events = (try? await harness.store.list(Event.resourceType, namespace: "mysql").items) ?? []
            return reasons.isSubset(of: Set(events.compactMap { $0.value["reason"]?.stringValue }))
        }
        #expect(recorded, "not every action was recorded as an Event")
        let volumeEvents = try await harness.store.list(Event.resourceType, namespace: "default").items.compactMap { $0.value["reason"]?.stringValue }
        #expect(volumeEvents.contains("ReboundVolumeRetained"))
        // Two volumes marked, two claims and two pods deleted, one claim recreated.
        _ = await running.log.waitFor(count: 7)
        let actions = running.log.actions
        #expect(actions.filter { if case .deletePod = $0 { return true } else { return false } }.count == 2)
        #expect(actions.contains(.createClaim("mysql/data-standalone")))
        #expect(!actions.contains(.createClaim("mysql/data-my-cluster-mysql-0")), "the StatefulSet recreates its own claims")
        await running.stop()
        await harness.stop()
    }

    @Test("pods without the annotation or with \"false\" stay; a node that recovers in time is left alone")
    func untouched() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("apps", optIn: false)
        try await harness.addStandalonePod("apps", "no-annotation", annotation: nil)
        try await harness.addStandalonePod("apps", "opted-out", annotation: "false")
        try await harness.addStandalonePod("apps", "opted-in", annotation: "true")
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("apps", "no-annotation"), ("apps", "opted-out"), ("apps", "opted-in")]))
        let before = await (harness.pod("apps", "no-annotation")?.uid, harness.pod("apps", "opted-out")?.uid)
        let running = try await harness.startController(settings: FailoverHarness.settings())

        // node-2 blips: NotReady, then Ready again before the timeout.
        try await harness.setReady("node-2", "Unknown")
        try await harness.setReady("node-2", "True")
        try await Task.sleep(for: .milliseconds(1500))  // past the deadline the blip would have set
        #expect(running.log.actions.isEmpty)
        #expect(await harness.pod("apps", "opted-in") != nil)

        // node-2 fails for real: only the opted-in pod moves.
        try await harness.setReady("node-2", "False")
        #expect(await harness.store.waitUntil { await harness.pod("apps", "opted-in") == nil })
        let after = await (harness.pod("apps", "no-annotation")?.uid, harness.pod("apps", "opted-out")?.uid)
        #expect(after == before)
        #expect(await harness.claim("apps", "data-opted-out")?.boundVolume != nil)
        await running.stop()
        await harness.stop()
    }

    @Test("the partition guard pauses migration while most nodes are down, and resumes when they return")
    func partitionGuard() async throws {
        let harness = try await FailoverHarness.start(nodes: 4, pods: [("db", "node-2")])
        let running = try await harness.startController(settings: FailoverHarness.settings(timeout: .milliseconds(300)))

        for name in ["node-2", "node-3", "node-4"] { try await harness.setReady(name, "Unknown") }
        let allFailed = await poll {
            let states = await running.controller.nodeStates
            return ["node-2", "node-3", "node-4"].allSatisfy { states[$0]?.isFailed == true }
        }
        #expect(allFailed)
        #expect(await running.controller.isPaused)
        #expect(running.log.actions.isEmpty)
        #expect(await harness.pod("apps", "db") != nil)

        // Two nodes come back: one of four is down, under the 50% line, so node-2's pod moves.
        try await harness.setReady("node-3", "True")
        try await harness.setReady("node-4", "True")
        #expect(await harness.store.waitUntil { await harness.pod("apps", "db") == nil })
        #expect(await !running.controller.isPaused)
        await running.stop()
        await harness.stop()
    }

    @Test("with networkVolumesRequireConfirmation off, a pod with a network volume moves off a suspected node; its attachment stays, and its claim")
    func networkVolume() async throws {
        let harness = try await FailoverHarness.start()
        for name in ["node-1", "node-2", "node-3"] { try await harness.addNode(name) }
        try await harness.addNamespace("web")
        _ = try await harness.store.create(PersistentVolume.resourceType, namespace: nil, object: [
            "metadata": ["name": "pv-ebs"],
            "spec": ["capacity": ["storage": "10Gi"], "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete",
                     "csi": ["driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"], "claimRef": ["namespace": "web", "name": "shared"],
                     "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [["key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-1a"]]]]]]]],
            "status": ["phase": "Bound"],
        ])
        _ = try await harness.store.create(PersistentVolumeClaim.resourceType, namespace: "web", object: [
            "metadata": ["name": "shared"], "spec": ["accessModes": ["ReadWriteOnce"], "volumeName": "pv-ebs", "resources": ["requests": ["storage": "10Gi"]]],
        ])
        _ = try await harness.store.create(VolumeAttachment.resourceType, namespace: nil, object: [
            "metadata": ["name": "csi-attach-1"], "spec": ["attacher": "ebs.csi.aws.com", "nodeName": "node-2", "source": ["persistentVolumeName": "pv-ebs"]],
        ])
        var pod = FailoverHarness.template(annotation: "true")
        pod["metadata"]?["name"] = "web-0"
        pod["spec"]?["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": "shared"]]]
        _ = try await harness.store.create(Pod.resourceType, namespace: "web", object: pod)
        try await harness.schedulePending(to: "node-2")
        #expect(await harness.waitRunning([("web", "web-0")]))
        let claimUID = await harness.claim("web", "shared")?.uid
        var settings = FailoverHarness.settings()
        settings.networkVolumesRequireConfirmation = false
        let running = try await harness.startController(settings: settings)
        try await harness.setReady("node-2", "False")
        #expect(await running.log.waitFor { $0.contains(.deletePod("web/web-0")) })
        // Only suspected down: the attachment is never deleted (only a confirmed-down node's are).
        #expect(!running.log.actions.contains(.deleteAttachment("csi-attach-1")))
        #expect((try? await harness.store.get(VolumeAttachment.resourceType, namespace: nil, name: "csi-attach-1")) != nil)
        #expect(await harness.claim("web", "shared")?.uid == claimUID)
        #expect(await harness.volume("pv-ebs")?.value["spec"]?["persistentVolumeReclaimPolicy"] == "Delete")
        await running.stop()
        await harness.stop()
    }

    @Test("dry-run plans every action and writes nothing")
    func dryRun() async throws {
        let harness = try await FailoverHarness.start(nodes: 3, namespace: "mysql", pods: [("db", "node-2")])
        var settings = FailoverHarness.settings(timeout: .milliseconds(200))
        settings.dryRun = true
        let running = try await harness.startController(settings: settings)
        try await harness.setReady("node-2", "False")
        let revision = await harness.store.revision
        let planned = await running.log.waitFor(count: 4)
        #expect(planned)
        #expect(Set(running.log.actions) == [.retainVolume(running.log.actions.compactMap { if case .retainVolume(let v) = $0 { v } else { nil } }.first ?? ""), .deleteClaim("mysql/data-db"), .deletePod("mysql/db"), .createClaim("mysql/data-db")])
        #expect(await harness.store.revision == revision, "dry-run wrote to the API")
        #expect(await harness.pod("mysql", "db") != nil)
        await running.stop()
        await harness.stop()
    }
}
