public import Kube

/// What the controller will do for one pod on a failed node, in order.
public struct MigrationPlan: Sendable, Hashable {
    /// A node-local claim and what happens to it.
    public struct LocalClaim: Sendable, Hashable {
        public var claim: PersistentVolumeClaim
        /// The bound volume, kept (Retain + labels) unless retention is off.
        public var volumeName: String?
        /// Rebound recreates the claim itself; false when the pod's owner will (StatefulSet
        /// volumeClaimTemplates) or the claim is a generic ephemeral volume (created with the pod).
        public var recreate: Bool
        /// Why `recreate` is what it is, for logs and events.
        public var owner: String
    }

    public var pod: Pod
    public var node: String
    public var reason: FailureReason
    public var localClaims: [LocalClaim]
    /// VolumeAttachments of network volumes on the failed node, deleted once the pod is gone
    /// (only ever listed when the node is confirmed down).
    public var attachments: [String]
    /// Bound volumes of the pod that are not pinned to the node (they can be reached from
    /// elsewhere, so a node that may still run the pod may still write them).
    public var networkVolumes: [String] = []

    public var podKey: String { pod.key }
}

/// Why an eligible pod on a failed node is not moved yet; it is looked at again when anything
/// about it or its node changes.
public enum MigrationHold: Sendable, Hashable, CustomStringConvertible {
    /// The node is only suspected down and the pod has volumes other nodes can reach: moving it
    /// could leave two writers, so it waits for the node to be confirmed down.
    case awaitingConfirmation(volumes: [String])
    /// A node-local claim the migration would rebuild is also used by a pod that is not opted in
    /// or not on the failed node; rebuilding it would take its data from that pod.
    case sharedClaim(claim: String, pod: String, why: String)

    /// The Event reason.
    public var reason: String {
        switch self {
        case .awaitingConfirmation: "ReboundAwaitingFencing"
        case .sharedClaim: "ReboundClaimShared"
        }
    }

    public var description: String {
        switch self {
        case .awaitingConfirmation(let volumes):
            "its volumes \(volumes.joined(separator: ", ")) can be reached from other nodes, and the node is only suspected down (NotReady); it moves once the node is confirmed down: tainted node.kubernetes.io/out-of-service, fenced, or deleted"
        case .sharedClaim(let claim, let pod, let why):
            "claim \(claim) is also used by pod \(pod), which \(why); the claim is never rebuilt under another pod"
        }
    }
}

/// Why a pod on a failed node is left alone.
public enum SkipReason: String, Sendable, Hashable {
    case notOptedIn = "pod is not opted in (migration annotation is not \"true\")"
    case daemonSet = "pod belongs to a DaemonSet, which runs one pod per node by design"
    case mirrorPod = "pod is a static (mirror) pod"
    case completed = "pod has completed"
}
