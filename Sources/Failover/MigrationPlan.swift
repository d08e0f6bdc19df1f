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
    /// VolumeAttachments of network volumes on the failed node, deleted once the pod is gone.
    public var attachments: [String]

    public var podKey: String { pod.key }
}

/// Why a pod on a failed node is left alone.
public enum SkipReason: String, Sendable, Hashable {
    case notOptedIn = "pod is not opted in (migration annotation is not \"true\")"
    case daemonSet = "pod belongs to a DaemonSet, which runs one pod per node by design"
    case mirrorPod = "pod is a static (mirror) pod"
    case completed = "pod has completed"
}
