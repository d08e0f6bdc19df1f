public import Capacity
public import Kube

/// The webhook's decision, as a pure function of the pod and what the cluster holds: no I/O,
/// so every case is testable with plain values.
public enum PodMutator {
    /// Decides what to change on `pod` (the Pod object of an AdmissionReview).
    ///
    /// - Parameters:
    ///   - namespaceLabels: labels of the pod's namespace.
    ///   - claims: the PVCs of the pod's namespace that its volumes name, by claim name; a name
    ///     missing here is a claim that does not exist.
    ///   - storageClasses: the cluster's StorageClasses.
    ///   - keys: which annotation, label, StorageClass and resource keys to use.
    public static func mutate(
        pod: JSONValue, namespaceLabels: [String: String], claims: [String: PersistentVolumeClaim],
        storageClasses: StorageClassIndex, keys: CompatibilityKeys
    ) -> PodMutation {
        mutate(facts: AdmittedPod(pod: pod), namespaceLabels: namespaceLabels, claims: claims, storageClasses: storageClasses, keys: keys)
    }

    /// ``mutate(pod:namespaceLabels:claims:storageClasses:keys:)`` for a pod already read into
    /// its facts (the webhook reads them straight from the review).
    public static func mutate(
        facts pod: AdmittedPod, namespaceLabels: [String: String], claims: [String: PersistentVolumeClaim],
        storageClasses: StorageClassIndex, keys: CompatibilityKeys
    ) -> PodMutation {
        guard namespaceLabels[keys.namespaceLabel] == "true" else { return PodMutation(outcome: .namespaceNotOptedIn) }

        var requests = VolumeGroupRequests()
        var boundClaim: String?
        var unreadable: UnreadableStorageRequest?
        for reference in pod.claims {
            switch reference {
            case .persistentVolumeClaim(let claimName):
                guard let claim = claims[claimName] else { return PodMutation(outcome: .claimMissing(claimName)) }
                guard let storageClass = storageClasses.resolve(claim.spec?.storageClassName),
                    let group = keys.volumeGroup(of: storageClass)
                else { continue }
                if claim.isBound {
                    boundClaim = boundClaim ?? claimName
                } else if let size = claim.requestedStorage, !size.isBeyondRange {
                    requests.add(group: group, size: size)
                } else {
                    // The API server requires the request, so only one Rebound could not read is missing.
                    unreadable = unreadable ?? UnreadableStorageRequest(
                        field: "persistentvolumeclaims/\(claimName) spec.resources.requests.storage",
                        problem: "missing, or not a quantity Rebound reads (at most \(Quantity.maximumTextLength) characters, up to 1.7e29)")
                }
            case .ephemeral(_, let storageClassName, let size):
                // The claim is created after admission, so it cannot be bound yet.
                guard let storageClass = storageClasses.resolve(storageClassName),
                    let group = keys.volumeGroup(of: storageClass), let size
                else { continue }
                switch size {
                case .success(let size): requests.add(group: group, size: size)
                case .failure(let error): unreadable = unreadable ?? error
                }
            }
        }

        let capacity: CapacityDecision
        if let boundClaim {
            capacity = .claimBound(boundClaim)
        } else if let unreadable {
            capacity = .unreadableRequest(unreadable)
        } else if let node = pod.nodeName, !node.isEmpty {
            capacity = .nodeAssigned(node)
        } else if requests.isEmpty {
            capacity = .noLocalClaims
        } else if pod.firstContainer == nil {
            capacity = .noContainer
        } else {
            capacity = .routed(requests)
        }

        var patch = PodPatchBuilder(facts: pod)
        // Only an absent annotation is set: an explicit "false" (or anything else) is the user's.
        patch.setAnnotation(keys.migrationAnnotation, to: "true", overwrite: false)
        if case .routed(let requests) = capacity {
            // A stale value (another webhook changed the volumes before a re-invocation) is replaced.
            patch.setAnnotation(keys.requestsAnnotation, to: requests.annotationValue, overwrite: true) {
                VolumeGroupRequests(annotationValue: $0) == requests
            }
            patch.setFirstContainerResource(keys.routingResource, to: requests.totalGiB)
        }
        let operations = patch.operations
        return PodMutation(outcome: operations.isEmpty ? .alreadyCurrent : .patched, operations: operations, capacity: capacity)
    }
}
