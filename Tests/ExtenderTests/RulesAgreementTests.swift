import Capacity
@testable import Extender
import Kube
import TestSupport
import Testing

/// The extender reads claims by the same rules the webhook routes by (`Kube`'s
/// `PersistentVolumeClaim.isBound` and `StorageClassIndex`), so a pod the webhook routed one way is
/// never placed by another rule.
@Suite("Extender and webhook agree on Kubernetes' rules", .timeLimit(.minutes(1)))
struct RulesAgreementTests {
    static let keys = CompatibilityKeys()

    static func facts(claims: [String]) -> PlacementPod {
        PlacementPod(name: "db-0", namespace: "default", uid: "u", routed: true, requestsAnnotation: nil, claimNames: claims, nodeName: nil)
    }

    @Test("a claim naming its volume while its phase is still Pending is bound for the extender too: no new space, its volume pins")
    func boundWhilePending() async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await ClusterFixtures.createStorageClass(client)
            try await ClusterFixtures.createClaim(client, "data-db-0", size: "500Gi", boundTo: "n1")
            _ = try await client.patch(PersistentVolumeClaim.self, "data-db-0", namespace: "default", .merge(["status": ["phase": "Pending"]]), subresource: "status")
        }) { harness in
            let claim = try #require(await harness.caches.claims.get("default/data-db-0"))
            #expect(claim.status?.phase == "Pending" && claim.isBound)
            let volumes = await PodVolumes.read(pod: Self.facts(claims: ["data-db-0"]), caches: harness.caches, keys: Self.keys)
            #expect(volumes.boundLocalClaims == 1)
            #expect(volumes.unprovisioned.isEmpty, "\(volumes.unprovisioned)")
            #expect(volumes.pins.count == 1)
        }
    }

    @Test("a claim without a class takes the newest default class, GA or beta, as the webhook resolves it")
    func defaultClass() async throws {
        try await ExtenderHarness.run(setUp: { client in
            try await ClusterFixtures.createStorageClass(client)
            // The local class is an older GA default; a newer beta default is network storage.
            _ = try await client.patch(StorageClass.self, ClusterFixtures.storageClass, .merge(["metadata": ["annotations": ["storageclass.kubernetes.io/is-default-class": "true"]]]))
            try await Task.sleep(for: .milliseconds(1100))  // creation timestamps have second precision
            _ = try await client.create(StorageClass(
                metadata: ObjectMeta(name: "network", annotations: ["storageclass.beta.kubernetes.io/is-default-class": "true"]), provisioner: "ebs.csi.aws.com"))
            _ = try await client.create(PersistentVolumeClaim(
                metadata: ObjectMeta(name: "data-db-0", namespace: "default"),
                spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": "5Gi"]))))
        }) { harness in
            let classes = await harness.caches.storageClasses.items()
            #expect(StorageClassIndex(classes).resolve(nil)?.name == "network", "the webhook's answer")
            let claim = try #require(await harness.caches.claims.get("default/data-db-0"))
            #expect(await PodVolumes.volumeGroup(of: claim, caches: harness.caches, keys: Self.keys) == nil, "so not local for the extender either")
            let volumes = await PodVolumes.read(pod: Self.facts(claims: ["data-db-0"]), caches: harness.caches, keys: Self.keys)
            #expect(volumes.localClaims == 0)
        }
    }
}
