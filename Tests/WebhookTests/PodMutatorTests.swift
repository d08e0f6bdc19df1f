import Capacity
import Kube
import Testing
import Webhook

/// The mutation decision on realistic pods, with plain values for the cluster.
@Suite("PodMutator: what the webhook changes on a pod")
struct PodMutatorTests {
    let keys = CompatibilityKeys()
    let migration = "carina.storage.io/allow-pod-migration-if-node-notready"
    let annotations = JSONPointer(tokens: ["metadata", "annotations"])
    let request = JSONPointer(tokens: ["spec", "containers", "0", "resources", "requests", "rebound.io/local-capacity"])
    let limit = JSONPointer(tokens: ["spec", "containers", "0", "resources", "limits", "rebound.io/local-capacity"])

    func mutate(_ pod: JSONValue, claims: [PersistentVolumeClaim], labels: [String: String]? = nil, classes: [StorageClass] = allClasses) -> PodMutation {
        PodMutator.mutate(
            pod: pod, namespaceLabels: labels ?? optedIn, claims: Dictionary(uniqueKeysWithValues: claims.map { ($0.metadata.name!, $0) }),
            storageClasses: StorageClassIndex(classes), keys: keys)
    }

    @Test("a StatefulSet pod without a name and a pending local claim gets the annotations and the routing resource")
    func statefulSetPodWithoutName() throws {
        let pod = statefulSetPod()
        #expect(pod["metadata"]?["name"] == nil)
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        #expect(mutation.outcome == .patched)
        #expect(mutation.capacity == .routed(VolumeGroupRequests(["carina-vg-hdd": 1])))
        #expect(mutation.operations == [
            .add(annotations, [migration: "true", "rebound.io/volume-requests": #"{"carina-vg-hdd":1}"#]),
            .add(request, "1"),
            .add(limit, "1"),
        ])
        // The escaped pointer is what goes on the wire.
        #expect(mutation.operations[1].path == "/spec/containers/0/resources/requests/rebound.io~1local-capacity")
    }

