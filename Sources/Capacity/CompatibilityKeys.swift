/// The annotation, label, StorageClass and resource keys Rebound's parts agree on. The defaults
/// are Carina's, so Rebound works beside (or instead of) Carina's own failover; every key is
/// configurable (see `rebound config defaults`).
public struct CompatibilityKeys: Sendable, Hashable {
    /// Where free volume-group capacity is read from on a Node.
    public enum CapacitySource: Sendable, Hashable {
        /// `status.allocatable["<prefix><group>"]`, in GiB (Carina).
        case allocatable(prefix: String)
        /// `metadata.annotations["<prefix><group>"]`, in bytes (TopoLVM).
        case annotation(prefix: String)
        /// `storage.k8s.io/v1` CSIStorageCapacity objects, which CSI drivers publish through the
        /// external-provisioner (storage capacity tracking): free space per StorageClass on the
        /// nodes their `nodeTopology` selects. The "volume group" of a class is then the class
        /// itself (``volumeGroup(storageClass:provisioner:parameters:)``).
        case storageCapacity
    }

    /// Pod annotation: `"true"` opts the pod in to failover, `"false"` out.
    public var migrationAnnotation = "carina.storage.io/allow-pod-migration-if-node-notready"
    /// Namespace label (value `"true"`) that opts new pods in the namespace in.
    public var namespaceLabel = "carina.storage.io/allow-pod-migration-if-node-notready"
    /// Provisioners of node-local LVM volumes.
    public var provisioners: Set<String> = ["carina.storage.io"]
    /// StorageClass parameters naming the volume group, tried in order.
    public var volumeGroupParameters = ["carina.storage.io/disk-group-name", "carina.storage.io/disk-type"]
    /// Legacy short group names and the groups they mean.
    public var legacyVolumeGroups = ["ssd": "carina-vg-ssd", "hdd": "carina-vg-hdd"]
    /// The group of a local StorageClass that names none (TopoLVM's default device class,
    /// reported as `capacity.topolvm.io/00default`); nil: such a class is not routed.
    public var defaultVolumeGroup: String?
    /// Extended resource the webhook puts on pods so kube-scheduler consults the extender.
    /// Nodes must never advertise it (kubelet re-checks advertised resources at admission).
    public var routingResource = "rebound.io/local-capacity"
    /// Pod annotation holding the GiB the pod needs per volume group (``VolumeGroupRequests``).
    public var requestsAnnotation = "rebound.io/volume-requests"
    public var capacitySource = CapacitySource.allocatable(prefix: "carina.storage.io/")

    public init() {}

    /// The volume group a StorageClass provisions from, or nil when its volumes are not node-local.
    /// With capacity from CSIStorageCapacity objects, which count free space per StorageClass,
    /// the class is its own group.
    public func volumeGroup(storageClass: String, provisioner: String, parameters: [String: String]) -> String? {
        guard provisioners.contains(provisioner) else { return nil }
        if case .storageCapacity = capacitySource { return storageClass.isEmpty ? nil : storageClass }
        for key in volumeGroupParameters {
            if let value = parameters[key], !value.isEmpty { return normalizedGroup(value) }
        }
        return defaultVolumeGroup.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The full group name for a legacy short name (`hdd` → `carina-vg-hdd`); other names unchanged.
    public func normalizedGroup(_ name: String) -> String { legacyVolumeGroups[name] ?? name }

    /// True when `value` of the migration annotation opts a pod in.
    public static func optsIn(_ value: String?) -> Bool { value == "true" }
}
