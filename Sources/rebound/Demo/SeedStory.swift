/// The demo's default scenario, the seed story: the same text as `examples/seed-story.yaml`
/// (a test keeps them equal), built in so `rebound demo` needs no files.
enum SeedStory {
    static let yaml = """
# The seed story (../shared/SEED-STORY.md, report 1): a control-plane node and five workers.
# dev1-node-2 and dev1-node-3 carry the carina-vg-hdd and carina-vg-ssd volume groups and report
# their free space (GiB) as allocatable resources; the other workers report 0. dev1-node-4 has been
# NotReady for weeks. The MySQL namespace opts in to failover.
apiVersion: v1
kind: Namespace
metadata:
  name: mysql
  labels:
    carina.storage.io/allow-pod-migration-if-node-notready: "true"
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: csi-carina-sc
provisioner: carina.storage.io
parameters:
  carina.storage.io/disk-type: carina-vg-hdd
  csi.storage.k8s.io/fstype: xfs
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-master
  labels: {kubernetes.io/hostname: dev1-master, node-role.kubernetes.io/control-plane: ""}
spec:
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-node-1
  labels: {kubernetes.io/hostname: dev1-node-1}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", carina.storage.io/carina-vg-hdd: "0", carina.storage.io/carina-vg-ssd: "0"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-node-2
  labels: {kubernetes.io/hostname: dev1-node-2}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", carina.storage.io/carina-vg-hdd: "188", carina.storage.io/carina-vg-ssd: "189"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-node-3
  labels: {kubernetes.io/hostname: dev1-node-3}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", carina.storage.io/carina-vg-hdd: "188", carina.storage.io/carina-vg-ssd: "189"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-node-4
  labels: {kubernetes.io/hostname: dev1-node-4}
spec:
  taints:
  - {key: node.kubernetes.io/unreachable, effect: NoSchedule}
  - {key: node.kubernetes.io/unreachable, effect: NoExecute}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", carina.storage.io/carina-vg-hdd: "0", carina.storage.io/carina-vg-ssd: "0"}
  conditions: [{type: Ready, status: Unknown, reason: NodeStatusUnknown, message: Kubelet stopped posting node status.}]
---
apiVersion: v1
kind: Node
metadata:
  name: dev1-node-5
  labels: {kubernetes.io/hostname: dev1-node-5}
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", carina.storage.io/carina-vg-hdd: "0", carina.storage.io/carina-vg-ssd: "0"}
  conditions: [{type: Ready, status: "True"}]
---
# The MySQL operator's StatefulSet: one replica with a 1 GiB claim on the local StorageClass.
# The webhook annotates its pod (the namespace opted in) and routes it to the extender.
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: my-cluster-mysql
  namespace: mysql
spec:
  replicas: 1
  serviceName: my-cluster-mysql
  selector:
    matchLabels: {app: mysql}
  template:
    metadata:
      labels: {app: mysql}
    spec:
      containers:
      - name: mysql
        image: mysql:8.0
        resources:
          requests: {cpu: 500m, memory: 1Gi}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: csi-carina-sc
      resources:
        requests: {storage: 1Gi}
"""
}
