/// `storage.k8s.io/v1.StorageClass`.
public struct StorageClass: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", namespaced: false, shortNames: ["sc"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var provisioner: String
    public var parameters: [String: String]?
    public var reclaimPolicy: String?
    /// `Immediate` or `WaitForFirstConsumer`.
    public var volumeBindingMode: String?
    public var allowVolumeExpansion: Bool?
    public var mountOptions: [String]?

    public init(metadata: ObjectMeta, provisioner: String, parameters: [String: String]? = nil, reclaimPolicy: String? = nil, volumeBindingMode: String? = nil) {
        self.metadata = metadata
        self.provisioner = provisioner
        self.parameters = parameters
        self.reclaimPolicy = reclaimPolicy
        self.volumeBindingMode = volumeBindingMode
        stampTypeMeta()
    }
}
