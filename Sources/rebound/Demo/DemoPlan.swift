import Capacity
import ClusterSim
import Foundation
import Kube

/// The story a demo tells: which objects make the cluster, which node fails, and how to tell
/// that the story completed.
struct DemoPlan {
    /// Namespaces whose pods and claims are narrated one by one (nil: all).
    var narrated: Set<String>?
    /// The node to fail; nil: the node holding the most opted-in pods.
    var nodeToFail: String?
    var scale: Bool

    // MARK: Building the cluster

    static func load(options: DemoOptions, api: SimAPI, store: SimStore, timeline: DemoTimeline) async throws -> DemoPlan {
        if let nodes = options.nodes {
            return try await loadScale(nodes: nodes, options: options, api: api, store: store, timeline: timeline)
        }
        let text: String
        if let path = options.scenario {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the scenario \(path)") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = SeedStory.yaml
        }
        let scenario = try SimScenario(yaml: text).translated(to: options.preset)
        let driver = options.preset == .carina ? "" : ", as \(options.preset.name) shapes it"
        await timeline.record("loading \(options.scenario ?? "the seed story")\(driver) (\(scenario.objects.count) objects)")
        try await scenario.load { type, namespace, object throws(KubeAPIError) in try await api.create(type, namespace: namespace, object: object) }
        try await waitForPods(store: store, timeline: timeline, label: "the scenario's pods")
        return DemoPlan(narrated: nil, nodeToFail: nil, scale: false)
    }

