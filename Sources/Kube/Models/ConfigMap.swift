/// `v1.ConfigMap`: string data under keys (the extender's shared reservation ledger lives in one).
public struct ConfigMap: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
        stampTypeMeta()
    }
}
