public import Capacity

/// `v1.PersistentVolume`.
public struct PersistentVolume: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", namespaced: false, shortNames: ["pv"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PersistentVolumeSpec?
    public var status: Status?

    public struct Status: Sendable, Hashable, Codable {
        public var phase: String?
        public var reason: String?
        public var message: String?

        public init(phase: String? = nil) { self.phase = phase }
    }

    public init(metadata: ObjectMeta, spec: PersistentVolumeSpec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
        stampTypeMeta()
    }
}

public struct PersistentVolumeSpec: Sendable, Hashable, Codable {
    public var capacity: [String: Quantity]?
    public var accessModes: [String]?
    /// `Retain`, `Delete` or `Recycle`.
    public var persistentVolumeReclaimPolicy: String?
    public var storageClassName: String?
    public var claimRef: ObjectReference?
    public var nodeAffinity: VolumeNodeAffinity?
    public var csi: CSIPersistentVolumeSource?
    public var local: LocalVolumeSource?
    public var hostPath: HostPathVolumeSource?
    public var volumeMode: String?
    public var mountOptions: [String]?

    public init(capacity: [String: Quantity]? = nil, accessModes: [String]? = nil, persistentVolumeReclaimPolicy: String? = nil, storageClassName: String? = nil, claimRef: ObjectReference? = nil, nodeAffinity: VolumeNodeAffinity? = nil, csi: CSIPersistentVolumeSource? = nil) {
        self.capacity = capacity
        self.accessModes = accessModes
        self.persistentVolumeReclaimPolicy = persistentVolumeReclaimPolicy
        self.storageClassName = storageClassName
        self.claimRef = claimRef
        self.nodeAffinity = nodeAffinity
        self.csi = csi
    }
}

public struct VolumeNodeAffinity: Sendable, Hashable, Codable {
    public var required: NodeSelector?

    public init(required: NodeSelector?) { self.required = required }
}

/// `v1.NodeSelector`: terms are ORed, expressions within a term ANDed.
public struct NodeSelector: Sendable, Hashable, Codable {
    public var nodeSelectorTerms: [NodeSelectorTerm]

    public init(nodeSelectorTerms: [NodeSelectorTerm]) { self.nodeSelectorTerms = nodeSelectorTerms }
}

public struct NodeSelectorTerm: Sendable, Hashable, Codable {
    public var matchExpressions: [NodeSelectorRequirement]?
    public var matchFields: [NodeSelectorRequirement]?

    public init(matchExpressions: [NodeSelectorRequirement]? = nil, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

public struct NodeSelectorRequirement: Sendable, Hashable, Codable {
    public var key: String
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

public struct CSIPersistentVolumeSource: Sendable, Hashable, Codable {
    public var driver: String
    public var volumeHandle: String
    public var fsType: String?
    public var readOnly: Bool?
    public var volumeAttributes: [String: String]?

    public init(driver: String, volumeHandle: String, fsType: String? = nil, volumeAttributes: [String: String]? = nil) {
        self.driver = driver
        self.volumeHandle = volumeHandle
        self.fsType = fsType
        self.volumeAttributes = volumeAttributes
    }
}

public struct LocalVolumeSource: Sendable, Hashable, Codable {
    public var path: String
    public var fsType: String?
}

public struct HostPathVolumeSource: Sendable, Hashable, Codable {
    public var path: String
    public var type: String?
}
