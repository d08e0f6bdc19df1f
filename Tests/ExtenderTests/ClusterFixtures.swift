import Capacity
import Kube

/// Objects of the seed story's cluster, created through the API.
enum ClusterFixtures {
    static let storageClass = "csi-carina-sc"

    /// Creates a node from its Go-encoded JSON (the same bytes a request would carry).
    static func createNode(_ client: KubeClient, _ spec: GoPayloads.NodeSpec) async throws {
        _ = try await client.send(.POST, Node.resourceType.path(), body: Array(GoPayloads.node(spec).utf8))
    }

    /// Creates a pod from its Go-encoded JSON and returns it as stored (with its uid).
    @discardableResult
    static func createPod(_ client: KubeClient, _ spec: GoPayloads.PodSpec) async throws -> Pod {
        let response = try await client.send(.POST, Pod.resourceType.path(namespace: spec.namespace), body: Array(GoPayloads.pod(spec).utf8))
        return try JSONValue(parsing: response.bytes).decode(as: Pod.self)
    }

    /// The seed story's StorageClass: Carina, volume group carina-vg-hdd, WaitForFirstConsumer.
    static func createStorageClass(_ client: KubeClient) async throws {
        _ = try await client.create(StorageClass(
            metadata: ObjectMeta(name: storageClass), provisioner: "carina.storage.io",
            parameters: ["carina.storage.io/disk-type": "carina-vg-hdd", "csi.storage.k8s.io/fstype": "xfs"],
            reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer"))
    }

    /// A claim on the local class; with `boundTo`, also its volume pinned to that node, and the claim Bound.
    static func createClaim(_ client: KubeClient, _ name: String, size: Quantity = "1Gi", boundTo node: String? = nil, selectedNode: String? = nil) async throws {
        var claim = PersistentVolumeClaim(
            metadata: ObjectMeta(name: name, namespace: "default", annotations: selectedNode.map { ["volume.kubernetes.io/selected-node": $0] }),
            spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": size]), storageClassName: storageClass))
        guard let node else {
            _ = try await client.create(claim)
            return
        }
        let volumeName = "pvc-\(name)"
        let affinity = NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
            NodeSelectorRequirement(key: "topology.carina.storage.io/node", operator: "In", values: [node]),
        ])])
        _ = try await client.create(PersistentVolume(
            metadata: ObjectMeta(name: volumeName),
            spec: PersistentVolumeSpec(
                capacity: ["storage": size], accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Delete", storageClassName: storageClass,
                claimRef: ObjectReference(kind: "PersistentVolumeClaim", namespace: "default", name: name),
                nodeAffinity: VolumeNodeAffinity(required: affinity), csi: CSIPersistentVolumeSource(driver: "carina.storage.io", volumeHandle: volumeName)),
            status: .init(phase: "Bound")))
        claim.spec?.volumeName = volumeName
        claim.status = .init(phase: "Bound", capacity: ["storage": size])
        _ = try await client.create(claim)
    }

    /// Marks an existing claim Bound to a new volume on `node` (what the provisioner does).
    static func bindClaim(_ client: KubeClient, _ name: String, to node: String) async throws {
        let volumeName = "pvc-\(name)"
        let affinity = NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
            NodeSelectorRequirement(key: "topology.carina.storage.io/node", operator: "In", values: [node]),
        ])])
        _ = try await client.create(PersistentVolume(
            metadata: ObjectMeta(name: volumeName),
            spec: PersistentVolumeSpec(capacity: ["storage": "1Gi"], storageClassName: storageClass, nodeAffinity: VolumeNodeAffinity(required: affinity)),
            status: .init(phase: "Bound")))
        _ = try await client.patch(PersistentVolumeClaim.self, name, namespace: "default", .merge(["spec": ["volumeName": .string(volumeName)]]))
        _ = try await client.patch(PersistentVolumeClaim.self, name, namespace: "default", .merge(["status": ["phase": "Bound"]]), subresource: "status")
    }

    /// The seed story's five workers: node-2 and node-3 with room, node-1 and node-5 full,
    /// node-4 NotReady for weeks.
    static let seedNodes: [GoPayloads.NodeSpec] = [
        .init(name: "dev1-node-1", hdd: "0", ssd: "0"),
        .init(name: "dev1-node-2", hdd: "188", ssd: "189"),
        .init(name: "dev1-node-3", hdd: "188", ssd: "189"),
        .init(name: "dev1-node-4", hdd: "188", ssd: "189", ready: "Unknown",
              taints: [(key: "node.kubernetes.io/unreachable", effect: "NoSchedule"), (key: "node.kubernetes.io/unreachable", effect: "NoExecute")]),
        .init(name: "dev1-node-5", hdd: "0", ssd: "0"),
    ]

    static func createSeedCluster(_ client: KubeClient) async throws {
        try await createStorageClass(client)
        for node in seedNodes { try await createNode(client, node) }
    }
}
