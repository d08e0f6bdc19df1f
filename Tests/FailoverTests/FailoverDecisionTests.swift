import Capacity
import Failover
import Foundation
import Kube
import Testing

@Suite("Failover decisions (pure)")
struct FailoverDecisionTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)

    @Test("a node fails only after the timeout, at once when out of service")
    func detector() {
        let detector = NodeFailureDetector(notReadyTimeout: .seconds(30))
        #expect(detector.state(of: .init(ready: "True", readySince: start, outOfService: false), now: start) == .healthy)
        let notReady = NodeFailureFacts(ready: "False", readySince: start, outOfService: false)
        #expect(detector.state(of: notReady, now: start.addingTimeInterval(10)) == .suspect(deadline: start.addingTimeInterval(30)))
        #expect(detector.state(of: notReady, now: start.addingTimeInterval(30)).isFailed)
        let unknown = NodeFailureFacts(ready: "Unknown", readySince: nil, outOfService: false)
        #expect(detector.state(of: unknown, now: start.addingTimeInterval(100), firstSeenNotReady: start.addingTimeInterval(90)) == .suspect(deadline: start.addingTimeInterval(120)))
        #expect(detector.state(of: .init(ready: "True", readySince: start, outOfService: true), now: start) == .failed(.outOfService))
        #expect(detector.state(of: .init(ready: nil, readySince: start, outOfService: false), now: start.addingTimeInterval(31)).isFailed)
    }

    @Test("the partition guard allows up to the configured share", arguments: [
        (0, 10, true), (5, 10, true), (6, 10, false), (1, 2, true), (2, 2, false), (1, 1, false), (0, 0, false),
    ])
    func partitionGuard(_ unhealthy: Int, _ total: Int, _ allowed: Bool) {
        #expect(PartitionGuard(maxUnhealthyFraction: 0.5).allowsMigration(unhealthy: unhealthy, total: total) == allowed)
    }

    func volume(_ name: String = "pv", affinity: [NodeSelectorTerm]? = nil, attributes: [String: String]? = nil) -> PersistentVolume {
        PersistentVolume(metadata: ObjectMeta(name: name), spec: PersistentVolumeSpec(
            nodeAffinity: affinity.map { VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: $0)) },
            csi: attributes.map { CSIPersistentVolumeSource(driver: "d", volumeHandle: "h", volumeAttributes: $0) }))
    }

    @Test("local volumes are pinned to their node; zonal and network volumes are not")
    func pinning() {
        let hostname = volume(affinity: [NodeSelectorTerm(matchExpressions: [.init(key: "kubernetes.io/hostname", operator: "In", values: ["node-2"])])])
        #expect(VolumePinning.isPinned(hostname, to: "node-2", nodeLabels: nil))
        #expect(!VolumePinning.isPinned(hostname, to: "node-3", nodeLabels: nil))
        let topolvm = volume(affinity: [NodeSelectorTerm(matchExpressions: [.init(key: "topology.topolvm.io/node", operator: "In", values: ["worker-a"])])])
        #expect(VolumePinning.isPinned(topolvm, to: "node-9", nodeLabels: ["topology.topolvm.io/node": "worker-a"]))
        let byField = volume(affinity: [NodeSelectorTerm(matchFields: [.init(key: "metadata.name", operator: "In", values: ["node-2"])])])
        #expect(VolumePinning.isPinned(byField, to: "node-2", nodeLabels: [:]))
        let zonal = volume(affinity: [NodeSelectorTerm(matchExpressions: [.init(key: "topology.kubernetes.io/zone", operator: "In", values: ["a"])])])
        #expect(!VolumePinning.isPinned(zonal, to: "node-2", nodeLabels: ["topology.kubernetes.io/zone": "a"]))
        #expect(VolumePinning.isPinned(volume(attributes: ["carina.storage.io/node": "node-2"]), to: "node-2", nodeLabels: nil))
        #expect(!VolumePinning.isPinned(volume(), to: "node-2", nodeLabels: nil))
    }

    @Test("each driver's volumes are pinned by its topology key: Carina, TopoLVM, OpenEBS LVM LocalPV", arguments: DriverPreset.all.map(\.name))
    func driverVolumes(_ name: String) throws {
        let driver = try #require(DriverPreset.named(name))
        let labels = [driver.topologyKey: "worker-2", "kubernetes.io/hostname": "worker-2"]
        // As the driver's external-provisioner writes it: one term, the topology key, one node.
        let provisioned = volume(affinity: [NodeSelectorTerm(matchExpressions: [.init(key: driver.topologyKey, operator: "In", values: ["worker-2"])])])
        #expect(VolumePinning.isPinned(provisioned, to: "worker-2", nodeLabels: labels))
        #expect(!VolumePinning.isPinned(provisioned, to: "worker-3", nodeLabels: [driver.topologyKey: "worker-3"]))
        // With the hostname as a second topology key (OpenEBS's Helm chart adds it), still one node.
        let twoKeys = volume(affinity: [NodeSelectorTerm(matchExpressions: [
            .init(key: driver.topologyKey, operator: "In", values: ["worker-2"]), .init(key: "kubernetes.io/hostname", operator: "In", values: ["worker-2"]),
        ])])
        #expect(VolumePinning.isPinned(twoKeys, to: "worker-2", nodeLabels: labels))
        // A driver key admitting two nodes reaches elsewhere: never rebuilt empty.
        let shared = volume(affinity: [NodeSelectorTerm(matchExpressions: [.init(key: driver.topologyKey, operator: "In", values: ["worker-2", "worker-3"])])])
        #expect(!VolumePinning.isPinned(shared, to: "worker-2", nodeLabels: labels))
    }

    func claim(_ name: String, volume: String, uid: String = UUID().uuidString) -> PersistentVolumeClaim {
        var claim = PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: "db", uid: uid, annotations: [
            "pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/selected-node": "node-2", "team": "data",
        ]), spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": "5Gi"]), storageClassName: "local", volumeName: volume))
        claim.metadata.labels = ["app": "db"]
        return claim
    }

    @Test("plans rebuild local claims, leave StatefulSet and ephemeral claims to their owners, and detach network volumes")
    func planner() {
        var pod = Pod(
            metadata: ObjectMeta(name: "db-0", namespace: "db", uid: "p1", annotations: ["carina.storage.io/allow-pod-migration-if-node-notready": "true"],
                                 ownerReferences: [OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "s", controller: true)]),
            spec: PodSpec(containers: [Container(name: "c")], nodeName: "node-2", volumes: [
                Volume(name: "data", persistentVolumeClaim: .init(claimName: "data-db-0")),
                Volume(name: "extra", persistentVolumeClaim: .init(claimName: "extra")),
                Volume(name: "scratch", ephemeral: EphemeralVolumeSource(volumeClaimTemplate: .init(spec: PersistentVolumeClaimSpec()))),
                Volume(name: "shared", persistentVolumeClaim: .init(claimName: "shared")),
                Volume(name: "missing", persistentVolumeClaim: .init(claimName: "gone")),
            ]))
        let pinned = [NodeSelectorTerm(matchExpressions: [.init(key: "kubernetes.io/hostname", operator: "In", values: ["node-2"])])]
        let volumes = [
            "pv-data": volume("pv-data", affinity: pinned), "pv-extra": volume("pv-extra", affinity: pinned),
            "pv-scratch": volume("pv-scratch", affinity: pinned), "pv-shared": volume("pv-shared"),
        ]
        let claims = [
            "data-db-0": claim("data-db-0", volume: "pv-data"), "extra": claim("extra", volume: "pv-extra"),
            "db-0-scratch": claim("db-0-scratch", volume: "pv-scratch"), "shared": claim("shared", volume: "pv-shared"),
        ]
        let attachments = [
            VolumeAttachment(metadata: ObjectMeta(name: "va-shared"), spec: .init(attacher: "ebs", nodeName: "node-2", source: .init(persistentVolumeName: "pv-shared"))),
            VolumeAttachment(metadata: ObjectMeta(name: "va-other-node"), spec: .init(attacher: "ebs", nodeName: "node-5", source: .init(persistentVolumeName: "pv-shared"))),
        ]
        let planner = MigrationPlanner(keys: CompatibilityKeys())
        let plan = planner.plan(pod: pod, node: "node-2", nodeLabels: nil, reason: .outOfService, claims: claims, volumes: volumes, attachments: attachments, claimTemplates: ["data"])
        #expect(plan.localClaims.map(\.claim.name) == ["data-db-0", "extra", "db-0-scratch"])
        #expect(plan.localClaims.map(\.recreate) == [false, true, false])
        #expect(plan.attachments == ["va-shared"])

        // Without the StatefulSet's templates (it could not be read), Rebound recreates the claim itself.
        let unknownOwner = planner.plan(pod: pod, node: "node-2", nodeLabels: nil, reason: .outOfService, claims: claims, volumes: volumes, attachments: [], claimTemplates: nil)
        #expect(unknownOwner.localClaims.first?.recreate == true)

        #expect(planner.skipReason(for: pod) == nil)
        pod.metadata.annotations?["carina.storage.io/allow-pod-migration-if-node-notready"] = "false"
        #expect(planner.skipReason(for: pod) == .notOptedIn)
        pod.metadata.annotations?["carina.storage.io/allow-pod-migration-if-node-notready"] = "true"
        pod.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: "d", uid: "x", controller: true)]
        #expect(planner.skipReason(for: pod) == .daemonSet)
    }

    @Test("the replacement claim keeps spec, labels and owners, and drops the binding")
    func replacement() {
        var old = claim("data", volume: "pv-1", uid: "old")
        old.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Pod", name: "p", uid: "u")]
        old.metadata.resourceVersion = "77"
        let new = MigrationPlanner(keys: CompatibilityKeys()).replacement(for: old, failedNode: "node-2")
        #expect(new.metadata.name == "data" && new.metadata.namespace == "db")
        #expect(new.metadata.uid == nil && new.metadata.resourceVersion == nil)
        #expect(new.metadata.labels == ["app": "db"])
        #expect(new.metadata.annotations == ["team": "data", "rebound.io/rebuilt-from-node": "node-2"])
        #expect(new.metadata.ownerReferences == old.metadata.ownerReferences)
        #expect(new.spec?.volumeName == nil)
        #expect(new.spec?.resources?.requests?["storage"] == Quantity("5Gi"))
        #expect(new.spec?.storageClassName == "local")
    }
}
