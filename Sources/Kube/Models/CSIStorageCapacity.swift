public import Capacity

/// `storage.k8s.io/v1.CSIStorageCapacity`: the free space a CSI driver reports for one
/// StorageClass on the nodes a selector picks (storage capacity tracking, GA in Kubernetes 1.24).
/// The external-provisioner publishes one per class and topology segment; for node-local drivers
/// a segment is one node.
public struct CSIStorageCapacity: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "storage.k8s.io", version: "v1", kind: "CSIStorageCapacity", plural: "csistoragecapacities", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// The StorageClass the capacity is for.
    public var storageClassName: String
    /// The nodes that reach the storage. Not set: none; empty: every node.
    public var nodeTopology: LabelSelector?
    /// Free space for new volumes of the class. Not set: unknown.
    public var capacity: Quantity?
    /// The largest single volume that can be created now; not set: up to ``capacity``.
    public var maximumVolumeSize: Quantity?

    public init(metadata: ObjectMeta, storageClassName: String, nodeTopology: LabelSelector?, capacity: Quantity?, maximumVolumeSize: Quantity? = nil) {
        self.metadata = metadata
        self.storageClassName = storageClassName
        self.nodeTopology = nodeTopology
        self.capacity = capacity
        self.maximumVolumeSize = maximumVolumeSize
        stampTypeMeta()
    }

    /// Whether the storage is reachable from a node with these labels.
    public func reaches(nodeLabels: [String: String]) -> Bool {
        guard let nodeTopology else { return false }
        return LabelSelectorExpression(nodeTopology).matches(nodeLabels)
    }
}
