/// `v1.Namespace`.
public struct Namespace: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, shortNames: ["ns"])

    public struct Status: Sendable, Hashable, Codable {
        public var phase: String?
    }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var status: Status?

    public init(metadata: ObjectMeta) {
        self.metadata = metadata
        stampTypeMeta()
    }
}
