import Capacity
import Kube

/// What a routed pod needs on its node, decided from what can be trusted most.
///
/// The requests annotation is written by the webhook, but, like every annotation, also by anyone
/// who can create a pod. So the pod's own claims decide wherever the cache holds them all; the
/// annotation speaks only for claims not created yet (or not cached yet), and only when it is
/// well formed, bounded (``VolumeGroupRequests/read(annotationValue:)``) and names volume groups
/// that a node-local StorageClass provides.
enum PodDemand {
    /// - Parameters:
    ///   - volumes: what the caches hold about the pod's claims.
    ///   - knownGroups: the volume groups node-local StorageClasses provide; asked for only when
    ///     the annotation has to be read.
    static func resolve(pod: PlacementPod, volumes: PodVolumes, keys: CompatibilityKeys, knownGroups: () -> Set<String>) -> StorageDemand {
        guard pod.routed else { return .notRouted }
        if volumes.unknownClaims == 0 { return .needs(volumes.unprovisioned) }
        let annotated = StorageDemand.read(routed: true, annotation: pod.requestsAnnotation, annotationKey: keys.requestsAnnotation)
        guard case .needs(let requests) = annotated else { return annotated }
        let known = knownGroups()
        if let unknown = requests.gibByGroup.keys.sorted().first(where: { !known.contains($0) }) {
            return .unreadable("the pod's \(keys.requestsAnnotation) annotation names volume group \(unknown), which no node-local StorageClass provides")
        }
        return .needs(requests.subtracting(volumes.provisioned))
    }

    /// The volume groups the cluster's node-local StorageClasses provide.
    static func knownGroups(caches: ClusterCaches, keys: CompatibilityKeys) async -> Set<String> {
        Set(await caches.storageClasses.items().compactMap { keys.volumeGroup(of: $0) })
    }
}
