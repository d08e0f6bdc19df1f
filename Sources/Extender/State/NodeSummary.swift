public import Capacity
public import Kube

/// What the extender needs to know about a node, precomputed so a request does no per-node
/// decoding: its health verdict, the free space it reports per volume group, and its labels (to
/// match the node affinity of volumes already bound).
public struct NodeSummary: Sendable, Hashable {
    public var name: String
    public var health: NodeHealth
    public var capacity: NodeCapacity
    /// Only kept for nodes read from the cache; nodes read from a request carry none.
    public var labels: [String: String]

    public init(name: String, health: NodeHealth, capacity: NodeCapacity, labels: [String: String] = [:]) {
        self.name = name
        self.health = health
        self.capacity = capacity
        self.labels = labels
    }

    /// Summarises a Node object from the cache.
    public init(node: Node, keys: CompatibilityKeys) {
        var capacity = NodeCapacity()
        if keys.capacityInAllocatable {
            for (key, quantity) in (node.status?.allocatable ?? [:]).sorted(by: { $0.key < $1.key }) {
                capacity.read(key: key, quantity: quantity, keys: keys)
            }
        } else {
            for (key, value) in (node.metadata.annotations ?? [:]).sorted(by: { $0.key < $1.key }) {
                capacity.read(key: key, value: value, keys: keys)
            }
        }
        self.init(name: node.name, health: NodeHealth.verdict(for: node.healthFacts), capacity: capacity, labels: node.metadata.labels ?? [:])
    }
}
