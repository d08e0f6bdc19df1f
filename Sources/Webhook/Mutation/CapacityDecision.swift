public import Capacity

/// Whether a pod gets the routing resource that sends it through the scheduler extender, and
/// why not when it does not.
public enum CapacityDecision: Sendable, Equatable {
    /// Routed: the pod needs this much per volume group on its future node.
    case routed(VolumeGroupRequests)
    /// A local claim is already bound, so the volume's node affinity fixes the pod's node and
    /// there is nothing for the extender to choose.
    case claimBound(String)
    /// `spec.nodeName` is set: the pod bypasses the scheduler.
    case nodeAssigned(String)
    /// No claim on a local StorageClass (or none with a size).
    case noLocalClaims
    /// The pod has no regular container to carry the resource (the API server rejects such pods anyway).
    case noContainer
    /// A local claim's storage request cannot be read (too long, out of range): the pod is
    /// admitted with a warning, not routed, because its needs are unknown.
    case unreadableRequest(UnreadableStorageRequest)

    /// A short word for logs.
    public var summary: String {
        switch self {
        case .routed(let requests): "routed \(requests.annotationValue)"
        case .claimBound(let claim): "claim \(claim) is bound"
        case .nodeAssigned(let node): "assigned to node \(node)"
        case .noLocalClaims: "no local claims"
        case .noContainer: "no container"
        case .unreadableRequest(let error): "storage request unreadable (\(error.field))"
        }
    }
}
