import Capacity
import ClusterSim
import Foundation
import Kube
import Testing

/// ClusterSim playing each local CSI driver: a Carina scenario reshaped as TopoLVM's or OpenEBS
/// LVM LocalPV's objects, and the provisioner writing volumes and capacity the driver's way.
@Suite("ClusterSim: each driver's objects", .timeLimit(.minutes(1)))
struct DriverShapesTests {
    /// One node of 100 GiB in Carina's HDD group, a NotReady-free cluster, the local class, a
    /// pod bound to the node with a pending 30 GiB claim.
    static let world = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: local}
        provisioner: carina.storage.io
        parameters: {carina.storage.io/disk-type: hdd, csi.storage.k8s.io/fstype: xfs}
        volumeBindingMode: WaitForFirstConsumer
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
        status:
          allocatable: {carina.storage.io/carina-vg-hdd: "100", cpu: "8", memory: 32Gi, pods: "110"}
          conditions: [{type: Ready, status: "True"}]
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data, namespace: default}
        spec: {accessModes: [ReadWriteOnce], storageClassName: local, resources: {requests: {storage: 30Gi}}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: db, namespace: default}
        spec:
          nodeName: n1
          containers: [{name: db, image: mysql}]
          volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
        """

    static func first(_ objects: [JSONValue], kind: String) -> JSONValue? { objects.first { $0["kind"]?.stringValue == kind } }

    @Test("TopoLVM: device-class parameter, topology label, capacity annotation in bytes and a CSIStorageCapacity object")
    func topolvmShape() throws {
        let objects = try SimScenario(yaml: Self.world).translated(to: .topolvm).objects
        let storageClass = try #require(Self.first(objects, kind: "StorageClass"))
        #expect(storageClass["provisioner"] == "topolvm.io")
        #expect(storageClass["parameters"] == ["topolvm.io/device-class": "hdd", "csi.storage.k8s.io/fstype": "xfs"])
        let node = try #require(Self.first(objects, kind: "Node"))
        #expect(node["metadata"]?["labels"]?["topology.topolvm.io/node"] == "n1")
        #expect(node["metadata"]?["annotations"]?["capacity.topolvm.io/hdd"] == "107374182400")
        #expect(node["status"]?["allocatable"]?["carina.storage.io/carina-vg-hdd"] == nil)
        let capacity = try #require(Self.first(objects, kind: "CSIStorageCapacity"))
        #expect(capacity["metadata"]?["namespace"] == "topolvm-system")
        #expect(capacity["storageClassName"] == "local")
        #expect(capacity["nodeTopology"] == ["matchLabels": ["topology.topolvm.io/node": "n1"]])
        #expect(capacity["capacity"] == "100Gi")
        // Read as Rebound reads it.
        let decoded = try capacity.decode(as: CSIStorageCapacity.self)
        #expect(decoded.reaches(nodeLabels: ["topology.topolvm.io/node": "n1"]))
        #expect(!decoded.reaches(nodeLabels: ["topology.topolvm.io/node": "n2"]))
    }

    @Test("OpenEBS LVM LocalPV: volgroup parameter, openebs.io/nodename label, CSIStorageCapacity only")
    func openebsShape() throws {
        let objects = try SimScenario(yaml: Self.world).translated(to: .openebsLVM).objects
        let storageClass = try #require(Self.first(objects, kind: "StorageClass"))
        #expect(storageClass["provisioner"] == "local.csi.openebs.io")
        #expect(storageClass["parameters"]?["volgroup"] == "hdd")
        let node = try #require(Self.first(objects, kind: "Node"))
        #expect(node["metadata"]?["labels"]?["openebs.io/nodename"] == "n1")
        #expect(node["metadata"]?["annotations"] == nil)
        #expect(objects.contains { $0["kind"] == "Namespace" && $0["metadata"]?["name"] == "openebs" })
        // Its Helm chart's topology keys: the driver's own and the hostname.
        #expect(Self.first(objects, kind: "CSIStorageCapacity")?["nodeTopology"] == ["matchLabels": ["openebs.io/nodename": "n1", "kubernetes.io/hostname": "n1"]])
    }

    @Test("Carina's scenario is left as it is")
    func carinaUnchanged() throws {
        let scenario = try SimScenario(yaml: Self.world)
        #expect(scenario.translated(to: .carina).objects == scenario.objects)
    }

    @Test("the provisioner pins the volume by the driver's topology key and lowers every report of the group", arguments: [DriverPreset.topolvm, .openebsLVM])
    func provisions(_ driver: DriverPreset) async throws {
        let store = SimStore()
        let scenario = try SimScenario(yaml: Self.world).translated(to: driver)
        _ = try await scenario.load(into: store)
        let provisioner = LocalVolumeProvisioner(store: store, driver: driver)
        try await provisioner.reconcile()
        let volume = try #require(try await store.list(PersistentVolume.resourceType, namespace: nil).items.first)
        let term = volume.value["spec"]?["nodeAffinity"]?["required"]?["nodeSelectorTerms"]?[0]?["matchExpressions"]?[0]
        #expect(term == ["key": .string(driver.topologyKey), "operator": "In", "values": ["n1"]])
        #expect(volume.value["spec"]?["csi"]?["driver"] == .string(driver.provisioners[0]))
        let objects = try await store.list(CSIStorageCapacity.resourceType, namespace: nil).items
        #expect(objects.map { $0.value["capacity"] } == ["70Gi"])
        if driver == .topolvm {
            let node = try await store.get(Node.resourceType, namespace: nil, name: "n1")
            #expect(node.value["metadata"]?["annotations"]?["capacity.topolvm.io/hdd"] == .string(String(70 << 30)))
        }
        #expect(try await provisioner.reportedFree() == ["n1": ["hdd": 70]])
        #expect(try await provisioner.provisioned() == ["n1": ["hdd": 30]])

        // The claim goes; reclaim policy Delete gives the space back.
        _ = try await store.delete(PersistentVolumeClaim.resourceType, namespace: "default", name: "data")
        try await provisioner.reconcile()
        #expect(try await provisioner.reportedFree() == ["n1": ["hdd": 100]])
    }
}
