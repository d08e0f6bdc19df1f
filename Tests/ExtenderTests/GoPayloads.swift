import Foundation

/// Request bodies exactly as kube-scheduler writes them: Go's encoding/json over
/// `k8s.io/kube-scheduler/extender/v1` structs (no json tags, so keys are Go field names) and
/// `k8s.io/api/core/v1` objects (fields in struct order, TypeMeta empty as informers leave it,
/// quantities as strings, nil slices as null).
enum GoPayloads {
    struct NodeSpec {
        var name: String
        var hdd: String? = "100"
        var ssd: String? = nil
        var ready = "True"
        var taints: [(key: String, effect: String)] = []
        var unschedulable = false
        var deleting = false
        var images = 3
    }

    static let timestamp = "2021-06-01T08:00:00Z"

    /// A `v1.Node` as the scheduler's informer holds it.
    static func node(_ spec: NodeSpec) -> String {
        var allocatable = "\"cpu\":\"3800m\",\"ephemeral-storage\":\"47093746742\",\"hugepages-2Mi\":\"0\",\"memory\":\"7898124Ki\",\"pods\":\"110\""
        var capacity = "\"cpu\":\"4\",\"ephemeral-storage\":\"51099284Ki\",\"hugepages-2Mi\":\"0\",\"memory\":\"8000524Ki\",\"pods\":\"110\""
        if let hdd = spec.hdd {
            allocatable = "\"carina.storage.io/carina-vg-hdd\":\"\(hdd)\"," + allocatable
            capacity = "\"carina.storage.io/carina-vg-hdd\":\"200\"," + capacity
        }
        if let ssd = spec.ssd {
            allocatable = "\"carina.storage.io/carina-vg-ssd\":\"\(ssd)\"," + allocatable
            capacity = "\"carina.storage.io/carina-vg-ssd\":\"200\"," + capacity
        }
        var specJSON = "\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]"
        if spec.unschedulable { specJSON += ",\"unschedulable\":true" }
        if !spec.taints.isEmpty {
            specJSON += ",\"taints\":[" + spec.taints.map { "{\"key\":\"\($0.key)\",\"effect\":\"\($0.effect)\",\"timeAdded\":\"\(timestamp)\"}" }.joined(separator: ",") + "]"
        }
        let deletion = spec.deleting ? ",\"deletionTimestamp\":\"\(timestamp)\",\"deletionGracePeriodSeconds\":0" : ""
        let images = (0..<spec.images).map {
            "{\"names\":[\"registry.example.com/team/app-\($0)@sha256:4f2a2b0c7c9d1e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f\",\"registry.example.com/team/app-\($0):v1.\($0)\"],\"sizeBytes\":\(100_000_000 + $0)}"
        }.joined(separator: ",")
        let conditions = [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", spec.ready, spec.ready == "True" ? "KubeletReady" : "NodeStatusUnknown",
             spec.ready == "True" ? "kubelet is posting ready status" : "Kubelet stopped posting node status."),
        ].map { "{\"type\":\"\($0.0)\",\"status\":\"\($0.1)\",\"lastHeartbeatTime\":\"\(timestamp)\",\"lastTransitionTime\":\"\(timestamp)\",\"reason\":\"\($0.2)\",\"message\":\"\($0.3)\"}" }
            .joined(separator: ",")
        return """
            {"metadata":{"name":"\(spec.name)","uid":"6a1c7e52-\(spec.name)","resourceVersion":"1834","creationTimestamp":"\(timestamp)"\(deletion),\
            "labels":{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","kubernetes.io/hostname":"\(spec.name)","kubernetes.io/os":"linux","topology.carina.storage.io/node":"\(spec.name)"},\
            "annotations":{"csi.volume.kubernetes.io/nodeid":"{\\"carina.storage.io\\":\\"\(spec.name)\\"}","kubeadm.alpha.kubernetes.io/cri-socket":"/var/run/dockershim.sock","node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},\
            "spec":{\(specJSON)},\
            "status":{"capacity":{\(capacity)},"allocatable":{\(allocatable)},"conditions":[\(conditions)],\
            "addresses":[{"type":"InternalIP","address":"10.0.0.12"},{"type":"Hostname","address":"\(spec.name)"}],\
            "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},\
            "nodeInfo":{"machineID":"4b1f7c2a","systemUUID":"4b1f7c2a","bootID":"1d2e","kernelVersion":"5.4.0-77-generic","osImage":"Ubuntu 20.04.2 LTS","containerRuntimeVersion":"docker://20.10.7","kubeletVersion":"v1.21.2","kubeProxyVersion":"v1.21.2","operatingSystem":"linux","architecture":"amd64"},\
            "images":[\(images)]}}
            """
    }

    struct PodSpec {
        var name = "my-cluster-mysql-0"
        var namespace = "default"
        var uid = "9d3b6f0e-0000-4000-8000-000000000001"
        var requests: String? = "{\"carina-vg-hdd\":1}"
        var routed = true
        var claims: [String] = ["data-my-cluster-mysql-0"]
    }

    /// A `v1.Pod` as kube-scheduler passes it: the webhook's annotation and routing resource,
    /// a claim per volume.
    static func pod(_ spec: PodSpec) -> String {
        var annotations = "\"carina.storage.io/allow-pod-migration-if-node-notready\":\"true\""
        if let requests = spec.requests {
            annotations += ",\"rebound.io/volume-requests\":\"\(requests.replacingOccurrences(of: "\"", with: "\\\""))\""
        }
        let resources = spec.routed
            ? "{\"limits\":{\"cpu\":\"500m\",\"rebound.io/local-capacity\":\"1\"},\"requests\":{\"cpu\":\"250m\",\"rebound.io/local-capacity\":\"1\"}}"
            : "{\"limits\":{\"cpu\":\"500m\"},\"requests\":{\"cpu\":\"250m\"}}"
        let volumes = spec.claims.enumerated().map { index, claim in
            "{\"name\":\"data\(index)\",\"persistentVolumeClaim\":{\"claimName\":\"\(claim)\"}}"
        } + ["{\"name\":\"kube-api-access-x7k2p\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}}],\"defaultMode\":420}}"]
        return """
            {"metadata":{"name":"\(spec.name)","generateName":"my-cluster-mysql-","namespace":"\(spec.namespace)","uid":"\(spec.uid)","resourceVersion":"52311","creationTimestamp":"\(timestamp)",\
            "labels":{"app":"mysql","controller-revision-hash":"my-cluster-mysql-6f7b9c","statefulset.kubernetes.io/pod-name":"\(spec.name)"},\
            "annotations":{\(annotations)},\
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"my-cluster-mysql","uid":"1f0e","controller":true,"blockOwnerDeletion":true}]},\
            "spec":{"volumes":[\(volumes.joined(separator: ","))],\
            "containers":[{"name":"mysql","image":"mysql:8.0.25","ports":[{"containerPort":3306,"protocol":"TCP"}],"resources":\(resources),\
            "volumeMounts":[{"name":"data0","mountPath":"/var/lib/mysql"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],\
            "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default",\
            "hostname":"\(spec.name)","subdomain":"my-cluster-mysql","securityContext":{},"schedulerName":"default-scheduler",\
            "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],\
            "priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},\
            "status":{"phase":"Pending","qosClass":"Burstable"}}
            """
    }

    /// `ExtenderArgs` with a full NodeList (`nodeCacheCapable: false`).
    static func argsWithNodes(pod: String, nodes: [String]) -> String {
        "{\"Pod\":\(pod),\"Nodes\":{\"metadata\":{},\"items\":[\(nodes.joined(separator: ","))]},\"NodeNames\":null}"
    }

    /// `ExtenderArgs` with node names (`nodeCacheCapable: true`).
    static func argsWithNames(pod: String, names: [String]) -> String {
        "{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\(names.map { "\"\($0)\"" }.joined(separator: ","))]}"
    }

    /// `ExtenderBindingArgs`.
    static func bindingArgs(pod: String, namespace: String = "default", uid: String, node: String) -> String {
        "{\"PodName\":\"\(pod)\",\"PodNamespace\":\"\(namespace)\",\"PodUID\":\"\(uid)\",\"Node\":\"\(node)\"}"
    }
}
