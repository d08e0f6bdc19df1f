public import Capacity

/// `v1.PersistentVolumeClaim`.
public struct PersistentVolumeClaim: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true, shortNames: ["pvc"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeClaimSpec?
    public var status: Status?

    public struct Status: Sendable, Hashable, Codable {
        /// `Pending`, `Bound` or `Lost`.
        public var phase: String?
        public var accessModes: [String]?
        public var capacity: [String: Quantity]?

        public init(phase: String? = nil, capacity: [String: Quantity]? = nil) {
            self.phase = phase
            self.capacity = capacity
        }
    }

    public init(metadata: ObjectMeta, spec: PersistentVolumeClaimSpec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
        stampTypeMeta()
    }

    /// The requested storage (`spec.resources.requests.storage`).
    public var requestedStorage: Quantity? { spec?.resources?.requests?["storage"] }

    /// The bound volume's name, if the claim is bound.
    public var volumeName: String? {
        guard let name = spec?.volumeName, !name.isEmpty else { return nil }
        return name
    }

    /// Whether the claim has its volume: it names one in `spec.volumeName`, as kube-scheduler's
    /// volume binding counts a claim bound (`status.phase` follows the name, and a claim
    /// pre-bound to a volume needs no new space either). The one rule every part uses.
    public var isBound: Bool { volumeName != nil }
}

/// `v1.PersistentVolumeClaimSpec`, every field as of Kubernetes 1.32, so a claim can be
/// recreated from an old one without losing any of its spec.
public struct PersistentVolumeClaimSpec: Sendable, Hashable, Codable {
    public var accessModes: [String]?
    public var selector: LabelSelector?
    public var resources: ResourceRequirements?
    public var volumeName: String?
    public var storageClassName: String?
    public var volumeMode: String?
    public var dataSource: JSONValue?
    public var dataSourceRef: JSONValue?
    public var volumeAttributesClassName: String?

    public init(accessModes: [String]? = nil, resources: ResourceRequirements? = nil, storageClassName: String? = nil, volumeName: String? = nil, volumeMode: String? = nil) {
        self.accessModes = accessModes
        self.resources = resources
        self.storageClassName = storageClassName
        self.volumeName = volumeName
        self.volumeMode = volumeMode
    }
}
