/// `apps/v1.StatefulSet`: the fields Rebound reads (claim templates) and ClusterSim's controller uses.
public struct StatefulSet: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", namespaced: true, shortNames: ["sts"])

    public struct Spec: Sendable, Hashable, Codable {
        public var replicas: Int32?
        public var serviceName: String?
        public var selector: LabelSelector?
        /// The pod template, kept whole.
        public var template: JSONValue?
        public var volumeClaimTemplates: [PersistentVolumeClaim]?
        /// `OrderedReady` (default) or `Parallel`.
        public var podManagementPolicy: String?

        public init(replicas: Int32? = nil, serviceName: String? = nil, selector: LabelSelector? = nil, template: JSONValue? = nil, volumeClaimTemplates: [PersistentVolumeClaim]? = nil, podManagementPolicy: String? = nil) {
            self.replicas = replicas
            self.serviceName = serviceName
            self.selector = selector
            self.template = template
            self.volumeClaimTemplates = volumeClaimTemplates
            self.podManagementPolicy = podManagementPolicy
        }
    }

    public struct Status: Sendable, Hashable, Codable {
        public var replicas: Int32?
        public var readyReplicas: Int32?
    }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
        stampTypeMeta()
    }

    /// Names of the claim templates (`data` for claims `data-<pod>`).
    public var claimTemplateNames: [String] { (spec?.volumeClaimTemplates ?? []).compactMap(\.metadata.name) }
}
