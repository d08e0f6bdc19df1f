public import Kube

/// A resource the simulated API server serves, with the server-side behaviour it gets.
public struct SimResource: Sendable, Hashable {
    public var type: ResourceType
    /// Has a `/status` subresource: writes to the main resource keep the stored status.
    public var hasStatus: Bool
    /// Deleting honours a grace period (pods), setting `deletionTimestamp` first.
    public var gracefulDeletion: Bool

    public init(_ type: ResourceType, hasStatus: Bool = false, gracefulDeletion: Bool = false) {
        self.type = type
        self.hasStatus = hasStatus
        self.gracefulDeletion = gracefulDeletion
    }

    /// `plural` or `plural.group`: unique across the registry.
    public var id: String { type.description }
}

extension SimResource {
    static func core(_ kind: String, _ plural: String, namespaced: Bool, short: [String] = [], status: Bool = false) -> SimResource {
        SimResource(ResourceType(group: "", version: "v1", kind: kind, plural: plural, namespaced: namespaced, shortNames: short), hasStatus: status)
    }

    static func grouped(_ group: String, _ version: String, _ kind: String, _ plural: String, namespaced: Bool, short: [String] = [], status: Bool = false) -> SimResource {
        SimResource(ResourceType(group: group, version: version, kind: kind, plural: plural, namespaced: namespaced, shortNames: short), hasStatus: status)
    }

    /// Everything ClusterSim serves: the objects Rebound uses, and the ones its install manifests
    /// and scenarios hold, so `kubectl create -f deploy/` works against it.
    public static let all: [SimResource] = [
        SimResource(Pod.resourceType, hasStatus: true, gracefulDeletion: true),
        SimResource(Node.resourceType, hasStatus: true),
        SimResource(Namespace.resourceType, hasStatus: true),
        SimResource(PersistentVolumeClaim.resourceType, hasStatus: true),
        SimResource(PersistentVolume.resourceType, hasStatus: true),
        SimResource(Event.resourceType),
        SimResource(StorageClass.resourceType),
        SimResource(VolumeAttachment.resourceType, hasStatus: true),
        SimResource(CSIStorageCapacity.resourceType),
        SimResource(Lease.resourceType),
        .core("ConfigMap", "configmaps", namespaced: true, short: ["cm"]),
        .core("Secret", "secrets", namespaced: true),
        .core("Service", "services", namespaced: true, short: ["svc"], status: true),
        .core("ServiceAccount", "serviceaccounts", namespaced: true, short: ["sa"]),
        .core("Endpoints", "endpoints", namespaced: true, short: ["ep"]),
        .grouped("apps", "v1", "Deployment", "deployments", namespaced: true, short: ["deploy"], status: true),
        .grouped("apps", "v1", "StatefulSet", "statefulsets", namespaced: true, short: ["sts"], status: true),
        .grouped("apps", "v1", "DaemonSet", "daemonsets", namespaced: true, short: ["ds"], status: true),
        .grouped("apps", "v1", "ReplicaSet", "replicasets", namespaced: true, short: ["rs"], status: true),
        .grouped("apps", "v1", "ControllerRevision", "controllerrevisions", namespaced: true),
        .grouped("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", namespaced: true, short: ["pdb"], status: true),
        .grouped("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced: false),
        .grouped("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced: false),
        .grouped("rbac.authorization.k8s.io", "v1", "Role", "roles", namespaced: true),
        .grouped("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", namespaced: true),
        .grouped("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", namespaced: false),
        .grouped("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", namespaced: false),
        .grouped("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced: false, short: ["pc"]),
        .grouped("storage.k8s.io", "v1", "CSIDriver", "csidrivers", namespaced: false),
        .grouped("storage.k8s.io", "v1", "CSINode", "csinodes", namespaced: false),
        .grouped("events.k8s.io", "v1", "Event", "events", namespaced: true, short: ["ev"]),
        .grouped("cert-manager.io", "v1", "Certificate", "certificates", namespaced: true, short: ["cert"], status: true),
        .grouped("cert-manager.io", "v1", "Issuer", "issuers", namespaced: true, status: true),
        .grouped("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", namespaced: false, status: true),
    ]
}
