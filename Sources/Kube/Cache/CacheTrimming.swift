import Capacity

extension Pod {
    /// The pod with only what Rebound's parts read from their caches: identity, annotations and
    /// owners; node, scheduler, volumes, extended-resource requests (such as the routing
    /// resource); phase. Labels, images, cpu and memory, tolerations, affinity, probes,
    /// conditions and the rest are dropped (a 50,000-pod cluster then fits in a fraction of the memory).
    public var trimmedForCache: Pod {
        let metadata = self.metadata.trimmedForCache(keepLabels: false)
        var trimmed = Pod(metadata: metadata)
        if let spec {
            func extended(_ resources: [String: Quantity]?) -> [String: Quantity]? {
                let kept = resources?.filter { $0.key.contains("/") }
                return kept?.isEmpty == false ? kept : nil
            }
            func slim(_ containers: [Container]?) -> [Container]? {
                containers?.map { container in
                    let requests = extended(container.resources?.requests)
                    let limits = extended(container.resources?.limits)
                    let resources = requests == nil && limits == nil ? nil : ResourceRequirements(requests: requests, limits: limits)
                    return Container(name: container.name, resources: resources)
                }
            }
            var slimSpec = PodSpec(containers: slim(spec.containers) ?? [], nodeName: spec.nodeName, volumes: spec.volumes, schedulerName: spec.schedulerName)
            slimSpec.initContainers = slim(spec.initContainers)
            slimSpec.priority = spec.priority
            trimmed.spec = slimSpec
        }
        if let phase = status?.phase { trimmed.status = PodStatus(phase: phase) }
        return trimmed
    }
}

extension Node {
    /// The node with only what Rebound reads: identity, labels, annotations (capacity may be
    /// reported there), taints, cordon state, allocatable resources and the conditions' types,
    /// statuses and transition times.
    public var trimmedForCache: Node {
        var trimmed = Node(metadata: metadata.trimmedForCache(keepLabels: true))
        if let spec { trimmed.spec = NodeSpec(unschedulable: spec.unschedulable, taints: spec.taints) }
        if let status {
            trimmed.status = NodeStatus(
                allocatable: status.allocatable,
                conditions: status.conditions?.map { NodeCondition(type: $0.type, status: $0.status, reason: $0.reason, lastTransitionTime: $0.lastTransitionTime) })
        }
        return trimmed
    }
}

extension ObjectMeta {
    /// Annotations too large and too useless to cache (kubectl's copy of the whole manifest).
    static let uncachedAnnotations: Set<String> = ["kubectl.kubernetes.io/last-applied-configuration"]

    /// Identity, owners, finalizers, timestamps and annotations (but not kubectl's manifest copy);
    /// labels only when asked.
    func trimmedForCache(keepLabels: Bool) -> ObjectMeta {
        var annotations = self.annotations
        if annotations != nil {
            for key in Self.uncachedAnnotations { annotations?.removeValue(forKey: key) }
        }
        var trimmed = ObjectMeta(
            name: name, namespace: namespace, uid: uid, resourceVersion: resourceVersion, labels: keepLabels ? labels : nil,
            annotations: annotations, ownerReferences: ownerReferences, finalizers: finalizers)
        trimmed.creationTimestamp = creationTimestamp
        trimmed.deletionTimestamp = deletionTimestamp
        return trimmed
    }
}

extension CSIStorageCapacity {
    /// The object with only what placement reads: name, namespace, resource version, class,
    /// topology and sizes (a cluster of 5,000 nodes and two classes holds 10,000 of them; owners,
    /// labels and the uid are dropped).
    public var trimmedForCache: CSIStorageCapacity {
        CSIStorageCapacity(metadata: ObjectMeta(name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion),
                           storageClassName: storageClassName, nodeTopology: nodeTopology, capacity: capacity, maximumVolumeSize: maximumVolumeSize)
    }
}
