import Capacity
import Kube

func makePod(_ name: String, namespace: String = "default", node: String? = nil, labels: [String: String]? = nil, claims: [String] = []) -> Pod {
    Pod(
        metadata: ObjectMeta(name: name, namespace: namespace, labels: labels),
        spec: PodSpec(
            containers: [Container(name: "main", image: "busybox", resources: ResourceRequirements(requests: ["cpu": "100m"]))],
            nodeName: node,
            volumes: claims.isEmpty ? nil : claims.map { Volume(name: $0, persistentVolumeClaim: .init(claimName: $0)) }
        ),
        status: PodStatus(phase: "Running")
    )
}

func makeNode(_ name: String, ready: Bool = true, allocatable: [String: Quantity] = ["cpu": "4", "memory": "8Gi"]) -> Node {
    Node(
        metadata: ObjectMeta(name: name, labels: ["kubernetes.io/hostname": name]),
        spec: NodeSpec(),
        status: NodeStatus(capacity: allocatable, allocatable: allocatable, conditions: [NodeCondition(type: "Ready", status: ready ? "True" : "False")])
    )
}
