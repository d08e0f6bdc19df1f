/// `storage.k8s.io/v1.VolumeAttachment`: a CSI volume attached to a node.
public struct VolumeAttachment: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "storage.k8s.io", version: "v1", kind: "VolumeAttachment", plural: "volumeattachments", namespaced: false)

    public struct Spec: Sendable, Hashable, Codable {
        public struct Source: Sendable, Hashable, Codable {
            public var persistentVolumeName: String?

            public init(persistentVolumeName: String?) { self.persistentVolumeName = persistentVolumeName }
        }

        public var attacher: String
        public var nodeName: String
        public var source: Source

        public init(attacher: String, nodeName: String, source: Source) {
            self.attacher = attacher
            self.nodeName = nodeName
            self.source = source
        }
    }

    public struct Status: Sendable, Hashable, Codable {
        public var attached: Bool
    }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
        stampTypeMeta()
    }
}