    /// A generated cluster: `failing` opted-in pods and a few opted-out ones on node-00, the rest
    /// spread over the other nodes.
    private static func loadScale(nodes: Int, options: DemoOptions, api: SimAPI, store: SimStore, timeline: DemoTimeline) async throws -> DemoPlan {
        let failing = options.failing ?? options.pods / 4
        guard nodes >= 2, options.pods >= failing, failing >= 1 else { throw CLIError("--nodes needs at least 2 and --pods at least 1 pod for the failing node") }
        await timeline.record("creating \(nodes) nodes, \(options.pods) opted-in pods (\(failing) on node-00) and \(options.optedOut) opted-out pods on node-00")
        var setup: [JSONValue] = [
            [
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": "csi-carina-sc"], "provisioner": "carina.storage.io",
                "parameters": ["carina.storage.io/disk-type": "carina-vg-hdd"], "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
            ],
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "scale", "labels": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]]],
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "legacy"]],
        ]
        let names = (0..<nodes).map { String(format: "node-%02d", $0) }
        for (index, name) in names.enumerated() {
            setup.append([
                "apiVersion": "v1", "kind": "Node",
                "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]],
                // Every node but the first starts cordoned, so the first wave lands on node-00.
                "spec": index == 0 ? [:] : ["unschedulable": true],
                "status": [
                    "allocatable": ["cpu": "64", "memory": "256Gi", "pods": "250", "carina.storage.io/carina-vg-hdd": "400", "carina.storage.io/carina-vg-ssd": "400"],
                    "conditions": [["type": "Ready", "status": "True"]],
                ],
            ])
        }
        try await SimScenario(objects: setup).translated(to: options.preset).load { type, namespace, object throws(KubeAPIError) in
            try await api.create(type, namespace: namespace, object: object)
        }
        _ = try await api.create(StatefulSet.resourceType, namespace: "scale", object: statefulSet("pinned", namespace: "scale", replicas: failing))
        _ = try await api.create(StatefulSet.resourceType, namespace: "legacy", object: statefulSet("legacy", namespace: "legacy", replicas: options.optedOut))
        try await waitForPods(store: store, timeline: timeline, label: "the pods on node-00")
        for name in names.dropFirst() {
            _ = try await store.patch(Node.resourceType, namespace: nil, name: name, patchType: .merge, patch: ["spec": ["unschedulable": .null]])
        }
        if options.pods > failing {
            _ = try await api.create(StatefulSet.resourceType, namespace: "scale", object: statefulSet("spread", namespace: "scale", replicas: options.pods - failing))
        }
        try await waitForPods(store: store, timeline: timeline, label: "all pods")
        return DemoPlan(narrated: [], nodeToFail: "node-00", scale: true)
    }

    static func statefulSet(_ name: String, namespace: String, replicas: Int) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "replicas": .int(replicas), "serviceName": .string(name), "podManagementPolicy": "Parallel",
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "db", "image": "mysql:8.0", "resources": ["requests": ["cpu": "100m", "memory": "256Mi"]]]]],
                ],
                "volumeClaimTemplates": [[
                    "metadata": ["name": "data"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "2Gi"]]],
                ]],
            ],
        ]
    }

    /// Waits until every StatefulSet has all its pods and every pod runs (bounded), reporting progress.
    static func waitForPods(store: SimStore, timeline: DemoTimeline, label: String) async throws {
        let running = await store.waitUntil([Pod.resourceType, StatefulSet.resourceType], timeout: .seconds(120)) {
            let pods = (try? await store.list(Pod.resourceType, namespace: nil).items) ?? []
            let sets = (try? await store.list(StatefulSet.resourceType, namespace: nil).items) ?? []
            var owned: [String: Int] = [:]
            for pod in pods {
                for owner in pod.value["metadata"]?["ownerReferences"]?.arrayValue ?? [] {
                    if let uid = owner["uid"]?.stringValue { owned[uid, default: 0] += 1 }
                }
            }
            // The StatefulSet controller creates pods a few at a time: all running so far is not enough.
            let complete = sets.allSatisfy { owned[$0.uid, default: 0] >= Int($0.value["spec"]?["replicas"]?.intValue ?? 1) }
            return complete && !pods.isEmpty && pods.allSatisfy { $0.value["status"]?["phase"] == "Running" }
        }
        guard running else { throw CLIError("\(label) did not all start within 120 s; the scenario may not be schedulable") }
        let count = try await store.list(Pod.resourceType, namespace: nil).items.count
        await timeline.record("\(label) are running (\(count) pods)")
    }

    // MARK: Playing it

    func play(store: SimStore, provisioner: LocalVolumeProvisioner, lifecycle: NodeLifecycle, timeline: DemoTimeline, timeout: Duration, notReadyTimeout: Int) async throws -> DemoReport {
        let pods = try await store.list(Pod.resourceType, namespace: nil).items
        let optedIn = pods.filter { $0.value["metadata"]?["annotations"]?["carina.storage.io/allow-pod-migration-if-node-notready"] == "true" }
        var perNode: [String: Int] = [:]
        for pod in optedIn { perNode[pod.value["spec"]?["nodeName"]?.stringValue ?? "", default: 0] += 1 }
        guard let victim = nodeToFail ?? perNode.filter({ !$0.key.isEmpty }).max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key else {
            throw CLIError("no opted-in pod runs anywhere; nothing for failover to do (is the namespace labelled?)")
        }
        let moving = optedIn.filter { $0.value["spec"]?["nodeName"]?.stringValue == victim }
        let stuck = pods.filter { $0.value["spec"]?["nodeName"]?.stringValue == victim && !moving.map(\.uid).contains($0.uid) }

        await timeline.record("stopping the kubelet on \(victim), which runs \(moving.count) opted-in pod(s)\(stuck.isEmpty ? "" : " and \(stuck.count) other pod(s)")")
        let stoppedAt = await timeline.now
        await lifecycle.fail(victim)

        // Success: each moved pod has a new incarnation Running on a healthy node.
        let recovered = await store.waitUntil([Pod.resourceType], timeout: timeout) {
            let current = Dictionary(uniqueKeysWithValues: ((try? await store.list(Pod.resourceType, namespace: nil).items) ?? []).map { ($0.key, $0) })
            return moving.allSatisfy { old in
                guard let pod = current[old.key], pod.uid != old.uid, pod.value["status"]?["phase"] == "Running" else { return false }
                let node = pod.value["spec"]?["nodeName"]?.stringValue ?? ""
                return !node.isEmpty && node != victim
            }
        }
        let endedAt = await timeline.now
        if recovered {
            let current = (try? await store.list(Pod.resourceType, namespace: nil).items) ?? []
            let moved = Set(moving.map(\.key))
            await timeline.waitForMarks(current.filter { moved.contains($0.key) }.map { "running \($0.uid)" })
        }
        let marks = await timeline.marks
        var report = try await DemoReport.build(
            store: store, provisioner: provisioner, victim: victim, moving: moving, stuck: stuck, recovered: recovered,
            stoppedAt: stoppedAt, endedAt: endedAt, marks: marks, timeline: await timeline.entries, scale: scale)
        // Rebound counts the node failed notReadyTimeout after its Ready condition changed.
        report.nodeNotReadyAt = marks["notready \(victim)"]
        report.countedFailedAt = report.nodeNotReadyAt.map { $0 + Double(notReadyTimeout) }
        report.reboundActedAt = marks["rebound acted"]
        return report
    }
}
