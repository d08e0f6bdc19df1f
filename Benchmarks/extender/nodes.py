"""Realistic v1.Node objects and kube-scheduler extender requests, as Go's encoding/json writes them.

Each node carries what a kubelet on a production worker reports: ~15 labels, the usual
annotations, podCIDRs, five conditions, addresses, nodeInfo, capacity and allocatable with
Carina's volume-group resources, and 50 images (each with a digest and a tag name). A few
percent are NotReady or tainted, some have full volume groups, so the filter has real work.
"""
import hashlib
import json

TIMESTAMP = "2024-05-14T09:21:07Z"


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def node(index: int) -> dict:
    name = f"worker-{index:05d}"
    zone = f"zone-{index % 3}"
    unhealthy = index % 50 == 7          # 2 % NotReady and tainted unreachable
    cordoned = index % 100 == 13         # 1 % cordoned
    full = index % 10 == 3               # 10 % with no free space in their groups
    hdd = "0" if full else str(100 + index % 400)
    ssd = "0" if full else str(50 + index % 200)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "m5.2xlarge",
        "beta.kubernetes.io/os": "linux",
        "failure-domain.beta.kubernetes.io/region": "eu-west-1",
        "failure-domain.beta.kubernetes.io/zone": zone,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "m5.2xlarge",
        "node-role.kubernetes.io/worker": "",
        "topology.kubernetes.io/region": "eu-west-1",
        "topology.kubernetes.io/zone": zone,
        "topology.carina.storage.io/node": name,
        "team": f"team-{index % 17}",
        "pool": f"pool-{index % 5}",
    }
    annotations = {
        "csi.volume.kubernetes.io/nodeid": json.dumps({"carina.storage.io": name}, separators=(",", ":")),
        "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": "9a:3c:%02x:%02x:11:7e" % (index % 256, index // 256 % 256)}, separators=(",", ":")),
        "flannel.alpha.coreos.com/backend-type": "vxlan",
        "flannel.alpha.coreos.com/kube-subnet-manager": "true",
        "flannel.alpha.coreos.com/public-ip": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    spec = {
        "podCIDR": f"10.244.{index % 256}.0/24",
        "podCIDRs": [f"10.244.{index % 256}.0/24"],
        "providerID": f"aws:///eu-west-1a/i-0{_digest(name)[:16]}",
    }
    if unhealthy:
        spec["taints"] = [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": TIMESTAMP},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": TIMESTAMP},
        ]
    if cordoned:
        spec["unschedulable"] = True
        spec["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": TIMESTAMP}]
    resources = {
        "carina.storage.io/carina-vg-hdd": hdd,
        "carina.storage.io/carina-vg-ssd": ssd,
        "cpu": "8",
        "ephemeral-storage": "104845292Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "32408452Ki",
        "pods": "110",
    }
    allocatable = dict(resources, cpu="7910m", memory="31257476Ki", **{"ephemeral-storage": "96625420948"})
    ready = "Unknown" if unhealthy else "True"
    conditions = [
        {"type": "NetworkUnavailable", "status": "False", "lastHeartbeatTime": TIMESTAMP, "lastTransitionTime": TIMESTAMP,
         "reason": "FlannelIsUp", "message": "Flannel is running on this node"},
        {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": TIMESTAMP, "lastTransitionTime": TIMESTAMP,
         "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
        {"type": "DiskPressure", "status": "False", "lastHeartbeatTime": TIMESTAMP, "lastTransitionTime": TIMESTAMP,
         "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
        {"type": "PIDPressure", "status": "False", "lastHeartbeatTime": TIMESTAMP, "lastTransitionTime": TIMESTAMP,
         "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
        {"type": "Ready", "status": ready, "lastHeartbeatTime": TIMESTAMP, "lastTransitionTime": TIMESTAMP,
         "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown",
         "message": "kubelet is posting ready status" if ready == "True" else "Kubelet stopped posting node status."},
    ]
    images = []
    for i in range(50):
        repo = f"registry.example.com/platform/service-{(index * 7 + i) % 240:03d}"
        images.append({
            "names": [f"{repo}@sha256:{_digest(repo + str(i))}", f"{repo}:v{i // 10}.{i % 10}.{index % 7}"],
            "sizeBytes": 12_000_000 + (index * 7919 + i * 104_729) % 900_000_000,
        })
    status = {
        "capacity": resources,
        "allocatable": allocatable,
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": f"10.0.{index // 256 % 256}.{index % 256}"},
                      {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": _digest("m" + name)[:32], "systemUUID": _digest("s" + name)[:32], "bootID": _digest("b" + name)[:32],
            "kernelVersion": "5.15.0-1056-aws", "osImage": "Ubuntu 22.04.4 LTS", "containerRuntimeVersion": "containerd://1.7.12",
            "kubeletVersion": "v1.29.4", "kubeProxyVersion": "v1.29.4", "operatingSystem": "linux", "architecture": "amd64",
        },
        "images": images,
    }
    metadata = {
        "name": name, "uid": _digest("u" + name)[:8] + "-4c1e-4f0a-9d2b-" + _digest("u" + name)[8:20],
        "resourceVersion": str(1_000_000 + index), "creationTimestamp": TIMESTAMP,
        "labels": labels, "annotations": annotations,
    }
    return {"metadata": metadata, "spec": spec, "status": status}


POD = {
    "metadata": {
        "name": "my-cluster-mysql-0", "generateName": "my-cluster-mysql-", "namespace": "default",
        "uid": "9d3b6f0e-0000-4000-8000-000000000001", "resourceVersion": "52311", "creationTimestamp": TIMESTAMP,
        "labels": {"app": "mysql", "statefulset.kubernetes.io/pod-name": "my-cluster-mysql-0"},
        "annotations": {
            "carina.storage.io/allow-pod-migration-if-node-notready": "true",
            "rebound.io/volume-requests": "{\"carina-vg-hdd\":1}",
        },
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "my-cluster-mysql", "uid": "1f0e",
                             "controller": True, "blockOwnerDeletion": True}],
    },
    "spec": {
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-my-cluster-mysql-0"}}],
        "containers": [{
            "name": "mysql", "image": "mysql:8.0.36",
            "resources": {"limits": {"cpu": "2", "rebound.io/local-capacity": "1"},
                          "requests": {"cpu": "1", "rebound.io/local-capacity": "1"}},
            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
        }],
        "restartPolicy": "Always", "schedulerName": "default-scheduler", "priority": 0,
    },
    "status": {"phase": "Pending", "qosClass": "Burstable"},
}


def compact(value) -> bytes:
    """Go's encoding/json output: no spaces."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def args_with_nodes(nodes: list, pod: dict = POD) -> bytes:
    """ExtenderArgs for nodeCacheCapable: false."""
    return b'{"Pod":' + compact(pod) + b',"Nodes":{"metadata":{},"items":[' + b",".join(compact(n) for n in nodes) + b']},"NodeNames":null}'


def args_with_names(names: list, pod: dict = POD) -> bytes:
    """ExtenderArgs for nodeCacheCapable: true."""
    return b'{"Pod":' + compact(pod) + b',"Nodes":null,"NodeNames":' + compact(names) + b'}'


def storage_class(index: int) -> dict:
    """An OpenEBS LVM LocalPV StorageClass (capacity from CSIStorageCapacity)."""
    return {"metadata": {"name": f"openebs-lvm-{index}"}, "provisioner": "local.csi.openebs.io", "volumeBindingMode": "WaitForFirstConsumer",
            "parameters": {"storage": "lvm", "volgroup": f"lvmvg-{index}"}}


def as_openebs_node(node_object: dict) -> dict:
    """The node without Carina's resources, with OpenEBS's topology label."""
    for field in ("capacity", "allocatable"):
        for key in [k for k in node_object["status"][field] if k.startswith("carina.storage.io/")]:
            del node_object["status"][field][key]
    node_object["metadata"]["labels"]["openebs.io/nodename"] = node_object["metadata"]["name"]
    return node_object


def storage_capacity(index: int, storage_class_index: int) -> dict:
    """The CSIStorageCapacity object OpenEBS's external-provisioner publishes for one class on node
    `index`: the same free space node(index) reports for hdd (class 0) or ssd (class 1)."""
    carina = node(index)["status"]["allocatable"]
    gib = carina["carina.storage.io/carina-vg-hdd" if storage_class_index % 2 == 0 else "carina.storage.io/carina-vg-ssd"]
    name = f"worker-{index:05d}"
    return {
        "metadata": {"generateName": "csisc-", "namespace": "openebs",
                     "labels": {"csi.storage.k8s.io/drivername": "local.csi.openebs.io", "csi.storage.k8s.io/managed-by": "external-provisioner"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "openebs-lvm-controller-7d9f8c6b5d",
                                          "uid": "5b0a2f1e-0000-4000-8000-00000000c0de", "controller": True}]},
        "storageClassName": f"openebs-lvm-{storage_class_index}",
        "nodeTopology": {"matchLabels": {"kubernetes.io/hostname": name, "openebs.io/nodename": name}},
        "capacity": f"{gib}Gi",
    }
