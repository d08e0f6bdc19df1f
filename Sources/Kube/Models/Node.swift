public import Capacity

/// `v1.Node`.
public struct Node: KubeResource, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false, shortNames: ["no"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?

    public init(metadata: ObjectMeta, spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
        stampTypeMeta()
    }

    /// The condition of the given type (`Ready`), if reported.
    public func condition(_ type: String) -> NodeCondition? {
        status?.conditions?.first { $0.type == type }
    }
}

public struct NodeSpec: Sendable, Hashable, Codable {
    public var unschedulable: Bool?
    public var taints: [Taint]?
    public var providerID: String?
    public var podCIDR: String?

    public init(unschedulable: Bool? = nil, taints: [Taint]? = nil) {
        self.unschedulable = unschedulable
        self.taints = taints
    }
}

public struct Taint: Sendable, Hashable, Codable {
    public var key: String
    public var value: String?
    public var effect: String
    public var timeAdded: KubeTime?

    public init(key: String, value: String? = nil, effect: String, timeAdded: KubeTime? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }
}

public struct NodeStatus: Sendable, Hashable, Codable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?

    public init(capacity: [String: Quantity]? = nil, allocatable: [String: Quantity]? = nil, conditions: [NodeCondition]? = nil, addresses: [NodeAddress]? = nil) {
        self.capacity = capacity
        self.allocatable = allocatable
        self.conditions = conditions
        self.addresses = addresses
    }
}

public struct NodeCondition: Sendable, Hashable, Codable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastHeartbeatTime: KubeTime?
    public var lastTransitionTime: KubeTime?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastHeartbeatTime: KubeTime? = nil, lastTransitionTime: KubeTime? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
    }
}

public struct NodeAddress: Sendable, Hashable, Codable {
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
