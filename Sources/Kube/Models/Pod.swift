public import Capacity

/// `v1.Pod`, the fields Rebound reads and writes.
public struct Pod: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true, shortNames: ["po"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
        stampTypeMeta()
    }

    /// The node the pod is bound to, if any.
    public var nodeName: String? {
        guard let name = spec?.nodeName, !name.isEmpty else { return nil }
        return name
    }

    /// Names of the PersistentVolumeClaims the pod mounts, including those generic ephemeral
    /// volumes create (`<pod>-<volume>`).
    public var claimNames: [String] {
        (spec?.volumes ?? []).compactMap { volume in
            if let claim = volume.persistentVolumeClaim { return claim.claimName }
            if volume.ephemeral != nil { return PodRules.ephemeralClaimName(pod: name, volume: volume.name) }
            return nil
        }
    }
}

public struct PodSpec: Sendable, Hashable, Codable {
    public var nodeName: String?
    public var schedulerName: String?
    public var containers: [Container]
    public var initContainers: [Container]?
    public var volumes: [Volume]?
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?
    public var priority: Int32?
    public var priorityClassName: String?
    public var serviceAccountName: String?
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var hostname: String?
    public var subdomain: String?
    /// Kept whole so a pod read and written back keeps its affinity rules.
    public var affinity: JSONValue?

    public init(containers: [Container], nodeName: String? = nil, volumes: [Volume]? = nil, schedulerName: String? = nil) {
        self.containers = containers
        self.nodeName = nodeName
        self.volumes = volumes
        self.schedulerName = schedulerName
    }

    enum CodingKeys: String, CodingKey {
        case nodeName, schedulerName, containers, initContainers, volumes, nodeSelector, tolerations, priority,
            priorityClassName, serviceAccountName, restartPolicy, terminationGracePeriodSeconds, hostname, subdomain, affinity
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        schedulerName = try c.decodeIfPresent(String.self, forKey: .schedulerName)
        containers = try c.decodeIfPresent([Container].self, forKey: .containers) ?? []
        initContainers = try c.decodeIfPresent([Container].self, forKey: .initContainers)
        volumes = try c.decodeIfPresent([Volume].self, forKey: .volumes)
        nodeSelector = try c.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        tolerations = try c.decodeIfPresent([Toleration].self, forKey: .tolerations)
        priority = try c.decodeIfPresent(Int32.self, forKey: .priority)
        priorityClassName = try c.decodeIfPresent(String.self, forKey: .priorityClassName)
        serviceAccountName = try c.decodeIfPresent(String.self, forKey: .serviceAccountName)
        restartPolicy = try c.decodeIfPresent(String.self, forKey: .restartPolicy)
        terminationGracePeriodSeconds = try c.decodeIfPresent(Int64.self, forKey: .terminationGracePeriodSeconds)
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname)
        subdomain = try c.decodeIfPresent(String.self, forKey: .subdomain)
        affinity = try c.decodeIfPresent(JSONValue.self, forKey: .affinity)
    }
}

public struct Container: Sendable, Hashable, Codable {
    public var name: String
    public var image: String?
    public var resources: ResourceRequirements?

    public init(name: String, image: String? = nil, resources: ResourceRequirements? = nil) {
        self.name = name
        self.image = image
        self.resources = resources
    }
}

/// `v1.ResourceRequirements`: requests and limits by resource name.
public struct ResourceRequirements: Sendable, Hashable, Codable {
    public var requests: [String: Quantity]?
    public var limits: [String: Quantity]?

    public init(requests: [String: Quantity]? = nil, limits: [String: Quantity]? = nil) {
        self.requests = requests
        self.limits = limits
    }
}

public struct Volume: Sendable, Hashable, Codable {
    public var name: String
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    /// Boxed: a claim template is large and rare, and most volumes should not pay for its space.
    public var ephemeral: EphemeralVolumeSource? {
        get { ephemeralBox?.value }
        set { ephemeralBox = newValue.map(Box.init) }
    }
    private var ephemeralBox: Box<EphemeralVolumeSource>?

    public init(name: String, persistentVolumeClaim: PersistentVolumeClaimVolumeSource? = nil, ephemeral: EphemeralVolumeSource? = nil) {
        self.name = name
        self.persistentVolumeClaim = persistentVolumeClaim
        self.ephemeralBox = ephemeral.map(Box.init)
    }

    enum CodingKeys: String, CodingKey { case name, persistentVolumeClaim, ephemeral }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        persistentVolumeClaim = try container.decodeIfPresent(PersistentVolumeClaimVolumeSource.self, forKey: .persistentVolumeClaim)
        ephemeralBox = try container.decodeIfPresent(EphemeralVolumeSource.self, forKey: .ephemeral).map(Box.init)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(persistentVolumeClaim, forKey: .persistentVolumeClaim)
        try container.encodeIfPresent(ephemeral, forKey: .ephemeral)
    }
}

/// An immutable value kept behind a reference, so a rarely-set large field costs one pointer.
final class Box<Value: Sendable & Hashable>: Sendable, Hashable {
    let value: Value
    init(_ value: Value) { self.value = value }
    static func == (lhs: Box, rhs: Box) -> Bool { lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

public struct PersistentVolumeClaimVolumeSource: Sendable, Hashable, Codable {
    public var claimName: String
    public var readOnly: Bool?

    public init(claimName: String, readOnly: Bool? = nil) {
        self.claimName = claimName
        self.readOnly = readOnly
    }
}

/// A generic ephemeral volume: a claim created with the pod from a template.
public struct EphemeralVolumeSource: Sendable, Hashable, Codable {
    public struct ClaimTemplate: Sendable, Hashable, Codable {
        public var metadata: ObjectMeta?
        public var spec: PersistentVolumeClaimSpec

        public init(metadata: ObjectMeta? = nil, spec: PersistentVolumeClaimSpec) {
            self.metadata = metadata
            self.spec = spec
        }
    }

    public var volumeClaimTemplate: ClaimTemplate?

    public init(volumeClaimTemplate: ClaimTemplate?) { self.volumeClaimTemplate = volumeClaimTemplate }
}

public struct Toleration: Sendable, Hashable, Codable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?

    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    /// Whether this toleration tolerates `taint`, with Kubernetes' matching rules.
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != taint.effect { return false }
        if self.operator == "Exists" { return key == nil || key == "" || key == taint.key }
        return key == taint.key && (value ?? "") == (taint.value ?? "")
    }
}

public struct PodStatus: Sendable, Hashable, Codable {
    public var phase: String?
    public var conditions: [PodCondition]?
    public var hostIP: String?
    public var podIP: String?
    public var startTime: KubeTime?
    public var reason: String?
    public var message: String?

    public init(phase: String? = nil, conditions: [PodCondition]? = nil) {
        self.phase = phase
        self.conditions = conditions
    }
}

public struct PodCondition: Sendable, Hashable, Codable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: KubeTime?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: KubeTime? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}
