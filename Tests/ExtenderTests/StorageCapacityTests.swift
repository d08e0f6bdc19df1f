import Capacity
import Foundation
@testable import Extender
import Kube
import Testing

/// Placement from CSIStorageCapacity objects (`capacity.source: csistoragecapacity`): the index
/// on its own, then the extender over HTTP as objects appear, change and disappear.
@Suite("Capacity from CSIStorageCapacity objects", .timeLimit(.minutes(2)))
struct StorageCapacityTests {
    static func object(
        _ name: String, storageClass: String = "lvm", labels: [String: String]? = nil, expressions: [LabelSelector.Requirement]? = nil,
        topology: Bool = true, capacity: Quantity? = "100Gi", maximum: Quantity? = nil
    ) -> CSIStorageCapacity {
        CSIStorageCapacity(
            metadata: ObjectMeta(name: name, namespace: "openebs"), storageClassName: storageClass,
            nodeTopology: topology ? LabelSelector(matchLabels: labels, matchExpressions: expressions) : nil, capacity: capacity, maximumVolumeSize: maximum)
    }

    // MARK: The index

    @Test("an object reaches the nodes whose labels its selector matches, all of its labels")
    func severalLabels() {
        var index = StorageCapacityIndex()
        index.upsert(key: "a", Self.object("a", labels: ["openebs.io/nodename": "n1", "topology.kubernetes.io/zone": "z1"], capacity: "40Gi"))
        #expect(index.capacity(labels: ["openebs.io/nodename": "n1", "topology.kubernetes.io/zone": "z1", "other": "x"])["lvm"] == 40)
        #expect(index.capacity(labels: ["openebs.io/nodename": "n1", "topology.kubernetes.io/zone": "z2"])["lvm"] == nil, "one label differs")
        #expect(index.capacity(labels: ["topology.kubernetes.io/zone": "z1"])["lvm"] == nil, "one label missing")
    }

    @Test("expression selectors, an empty selector (every node) and no topology (no node)")
    func selectorForms() {
        var index = StorageCapacityIndex()
        index.upsert(key: "in", Self.object("in", storageClass: "a", expressions: [.init(key: "openebs.io/nodename", operator: "In", values: ["n1", "n2"])], capacity: "10Gi"))
        index.upsert(key: "all", Self.object("all", storageClass: "b", capacity: "20Gi"))
        index.upsert(key: "none", Self.object("none", storageClass: "c", topology: false))
        let n2 = index.capacity(labels: ["openebs.io/nodename": "n2"])
        #expect(n2.freeGiB == ["a": 10, "b": 20])
        #expect(index.capacity(labels: ["openebs.io/nodename": "n3"]).freeGiB == ["b": 20])
        #expect(index.count == 2, "an object without nodeTopology reaches no node and is not kept")
    }

    @Test("several objects of one class on a node: the one with most room counts, with its maximumVolumeSize; bytes round down to GiB")
    func largestWins() {
        var index = StorageCapacityIndex()
        index.upsert(key: "small", Self.object("small", labels: ["n": "1"], capacity: "30Gi"))
        index.upsert(key: "large", Self.object("large", labels: ["n": "1"], capacity: "64424509439", maximum: "8Gi"))
        let capacity = index.capacity(labels: ["n": "1"])
        #expect(capacity["lvm"] == 59, "64424509439 bytes is just under 60 GiB")
        #expect(capacity.maxVolumeGiB["lvm"] == 8)
        index.remove(key: "large")
        #expect(index.capacity(labels: ["n": "1"])["lvm"] == 30)
        #expect(index.capacity(labels: ["n": "1"]).maxVolumeGiB["lvm"] == nil)
    }

    @Test("an object without capacity (unknown) or class is ignored; a changed object replaces its old entry")
    func unknownAndChanged() {
        var index = StorageCapacityIndex()
        index.upsert(key: "x", Self.object("x", labels: ["n": "1"], capacity: nil))
        index.upsert(key: "y", Self.object("y", storageClass: "", labels: ["n": "1"]))
        #expect(index.capacity(labels: ["n": "1"]).freeGiB.isEmpty)
        index.upsert(key: "x", Self.object("x", labels: ["n": "1"], capacity: "5Gi"))
        index.upsert(key: "x", Self.object("x", labels: ["n": "2"], capacity: "6Gi"))
        #expect(index.capacity(labels: ["n": "1"]).freeGiB.isEmpty)
        #expect(index.capacity(labels: ["n": "2"])["lvm"] == 6)
    }

