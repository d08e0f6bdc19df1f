import Capacity
import Kube

/// What the caches say about a pod's node-local claims: which are bound already (their volumes
/// exist, so they need no new space, and pin the pod to their node) and which node kube-scheduler
/// picked for them (the claims' selected-node annotation).
struct PodVolumes: Sendable, Hashable {
    /// The annotation kube-scheduler's volume binding sets on a WaitForFirstConsumer claim.
    static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

    /// GiB per group of the local claims that are bound: space already taken on their node.
    var provisioned = VolumeGroupRequests()
    /// GiB per group of the local claims not bound yet, from their own requests: what the pod
    /// still needs, when every claim is known (``unknownClaims`` is 0).
    var unprovisioned = VolumeGroupRequests()
    /// Claims the cache does not hold (not created yet, or the cache lags): their needs are
    /// known only from the pod's requests annotation.
    var unknownClaims = 0
    /// Bound local claims whose volume only some nodes reach.
    var pins: [VolumePin] = []
    /// Claims that are, or may be (not created yet), node-local.
    var localClaims = 0
    var boundLocalClaims = 0
    /// The node a local claim was assigned to by kube-scheduler, if any.
    var selectedNode: String?

    /// Every local claim is bound: the pod's volumes exist.
    var allLocalClaimsBound: Bool { localClaims > 0 && boundLocalClaims == localClaims }

    /// Looks up the pod's claims, their storage classes and volumes in the caches.
    static func read(pod: PlacementPod, caches: ClusterCaches, keys: CompatibilityKeys) async -> PodVolumes {
        var result = PodVolumes()
        let namespace = pod.namespace
        for claimName in pod.claimNames {
            let key = "\(namespace)/\(claimName)"
            guard let claim = await caches.claims.get(key) else {
                // Not created yet (a generic ephemeral volume, or a StatefulSet claim in flight):
                // it may be local, and it is certainly not provisioned.
                result.localClaims += 1
                result.unknownClaims += 1
                continue
            }
            guard let group = await volumeGroup(of: claim, caches: caches, keys: keys) else { continue }
            result.localClaims += 1
            if result.selectedNode == nil, let selected = claim.metadata.annotations?[selectedNodeAnnotation], !selected.isEmpty {
                result.selectedNode = selected
            }
            guard claim.isBound, let volumeName = claim.volumeName else {
                // A request too large to read counts as the largest: it fits nowhere.
                result.unprovisioned.add(group: group, size: claim.requestedStorage ?? .beyondRange(negative: false))
                continue
            }
            result.boundLocalClaims += 1
            var provisioned = result.provisioned
            provisioned.add(group: group, size: claim.requestedStorage ?? .zero)
            result.provisioned = provisioned
            if let volume = await caches.volumes.get(volumeName), let affinity = volume.spec?.nodeAffinity?.required {
                result.pins.append(VolumePin(claim: key, volume: volumeName, affinity: affinity))
            }
        }
        return result
    }

    /// The volume group a claim's storage class provisions from, nil when it is not node-local.
    /// A claim without a class gets the cluster's default class, as the API server would give it
    /// (``StorageClassIndex/defaultClass(among:)``, the rule the webhook routes by).
    static func volumeGroup(of claim: PersistentVolumeClaim, caches: ClusterCaches, keys: CompatibilityKeys) async -> String? {
        let storageClass: StorageClass?
        if let name = claim.spec?.storageClassName {
            guard !name.isEmpty else { return nil }
            storageClass = await caches.storageClasses.get(name)
        } else {
            storageClass = StorageClassIndex.defaultClass(among: await caches.storageClasses.items())
        }
        return storageClass.flatMap { keys.volumeGroup(of: $0) }
    }
}