    @Test("existing annotations get one add per key, with / and ~ escaped in the pointer")
    func existingAnnotationsAreEscaped() {
        var pod = statefulSetPod()
        pod.set(["metadata", "annotations"], ["example.com/owner~team": "db", "kubectl.kubernetes.io/default-container": "mysql"])
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        let paths = mutation.operations.map(\.path)
        #expect(paths == [
            "/metadata/annotations/carina.storage.io~1allow-pod-migration-if-node-notready",
            "/metadata/annotations/rebound.io~1volume-requests",
            "/spec/containers/0/resources/requests/rebound.io~1local-capacity",
            "/spec/containers/0/resources/limits/rebound.io~1local-capacity",
        ])
        #expect(mutation.operations.allSatisfy { $0.op == .add })
        // Keys that need escaping themselves survive a round trip through the pointer syntax.
        #expect(JSONPointer(tokens: ["metadata", "annotations", "example.com/owner~team"]).description == "/metadata/annotations/example.com~1owner~0team")
    }

    @Test("an explicit \"false\" stays; the pod still gets its capacity resource")
    func explicitFalseWins() {
        var pod = statefulSetPod()
        pod.set(["metadata", "annotations"], [migration: "false"])
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        #expect(!mutation.operations.contains { $0.path.contains("allow-pod-migration") })
        #expect(mutation.operations.map(\.path).contains("/metadata/annotations/rebound.io~1volume-requests"))
        #expect(mutation.operations.count == 3)
    }

    @Test("only the first regular container gets the resource; init containers and other containers are untouched")
    func severalContainers() {
        let pod = statefulSetPod()
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "20Gi", storageClass: "csi-carina-sc")])
        #expect(mutation.operations.allSatisfy { !$0.path.hasPrefix("/spec/initContainers") && !$0.path.hasPrefix("/spec/containers/1") })
        let patched = try? JSONPatch.apply(mutation.operations, to: pod)
        let resources = patched?["spec"]?["containers"]?[0]?["resources"]
        // The existing cpu/memory requests and the memory limit are kept.
        #expect(resources == [
            "limits": ["memory": "2Gi", "rebound.io/local-capacity": "20"],
            "requests": ["cpu": "500m", "memory": "1Gi", "rebound.io/local-capacity": "20"],
        ])
        #expect(patched?["spec"]?["initContainers"] == pod["spec"]?["initContainers"])
        #expect(patched?["spec"]?["containers"]?[1] == pod["spec"]?["containers"]?[1])
    }

    @Test("missing resources, requests or limits maps are created with one add each")
    func createsResourceMaps() {
        var pod = statefulSetPod()
        pod.set(["spec", "containers"], [["name": "mysql", "image": "mysql:8"]])
        let claims = [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")]
        let none = mutate(pod, claims: claims).operations.filter { $0.path.hasPrefix("/spec") }
        #expect(none == [.add(JSONPointer(tokens: ["spec", "containers", "0", "resources"]),
                              ["requests": ["rebound.io/local-capacity": "1"], "limits": ["rebound.io/local-capacity": "1"]])])

        pod.set(["spec", "containers"], [["name": "mysql", "resources": ["requests": ["cpu": "1"]]]])
        let noLimits = mutate(pod, claims: claims).operations.filter { $0.path.hasPrefix("/spec") }
        #expect(noLimits == [
            .add(request, "1"),
            .add(JSONPointer(tokens: ["spec", "containers", "0", "resources", "limits"]), ["rebound.io/local-capacity": "1"]),
        ])
    }

    @Test("applying the patch and deciding again yields nothing (reinvocationPolicy IfNeeded)")
    func idempotent() throws {
        let pod = statefulSetPod()
        let claims = [claim("data-my-cluster-mysql-0", size: "5Gi", storageClass: "csi-carina-sc")]
        let first = mutate(pod, claims: claims)
        let patched = try JSONPatch.apply(first.operations, to: pod)
        let second = mutate(patched, claims: claims)
        #expect(second.outcome == .alreadyCurrent)
        #expect(second.operations.isEmpty)
    }

    @Test("equal values spelt differently are current; stale values are replaced")
    func staleValuesAreReplaced() throws {
        var pod = statefulSetPod()
        pod.set(["metadata", "annotations"], [migration: "true", "rebound.io/volume-requests": #"{ "carina-vg-hdd" : 3 }"#])
        pod.set(["spec", "containers"], [["name": "mysql", "resources": ["requests": ["rebound.io/local-capacity": 3], "limits": ["rebound.io/local-capacity": "3000m"]]]])
        let current = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "3Gi", storageClass: "csi-carina-sc")])
        #expect(current.outcome == .alreadyCurrent)

        // Another webhook grew the claim before this re-invocation.
        let stale = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "8Gi", storageClass: "csi-carina-sc")])
        #expect(stale.operations == [
            .replace(annotations.appending("rebound.io/volume-requests"), #"{"carina-vg-hdd":8}"#),
            .replace(request, "8"),
            .replace(limit, "8"),
        ])
    }

    @Test("a bound local claim fixes the node: the migration annotation only")
    func boundClaim() {
        let bound = claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc", volumeName: "pvc-3f1c", phase: "Bound")
        let mutation = mutate(statefulSetPod(), claims: [bound])
        #expect(mutation.capacity == .claimBound("data-my-cluster-mysql-0"))
        #expect(mutation.operations == [.add(annotations, [migration: "true"])])
    }

    @Test("a claim that does not exist yet: admitted unchanged, without even the annotation")
    func missingClaim() {
        let mutation = mutate(statefulSetPod(), claims: [])
        #expect(mutation.outcome == .claimMissing("data-my-cluster-mysql-0"))
        #expect(mutation.operations.isEmpty)
    }

    @Test("claims on network or class-less storage: migration annotation, no capacity resource")
    func nonLocalClaims() {
        let network = mutate(statefulSetPod(), claims: [claim("data-my-cluster-mysql-0", size: "100Gi", storageClass: "ebs-gp3")])
        #expect(network.capacity == .noLocalClaims)
        #expect(network.operations == [.add(annotations, [migration: "true"])])
        // "" means no class at all (a pre-provisioned volume), not the default class.
        let classless = mutate(statefulSetPod(), claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "")])
        #expect(classless.capacity == .noLocalClaims)
        // A class the cluster does not have cannot be local.
        let unknown = mutate(statefulSetPod(), claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "gone")])
        #expect(unknown.capacity == .noLocalClaims)
    }

    @Test("no storageClassName means the default class")
    func defaultClass() {
        let mutation = mutate(statefulSetPod(), claims: [claim("data-my-cluster-mysql-0", size: "2Gi", storageClass: nil)])
        #expect(mutation.capacity == .routed(VolumeGroupRequests(["carina-vg-hdd": 2])))
        let noDefault = mutate(statefulSetPod(), claims: [claim("data-my-cluster-mysql-0", size: "2Gi", storageClass: nil)], classes: [hddClass, networkClass])
        #expect(noDefault.capacity == .noLocalClaims)
    }

    @Test("several claims and generic ephemeral volumes add up per group, each rounded up to whole GiB")
    func perGroupSizes() throws {
        var pod = statefulSetPod()
        pod.set(["spec", "volumes"], [
            ["name": "data", "persistentVolumeClaim": ["claimName": "data-my-cluster-mysql-0"]],
            ["name": "binlog", "persistentVolumeClaim": ["claimName": "binlog-my-cluster-mysql-0", "readOnly": false]],
            ["name": "scratch", "ephemeral": ["volumeClaimTemplate": ["metadata": ["labels": ["type": "scratch"]], "spec": [
                "accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-ssd", "resources": ["requests": ["storage": "10G"]],
            ]]]],
            ["name": "cache", "ephemeral": ["volumeClaimTemplate": ["spec": ["resources": ["requests": ["storage": "512Mi"]]]]]],
            ["name": "backup", "persistentVolumeClaim": ["claimName": "backup"]],
            ["name": "tmp", "emptyDir": [:]],
        ])
        let mutation = mutate(pod, claims: [
            claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc"),
            claim("binlog-my-cluster-mysql-0", size: "500Mi", storageClass: "csi-carina-sc"),
            claim("backup", size: "1Ti", storageClass: "ebs-gp3"),
        ])
        // hdd: 1Gi + 500Mi (→1) + the default class's 512Mi (→1) = 3; ssd ("ssd" is legacy for carina-vg-ssd): 10G = 9.31Gi → 10.
        let expected = VolumeGroupRequests(["carina-vg-hdd": 3, "carina-vg-ssd": 10])
        #expect(mutation.capacity == .routed(expected))
        let patched = try JSONPatch.apply(mutation.operations, to: pod)
        #expect(patched["metadata"]?["annotations"]?["rebound.io/volume-requests"] == #"{"carina-vg-hdd":3,"carina-vg-ssd":10}"#)
        #expect(patched["spec"]?["containers"]?[0]?["resources"]?["limits"]?["rebound.io/local-capacity"] == "13")
    }

    @Test("two ephemeral volumes of 9e27 bytes each cap at 8 EiB instead of trapping (the crash of the field report)")
    func hugeEphemeralVolumes() throws {
        var pod = statefulSetPod()
        let template: JSONValue = ["volumeClaimTemplate": ["spec": ["storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "9e27"]]]]]
        pod.set(["spec", "volumes"], [["name": "a", "ephemeral": template], ["name": "b", "ephemeral": template]])
        let mutation = mutate(pod, claims: [])
        #expect(mutation.capacity == .routed(VolumeGroupRequests(["carina-vg-hdd": VolumeGroupRequests.maximumGiB])))
    }

    @Test("a storage request Rebound cannot read leaves the pod unrouted, naming the field", arguments: [
        (JSONValue.string(String(repeating: "9", count: 100_000)), "longer than the 64"),
        (JSONValue.string("1e1000"), "too large"),
        (JSONValue.bool(true), "not a string or a number"),
    ])
    func unreadableEphemeralRequest(_ storage: JSONValue, _ problem: String) throws {
        var pod = statefulSetPod()
        pod.set(["spec", "volumes"], [
            ["name": "data", "persistentVolumeClaim": ["claimName": "data-my-cluster-mysql-0"]],
            ["name": "scratch", "ephemeral": ["volumeClaimTemplate": ["spec": ["storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": storage]]]]]],
        ])
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        guard case .unreadableRequest(let error)? = mutation.capacity else {
            Issue.record("expected an unreadable request, got \(String(describing: mutation.capacity))")
            return
        }
        #expect(error.field == "spec.volumes[1].ephemeral.volumeClaimTemplate.spec.resources.requests.storage")
        #expect(error.problem.contains(problem), "\(error.problem)")
        // Still opted in for failover; just not routed.
        #expect(mutation.operations.map(\.path) == ["/metadata/annotations"])
    }

    @Test("a cached claim whose request was too large to read leaves the pod unrouted")
    func unreadableClaimRequest() {
        var unreadable = claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")
        unreadable.spec?.resources?.requests?["storage"] = .beyondRange(negative: false)
        let mutation = mutate(statefulSetPod(), claims: [unreadable])
        guard case .unreadableRequest(let error)? = mutation.capacity else {
            Issue.record("expected an unreadable request, got \(String(describing: mutation.capacity))")
            return
        }
        #expect(error.field == "persistentvolumeclaims/data-my-cluster-mysql-0 spec.resources.requests.storage")
    }

    @Test("a namespace without the label is left alone")
    func notOptedIn() {
        let claims = [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")]
        #expect(mutate(statefulSetPod(), claims: claims, labels: [:]).outcome == .namespaceNotOptedIn)
        #expect(mutate(statefulSetPod(), claims: claims, labels: [migration: "false"]).operations.isEmpty)
    }

    @Test("a pod already assigned to a node gets no capacity resource")
    func nodeAssigned() {
        var pod = statefulSetPod()
        pod.set(["spec", "nodeName"], "dev1-node-3")
        let mutation = mutate(pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        #expect(mutation.capacity == .nodeAssigned("dev1-node-3"))
        #expect(mutation.operations.count == 1)
    }

    @Test("a pod without metadata.annotations nor any volume gets one add")
    func noVolumes() {
        var pod = statefulSetPod()
        pod["spec"]?["volumes"] = nil
        let mutation = mutate(pod, claims: [])
        #expect(mutation.capacity == .noLocalClaims)
        #expect(mutation.operations == [.add(annotations, [migration: "true"])])
    }

    @Test("configured keys replace Carina's")
    func customKeys() throws {
        var keys = CompatibilityKeys()
        keys.migrationAnnotation = "example.com/failover"
        keys.namespaceLabel = "example.com/failover-namespace"
        keys.routingResource = "example.com/local"
        keys.requestsAnnotation = "example.com/requests"
        keys.provisioners = ["topolvm.io"]
        keys.volumeGroupParameters = ["topolvm.io/device-class"]
        let topolvm = StorageClass(metadata: ObjectMeta(name: "topolvm"), provisioner: "topolvm.io", parameters: ["topolvm.io/device-class": "nvme"])
        let mutation = PodMutator.mutate(
            pod: statefulSetPod(), namespaceLabels: ["example.com/failover-namespace": "true"],
            claims: ["data-my-cluster-mysql-0": claim("data-my-cluster-mysql-0", size: "4Gi", storageClass: "topolvm")],
            storageClasses: StorageClassIndex([topolvm]), keys: keys)
        let patched = try JSONPatch.apply(mutation.operations, to: statefulSetPod())
        #expect(patched["metadata"]?["annotations"] == ["example.com/failover": "true", "example.com/requests": #"{"nvme":4}"#])
        #expect(patched["spec"]?["containers"]?[0]?["resources"]?["requests"]?["example.com/local"] == "4")
    }

    @Test("each driver's claims are routed by its preset: TopoLVM's default device class, OpenEBS per StorageClass")
    func driverPresets() throws {
        let topolvm = StorageClass(metadata: ObjectMeta(name: "topolvm-provisioner"), provisioner: "topolvm.io", parameters: ["csi.storage.k8s.io/fstype": "xfs"])
        let openebs = StorageClass(metadata: ObjectMeta(name: "openebs-lvmpv"), provisioner: "local.csi.openebs.io", parameters: ["storage": "lvm", "volgroup": "lvmvg"])
        let claims = [
            "data-my-cluster-mysql-0": claim("data-my-cluster-mysql-0", size: "4Gi", storageClass: "topolvm-provisioner"),
            "logs-my-cluster-mysql-0": claim("logs-my-cluster-mysql-0", size: "2Gi", storageClass: "openebs-lvmpv"),
        ]
        var pod = statefulSetPod()
        pod["spec"]?["volumes"] = [
            ["name": "data", "persistentVolumeClaim": ["claimName": "data-my-cluster-mysql-0"]],
            ["name": "logs", "persistentVolumeClaim": ["claimName": "logs-my-cluster-mysql-0"]],
        ]
        for (preset, expected) in [(DriverPreset.topolvm, #"{"00default":4}"#), (.openebsLVM, #"{"openebs-lvmpv":2}"#)] {
            let mutation = PodMutator.mutate(
                pod: pod, namespaceLabels: [preset.keys.namespaceLabel: "true"], claims: claims,
                storageClasses: StorageClassIndex([topolvm, openebs]), keys: preset.keys)
            let patched = try JSONPatch.apply(mutation.operations, to: pod)
            #expect(patched["metadata"]?["annotations"]?["rebound.io/volume-requests"] == .string(expected), "\(preset.name)")
        }
    }
}