    @Test("a changed object reaches exactly the nodes carrying its label now, after nodes are relabelled or removed")
    func refreshFollowsLabels() async {
        let state = ExtenderState(strategy: .spreadout, reservationTTL: .seconds(300), capacityFromObjects: true)
        func node(_ name: String, pool: String) -> NodeSummary {
            NodeSummary(name: name, health: .healthy, capacity: NodeCapacity(), labels: ["kubernetes.io/hostname": name, "pool": pool])
        }
        await state.replaceNodes([node("n1", pool: "a"), node("n2", pool: "b"), node("n3", pool: "a")])
        await state.upsertStorageCapacity(key: "x", Self.object("x", storageClass: "fast", labels: ["pool": "a"], capacity: "20Gi"))
        func fits(_ gib: Int64) async -> [Bool] {
            await state.filter(pod: .init(key: "p/\(gib)", uid: nil), requests: VolumeGroupRequests(["fast": gib]), pins: [],
                               candidates: .names(["n1", "n2", "n3"]), now: .now).map(\.fits)
        }
        #expect(await fits(15) == [true, false, true])
        // n2 joins pool a, n3 leaves it, then the driver reports less room: the new members follow.
        await state.upsertNode(node("n2", pool: "a"))
        await state.upsertNode(node("n3", pool: "b"))
        #expect(await fits(15) == [true, true, false])
        await state.upsertStorageCapacity(key: "x", Self.object("x", storageClass: "fast", labels: ["pool": "a"], capacity: "10Gi"))
        #expect(await fits(15) == [false, false, false])
        #expect(await fits(8) == [true, true, false])
        await state.removeNode("n1")
        await state.removeStorageCapacity(key: "x")
        #expect(await fits(1) == [false, false, false])
    }

    // MARK: Over HTTP

    static var settings: ExtenderSettings {
        var settings = ExtenderSettings()
        settings.keys = DriverPreset.openebsLVM.keys
        return settings
    }

    static let nodeNames = ["node-a", "node-b", "node-c"]

