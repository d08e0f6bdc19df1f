public import Kube
import Capacity

/// Generates a large cluster of realistic objects (the size and shape of what a real API server
/// returns: managed fields, container statuses, node images) for scale tests and benchmarks.
public struct SyntheticCluster: Sendable {
    public var nodes: Int
    public var pods: Int
    /// Pods go into this many namespaces (`synthetic-0`, …).
    public var namespaces: Int
    /// OpenEBS LVM LocalPV StorageClasses (`openebs-lvm-0`, …), each with a CSIStorageCapacity
    /// object per node, as the driver's external-provisioner publishes them.
    public var storageClasses: Int

    public init(nodes: Int, pods: Int, namespaces: Int = 20, storageClasses: Int = 0) {
        self.nodes = nodes
        self.pods = pods
        self.namespaces = max(1, namespaces)
        self.storageClasses = max(0, storageClasses)
    }

    /// Creates the namespaces, nodes and pods in the store; returns how many objects were created.
    @discardableResult
    public func load(into store: SimStore) async throws -> Int {
        var created = 0
        for index in 0..<namespaces {
            _ = try await store.create(Namespace.resourceType, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string("synthetic-\(index)")]])
            created += 1
        }
        for index in 0..<nodes {
            var node = Self.node(index)
            if storageClasses > 0 { node["metadata"]?["labels"]?[DriverPreset.openebsLVM.topologyKey] = .string("node-\(index)") }
            _ = try await store.create(Node.resourceType, namespace: nil, object: node)
            created += 1
        }
        if storageClasses > 0 {
            _ = try await store.create(Namespace.resourceType, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "openebs"]])
            created += 1
        }
        for storageClass in 0..<storageClasses {
            _ = try await store.create(StorageClass.resourceType, namespace: nil, object: [
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": .string("openebs-lvm-\(storageClass)")],
                "provisioner": "local.csi.openebs.io", "parameters": ["storage": "lvm", "volgroup": .string("lvmvg-\(storageClass)")],
                "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
            ])
            created += 1
            for index in 0..<nodes {
                _ = try await store.create(CSIStorageCapacity.resourceType, namespace: "openebs", object: Self.storageCapacity(storageClass: storageClass, node: index))
                created += 1
            }
        }
        for index in 0..<pods {
            let namespace = "synthetic-\(index % namespaces)"
            _ = try await store.create(Pod.resourceType, namespace: namespace, object: Self.pod(index, namespace: namespace, node: nodes > 0 ? "node-\(index % nodes)" : nil))
            created += 1
        }
        return created
    }

    static let timestamp: JSONValue = "2026-01-15T08:30:00Z"

    /// A worker node as a kubelet reports it, carrying Carina volume groups.
    public static func node(_ index: Int) -> JSONValue {
        let name = "node-\(index)"
        let images: [JSONValue] = (0..<40).map { image in
            [
                "names": [
                    .string("registry.example.com/team-\(image % 7)/service-\(image)@sha256:\(String(repeating: "ab", count: 32))"),
                    .string("registry.example.com/team-\(image % 7)/service-\(image):v1.\(image).\(index % 10)"),
                ],
                "sizeBytes": .int(10_000_000 + image * 1_234_567),
            ]
        }
        let conditions: [JSONValue] = [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ].map { type, status, reason, message in
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message), "lastHeartbeatTime": timestamp, "lastTransitionTime": timestamp]
        }
        let resources: JSONValue = [
            "cpu": "16", "memory": "65843040Ki", "pods": "110", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
            "carina.storage.io/carina-vg-hdd": .string(String(100 + index % 100)), "carina.storage.io/carina-vg-ssd": .string(String(50 + index % 50)),
        ]
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": .string(name),
                "labels": [
                    "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m5.4xlarge",
                    "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": .string("eu-west-1\(["a", "b", "c"][index % 3])"),
                    "topology.carina.storage.io/node": .string(name),
                ],
                "annotations": [
                    "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                    "csi.volume.kubernetes.io/nodeid": .string("{\"carina.storage.io\":\"\(name)\"}"),
                    "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                ],
            ],
            "spec": ["podCIDR": .string("10.\(index / 256 % 256).\(index % 256).0/24"), "podCIDRs": [.string("10.\(index / 256 % 256).\(index % 256).0/24")], "providerID": .string("aws:///eu-west-1a/i-\(index)")],
            "status": [
                "addresses": [["type": "InternalIP", "address": .string("10.0.\(index / 256 % 256).\(index % 256)")], ["type": "Hostname", "address": .string(name)]],
                "allocatable": resources, "capacity": resources, "conditions": .array(conditions),
                "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]],
                "images": .array(images),
                "nodeInfo": [
                    "architecture": "amd64", "bootID": .string("boot-\(index)"), "containerRuntimeVersion": "containerd://1.7.13",
                    "kernelVersion": "6.1.0-18-amd64", "kubeProxyVersion": "v1.32.0", "kubeletVersion": "v1.32.0", "machineID": .string("machine-\(index)"),
                    "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": .string("uuid-\(index)"),
                ],
            ],
        ]
    }

    /// A CSIStorageCapacity object as OpenEBS LVM LocalPV's external-provisioner writes it: owned
    /// by the controller's ReplicaSet, labelled with the driver, selecting one node by both of the
    /// chart's topology keys, with its managed fields.
    public static func storageCapacity(storageClass: Int, node index: Int) -> JSONValue {
        let node = "node-\(index)"
        return [
            "apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
            "metadata": [
                "name": .string("csisc-\(storageClass)-\(index)"), "generateName": "csisc-", "namespace": "openebs", "creationTimestamp": timestamp,
                "labels": ["csi.storage.k8s.io/drivername": "local.csi.openebs.io", "csi.storage.k8s.io/managed-by": "external-provisioner"],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "openebs-lvm-controller-7d9f8c6b5d", "uid": "5b0a2f1e-0000-4000-8000-00000000c0de", "controller": true]],
                "managedFields": [[
                    "manager": "csi-provisioner", "operation": "Update", "apiVersion": "storage.k8s.io/v1", "time": timestamp, "fieldsType": "FieldsV1",
                    "fieldsV1": ["f:capacity": [:], "f:metadata": ["f:generateName": [:], "f:labels": [".": [:], "f:csi.storage.k8s.io/drivername": [:], "f:csi.storage.k8s.io/managed-by": [:]], "f:ownerReferences": [:]], "f:nodeTopology": [:], "f:storageClassName": [:]],
                ]],
            ],
            "storageClassName": .string("openebs-lvm-\(storageClass)"),
            "nodeTopology": ["matchLabels": ["kubernetes.io/hostname": .string(node), "openebs.io/nodename": .string(node)]],
            "capacity": .string("\(100 + (index * 7 + storageClass * 13) % 400)Gi"),
        ]
    }

    /// A running StatefulSet-style pod with a claim, as the API returns it (managed fields included).
    public static func pod(_ index: Int, namespace: String, node: String?) -> JSONValue {
        let set = "app-\(index / 3)"
        let name = "\(set)-\(index % 3)"
        let container: (String, String) -> JSONValue = { containerName, image in
            [
                "name": .string(containerName), "image": .string(image), "imagePullPolicy": "IfNotPresent",
                "ports": [["containerPort": 3306, "name": "mysql", "protocol": "TCP"]],
                "env": [
                    ["name": "POD_NAME", "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.name"]]],
                    ["name": "POD_NAMESPACE", "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]],
                    ["name": "MYSQL_ROOT_PASSWORD", "valueFrom": ["secretKeyRef": ["name": "mysql-secret", "key": "password"]]],
                ],
                "resources": ["requests": ["cpu": "250m", "memory": "512Mi"], "limits": ["cpu": "1", "memory": "1Gi"]],
                "volumeMounts": [
                    ["name": "data", "mountPath": "/var/lib/mysql"],
                    ["name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true],
                ],
                "livenessProbe": ["exec": ["command": ["mysqladmin", "ping"]], "initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3, "successThreshold": 1],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            ]
        }
        let status: (String, String) -> JSONValue = { containerName, image in
            [
                "name": .string(containerName), "image": .string(image), "imageID": .string("\(image)@sha256:\(String(repeating: "cd", count: 32))"),
                "containerID": .string("containerd://\(String(repeating: "ef", count: 32))"), "ready": true, "restartCount": 0, "started": true,
                "state": ["running": ["startedAt": timestamp]],
            ]
        }
        var spec: JSONObject = [
            "containers": [container("mysql", "mysql:8.0.36"), container("exporter", "prom/mysqld-exporter:v0.15.1")],
            "volumes": [
                ["name": "data", "persistentVolumeClaim": ["claimName": .string("data-\(name)")]],
                ["name": "kube-api-access", "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]]]]],
            ],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "securityContext": ["fsGroup": 999], "hostname": .string(name), "subdomain": .string(set), "schedulerName": "default-scheduler",
            "tolerations": [
                ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
                ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
            ],
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
        ]
        if let node { spec["nodeName"] = .string(node) }
        let managedFields: JSONValue = [
            [
                "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": timestamp, "fieldsType": "FieldsV1",
                "fieldsV1": ["f:metadata": ["f:generateName": [:], "f:labels": [".": [:], "f:app": [:], "f:controller-revision-hash": [:]], "f:ownerReferences": [".": [:]]], "f:spec": ["f:containers": [:], "f:volumes": [:]]],
            ],
            [
                "manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": timestamp, "fieldsType": "FieldsV1", "subresource": "status",
                "fieldsV1": ["f:status": ["f:conditions": [:], "f:containerStatuses": [:], "f:hostIP": [:], "f:phase": [:], "f:podIP": [:], "f:startTime": [:]]],
            ],
        ]
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "generateName": .string("\(set)-"), "namespace": .string(namespace),
                "labels": ["app": .string(set), "controller-revision-hash": .string("\(set)-6d4cf56db6"), "statefulset.kubernetes.io/pod-name": .string(name)],
                "annotations": ["carina.storage.io/allow-pod-migration-if-node-notready": "true", "kubectl.kubernetes.io/restartedAt": timestamp],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "StatefulSet", "name": .string(set), "uid": .string("uid-\(set)"), "controller": true, "blockOwnerDeletion": true]],
                "managedFields": managedFields,
            ],
            "spec": .object(spec),
            "status": [
                "phase": "Running", "hostIP": "10.0.0.10", "podIP": .string("10.244.\(index / 256 % 256).\(index % 256)"), "podIPs": [["ip": .string("10.244.\(index / 256 % 256).\(index % 256)")]],
                "startTime": timestamp, "qosClass": "Burstable",
                "conditions": .array(["Initialized", "Ready", "ContainersReady", "PodScheduled"].map { ["type": .string($0), "status": "True", "lastTransitionTime": timestamp] }),
                "containerStatuses": [status("mysql", "mysql:8.0.36"), status("exporter", "prom/mysqld-exporter:v0.15.1")],
            ],
        ]
    }
}
