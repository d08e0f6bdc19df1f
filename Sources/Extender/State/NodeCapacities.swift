public import Capacity
public import Kube

/// The free space each node offers, as the extender sees it: read from the Node objects, or
/// joined from CSIStorageCapacity objects when `keys` say capacity comes from them. For tools
/// (`rebound status`) that read the cluster once.
public enum NodeCapacities {
    public static func compute(nodes: [Node], storageCapacities: [CSIStorageCapacity], keys: CompatibilityKeys) -> [String: NodeCapacity] {
        var result: [String: NodeCapacity] = [:]
        guard keys.capacityFromStorageCapacity else {
            for node in nodes { result[node.name] = NodeSummary(node: node, keys: keys).capacity }
            return result
        }
        var index = StorageCapacityIndex()
        for object in storageCapacities { index.upsert(key: object.key, object) }
        for node in nodes { result[node.name] = index.capacity(labels: node.metadata.labels ?? [:]) }
        return result
    }
}