    /// OpenEBS LVM LocalPV's class and three nodes with no capacity of their own: node-a reaches
    /// 100 GiB, node-b 50 GiB in volumes of at most 5 GiB, node-c nothing yet.
    static func cluster(_ client: KubeClient) async throws {
        _ = try await client.create(StorageClass(
            metadata: ObjectMeta(name: "lvm"), provisioner: "local.csi.openebs.io", parameters: ["volgroup": "lvmvg", "storage": "lvm"],
            reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer"))
        for name in nodeNames { try await ClusterFixtures.createNode(client, .init(name: name, hdd: nil)) }
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: "openebs")))
        _ = try await client.create(object("a", labels: ["kubernetes.io/hostname": "node-a", "kubernetes.io/os": "linux"], capacity: "100Gi"))
        _ = try await client.create(object("b", labels: ["kubernetes.io/hostname": "node-b"], capacity: "50Gi", maximum: "5Gi"))
    }

    /// Filters `pod` over NodeNames until the passing nodes are `expected` (the cache follows
    /// the API a moment later), returning the last reply.
    static func filter(_ harness: ExtenderHarness, pod: String, until expected: [String]) async throws -> ExtenderHarness.Reply {
        var reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: nodeNames))
        let deadline = ContinuousClock.now + .seconds(10)
        while reply.json?["NodeNames"]?.arrayValue?.compactMap(\.stringValue) != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: pod, names: nodeNames))
        }
        return reply
    }

    static let tenGiB = GoPayloads.pod(.init(requests: "{\"lvm\":10}"))

    @Test("the StorageClass is the group; maximumVolumeSize refuses a node; objects appearing, changing and disappearing move the decision")
    func followsObjects() async throws {
        try await ExtenderHarness.run(settings: Self.settings, setUp: Self.cluster) { harness in
            var reply = try await Self.filter(harness, pod: Self.tenGiB, until: ["node-a"])
            #expect(reply.json?["NodeNames"] == ["node-a"])
            let failed = reply.json?["FailedAndUnresolvableNodes"]
            #expect(failed?["node-b"]?.stringValue == "volume group lvm takes volumes of at most 5 GiB (maximumVolumeSize), the pod needs one of 10 GiB")
            #expect(failed?["node-c"]?.stringValue == "node has no volume group lvm")

            // node-c's driver starts publishing; node-b's limit goes; node-a's object is deleted.
            _ = try await harness.client.create(Self.object("c", labels: ["kubernetes.io/hostname": "node-c"], capacity: "30Gi"))
            reply = try await Self.filter(harness, pod: Self.tenGiB, until: ["node-a", "node-c"])
            #expect(reply.json?["NodeNames"] == ["node-a", "node-c"])
            _ = try await harness.client.patch(CSIStorageCapacity.self, "b", namespace: "openebs", .merge(["maximumVolumeSize": .null]))
            reply = try await Self.filter(harness, pod: Self.tenGiB, until: ["node-a", "node-b", "node-c"])
            #expect(reply.json?["NodeNames"] == ["node-a", "node-b", "node-c"])
            _ = try await harness.client.delete(CSIStorageCapacity.self, "a", namespace: "openebs")
            reply = try await Self.filter(harness, pod: Self.tenGiB, until: ["node-b", "node-c"])
            #expect(reply.json?["NodeNames"] == ["node-b", "node-c"])
            #expect(reply.json?["FailedAndUnresolvableNodes"]?["node-a"]?.stringValue == "node has no volume group lvm")

            // Full Node objects in the request carry no capacity: the cache's objects decide.
            let nodes = Self.nodeNames.map { GoPayloads.node(.init(name: $0, hdd: nil)) }
            let list = try await harness.post("/filter", GoPayloads.argsWithNodes(pod: Self.tenGiB, nodes: nodes))
            #expect(list.json?["Nodes"]?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["node-b", "node-c"])

            // Spread out: node-b has 40 GiB left, node-c 20, half as much.
            let scores = try await harness.post("/prioritize", GoPayloads.argsWithNames(pod: Self.tenGiB, names: ["node-b", "node-c"]))
            #expect(scores.json?.arrayValue?.map { $0["Score"]?.intValue } == [10, 5])
        }
    }

    @Test("with every claim known, the largest single claim meets maximumVolumeSize, not the total")
    func largestClaim() async throws {
        try await ExtenderHarness.run(settings: Self.settings, setUp: Self.cluster) { harness in
            for name in ["data-0", "logs-0"] {
                _ = try await harness.client.create(PersistentVolumeClaim(
                    metadata: ObjectMeta(name: name, namespace: "default"),
                    spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": "4Gi"]), storageClassName: "lvm")))
            }
            // Two 4 GiB volumes: 8 GiB in all, none above node-b's 5 GiB limit.
            let pod = GoPayloads.pod(.init(requests: "{\"lvm\":8}", claims: ["data-0", "logs-0"]))
            let reply = try await Self.filter(harness, pod: pod, until: ["node-a", "node-b"])
            #expect(reply.json?["NodeNames"] == ["node-a", "node-b"])
        }
    }

    @Test("a reservation counts against the class's CSIStorageCapacity until the driver reports the volume")
    func reservationsCount() async throws {
        try await ExtenderHarness.run(settings: Self.settings, setUp: Self.cluster) { harness in
            _ = try await Self.filter(harness, pod: Self.tenGiB, until: ["node-a"])
            // node-a has 100 GiB; nine other pods placed there hold 90.
            let state = harness.extender.state
            await state.placed(pod: .init(key: "default/other", uid: "u-other"), on: "node-a", requests: VolumeGroupRequests(["lvm": 95]), now: .now)
            let reply = try await harness.post("/filter", GoPayloads.argsWithNames(pod: Self.tenGiB, names: Self.nodeNames))
            #expect(reply.json?["NodeNames"] == [])
            #expect(reply.json?["FailedNodes"]?["node-a"]?.stringValue?.contains("95 GiB are promised") == true)
        }
    }
}
