import Capacity
import ClusterSim
import Failover
import Foundation
import Kube
import Logging
import Synchronization
import TestSupport

/// Collects the writes a controller makes (or plans, in dry-run), and lets a test await them.
final class ActionLog: Sendable {
    private struct State {
        var actions: [MigrationAction] = []
        var waiters: [(ready: @Sendable ([MigrationAction]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var actions: [MigrationAction] { state.withLock { $0.actions } }

    func record(_ action: MigrationAction) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.actions.append(action)
            let actions = state.actions
            let ready = state.waiters.filter { $0.ready(actions) }.map(\.continuation)
            state.waiters.removeAll { $0.ready(actions) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once at least `count` actions were recorded, or false after `timeout`.
    func waitFor(count: Int, timeout: Duration = .seconds(20)) async -> Bool {
        await waitFor(timeout: timeout) { $0.count >= count }
    }

    /// Returns once the recorded actions satisfy `ready`, or false after `timeout`.
    func waitFor(timeout: Duration = .seconds(20), _ ready: @escaping @Sendable ([MigrationAction]) -> Bool) async -> Bool {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let expired = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                defer { state.waiters.removeAll() }
                return state.waiters.map(\.continuation)
            }
            for continuation in expired { continuation.resume() }
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let satisfied = state.withLock { state -> Bool in
                if ready(state.actions) { return true }
                state.waiters.append((ready, continuation))
                return false
            }
            if satisfied { continuation.resume() }
        }
        return ready(actions)
    }
}

/// Waits for a condition that no event announces (a controller's internal state), looking every
/// 20 ms; false if `timeout` passes first.
func poll(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// A ClusterSim with the controllers failover relies on (StatefulSet, pvc-protection, a local
/// volume provisioner, kubelets), plus helpers to build the seed story's cluster.
struct FailoverHarness {
    let sim: RunningSim
    let background: [Task<Void, Never>]

    var store: SimStore { sim.store }

    static func start() async throws -> FailoverHarness {
        let sim = try await RunningSim.start()
        let api = sim.server.api
        let controllers: [any SimController] = [
            StatefulSetController(api: api), PVCProtectionController(store: api.store), LocalVolumeProvisioner(store: api.store), NodeAgent(store: api.store),
        ]
        let tasks = controllers.map { controller in Task { await controller.run(store: api.store) } }
        let harness = FailoverHarness(sim: sim, background: tasks)
        try await harness.createStorageClass()
        return harness
    }

    func stop() async {
        for task in background { task.cancel() }
        for task in background { await task.value }
        await sim.stop()
    }

    // MARK: Building the cluster

    func createStorageClass() async throws {
        _ = try await store.create(StorageClass.resourceType, namespace: nil, object: [
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": "csi-carina-sc"], "provisioner": "carina.storage.io",
            "parameters": ["carina.storage.io/disk-type": "carina-vg-hdd"], "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
        ])
    }

    func addNode(_ name: String, ready: Bool = true) async throws {
        _ = try await store.create(Node.resourceType, namespace: nil, object: [
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]],
            "status": [
                "allocatable": ["cpu": "8", "memory": "16Gi", "carina.storage.io/carina-vg-hdd": "188"],
                "conditions": [["type": "Ready", "status": ready ? "True" : "False", "lastTransitionTime": .string(KubeTime.format(Date(), micro: false))]],
            ],
        ])
    }

    /// Sets the node's Ready condition, as the node lifecycle controller does.
    func setReady(_ name: String, _ status: String, since: Date = Date()) async throws {
        _ = try await store.patch(Node.resourceType, namespace: nil, name: name, patchType: .merge, patch: [
            "status": ["conditions": [["type": "Ready", "status": .string(status), "lastTransitionTime": .string(KubeTime.format(since, micro: false))]]],
        ], subresource: "status")
    }

    func addNamespace(_ name: String, optIn: Bool = true) async throws {
        var labels: JSONObject = [:]
        if optIn { labels["carina.storage.io/allow-pod-migration-if-node-notready"] = "true" }
        _ = try await store.create(Namespace.resourceType, namespace: nil, object: ["metadata": ["name": .string(name), "labels": .object(labels)]])
    }

    static func template(annotation: String?) -> JSONValue {
        var annotations: JSONObject = [:]
        if let annotation { annotations["carina.storage.io/allow-pod-migration-if-node-notready"] = .string(annotation) }
        return [
            "metadata": ["labels": ["app": "mysql"], "annotations": .object(annotations)],
            "spec": ["containers": [["name": "mysql", "image": "mysql:8"]]],
        ]
    }

    /// A StatefulSet with one `data` claim template on the local StorageClass.
    func addStatefulSet(_ namespace: String, _ name: String, replicas: Int = 1, annotation: String? = "true") async throws {
        _ = try await store.create(StatefulSet.resourceType, namespace: namespace, object: [
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "replicas": .int(replicas), "serviceName": .string(name), "podManagementPolicy": "Parallel",
                "selector": ["matchLabels": ["app": "mysql"]], "template": Self.template(annotation: annotation),
                "volumeClaimTemplates": [[
                    "metadata": ["name": "data"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "1Gi"]]],
                ]],
            ],
        ])
    }

    /// A bare pod (no owner) with its own claim on the local StorageClass.
    func addStandalonePod(_ namespace: String, _ name: String, annotation: String? = "true") async throws {
        _ = try await store.create(PersistentVolumeClaim.resourceType, namespace: namespace, object: [
            "metadata": ["name": .string("data-\(name)"), "labels": ["app": .string(name)], "annotations": ["example.com/keep": "yes"]],
            "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "resources": ["requests": ["storage": "2Gi"]]],
        ])
        var pod = Self.template(annotation: annotation)
        pod["metadata"]?["name"] = .string(name)
        pod["spec"]?["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": .string("data-\(name)")]]]
        _ = try await store.create(Pod.resourceType, namespace: namespace, object: pod)
    }

    /// Binds every pending pod to `node` (the scheduler's job, which these tests take over).
    func schedulePending(to node: String) async throws {
        for pod in try await store.list(Pod.resourceType, namespace: nil).items where (pod.value["spec"]?["nodeName"]?.stringValue ?? "").isEmpty && !pod.isDeleting {
            _ = try await store.patch(Pod.resourceType, namespace: pod.namespace, name: pod.name, patchType: .merge, patch: ["spec": ["nodeName": .string(node)]])
        }
    }

    func pod(_ namespace: String, _ name: String) async -> StoredObject? { try? await store.get(Pod.resourceType, namespace: namespace, name: name) }
    func claim(_ namespace: String, _ name: String) async -> StoredObject? { try? await store.get(PersistentVolumeClaim.resourceType, namespace: namespace, name: name) }
    func volume(_ name: String) async -> StoredObject? { try? await store.get(PersistentVolume.resourceType, namespace: nil, name: name) }

    /// Waits until every listed pod runs with its claims bound.
    func waitRunning(_ keys: [(String, String)], timeout: Duration = .seconds(20)) async -> Bool {
        await store.waitUntil(timeout: timeout) {
            for (namespace, name) in keys {
                guard let pod = await pod(namespace, name), pod.value["status"]?["phase"] == "Running" else { return false }
            }
            return true
        }
    }

    // MARK: Controllers under test

    static func settings(timeout: Duration = .seconds(1)) -> FailoverSettings {
        var settings = FailoverSettings()
        settings.notReadyTimeout = timeout
        settings.migrationsPerSecond = 0
        settings.claimDeletionTimeout = .seconds(10)
        return settings
    }

    /// Starts caches and a controller over a client of its own; returns what to stop.
    func startController(settings: FailoverSettings, identity: String = "test", log: ActionLog = ActionLog()) async throws -> RunningController {
        let client = try sim.client()
        var logger = Logger(label: "test.failover.\(identity)")
        logger.logLevel = .warning
        let caches = ClusterCaches(client: client, logger: logger)
        let controller = FailoverController(client: client, caches: caches, settings: settings, identity: identity, logger: logger, observer: { log.record($0) })
        let cacheTask = Task { await caches.run() }
        let controllerTask = Task { await controller.run() }
        await caches.waitUntilSynced()
        return RunningController(controller: controller, client: client, log: log, tasks: [controllerTask, cacheTask])
    }
}

struct RunningController {
    let controller: FailoverController
    let client: KubeClient
    let log: ActionLog
    let tasks: [Task<Void, Never>]

    func stop() async {
        for task in tasks {
            task.cancel()
            await task.value
        }
        try? await client.shutdown()
    }
}

extension StoredObject {
    /// A claim's bound volume, nil when unbound.
    var boundVolume: String? {
        guard let name = value["spec"]?["volumeName"]?.stringValue, !name.isEmpty else { return nil }
        return name
    }
}

extension FailoverHarness {
    /// Taints a node as an operator or a fencing agent would.
    func taint(_ node: String, key: String, value: String, effect: String = "NoExecute") async throws {
        _ = try await store.patch(Node.resourceType, namespace: nil, name: node, patchType: .merge, patch: [
            "spec": ["taints": [["key": .string(key), "value": .string(value), "effect": .string(effect)]]],
        ])
    }

    /// The reasons of the Events recorded in `namespace`.
    func eventReasons(_ namespace: String) async -> Set<String> {
        let events = (try? await store.list(Event.resourceType, namespace: namespace).items) ?? []
        return Set(events.compactMap { $0.value["reason"]?.stringValue })
    }

    /// Waits until an Event with `reason` is recorded in `namespace`.
    func waitForEvent(_ namespace: String, _ reason: String, timeout: Duration = .seconds(20)) async -> Bool {
        await store.waitUntil([Event.resourceType], timeout: timeout) { await eventReasons(namespace).contains(reason) }
    }

    /// A bound PersistentVolume and claim of a CSI driver, with the given node affinity, used by a
    /// pod (opted in) that is created but not scheduled.
    func addPodWithVolume(
        _ namespace: String, pod name: String, claim: String, volume: String, driver: String, affinity: [JSONValue]
    ) async throws {
        var spec: JSONObject = [
            "capacity": ["storage": "10Gi"], "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete",
            "csi": ["driver": .string(driver), "volumeHandle": .string(volume)], "claimRef": ["namespace": .string(namespace), "name": .string(claim)],
        ]
        if !affinity.isEmpty { spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": .array(affinity)]] }
        _ = try await store.create(PersistentVolume.resourceType, namespace: nil, object: [
            "metadata": ["name": .string(volume)], "spec": .object(spec), "status": ["phase": "Bound"],
        ])
        _ = try await store.create(PersistentVolumeClaim.resourceType, namespace: namespace, object: [
            "metadata": ["name": .string(claim)],
            "spec": ["accessModes": ["ReadWriteOnce"], "volumeName": .string(volume), "resources": ["requests": ["storage": "10Gi"]]],
        ])
        var pod = Self.template(annotation: "true")
        pod["metadata"]?["name"] = .string(name)
        pod["spec"]?["volumes"] = [["name": "data", "persistentVolumeClaim": ["claimName": .string(claim)]]]
        _ = try await store.create(Pod.resourceType, namespace: namespace, object: pod)
    }

    /// A node-affinity term selecting nodes by hostname.
    static func hostnames(_ names: String...) -> JSONValue {
        ["matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": .array(names.map { .string($0) })]]]
    }

    /// Starts caches and a controller whose writes are gated by `mayAct`, over `client`.
    static func controller(
        client: KubeClient, settings: FailoverSettings, identity: String, log: ActionLog, mayAct: @escaping @Sendable () -> Bool = { true }
    ) -> @Sendable () async -> Void {
        {
            var logger = Logger(label: "test.failover.\(identity)")
            logger.logLevel = .warning
            let caches = ClusterCaches(client: client, logger: logger)
            let cacheTask = Task { await caches.run() }
            let controller = FailoverController(
                client: client, caches: caches, settings: settings, identity: identity, logger: logger, mayAct: mayAct, observer: { log.record($0) })
            await controller.run()
            cacheTask.cancel()
            await cacheTask.value
        }
    }
}

extension FailoverHarness {
    /// A leader elector on the `default/rebound-failover` Lease, over a client of its own whose
    /// User-Agent names the identity (so faults can target one replica).
    func elector(
        _ identity: String, leaseDuration: Duration = .seconds(3), renewDeadline: Duration = .seconds(2), retryPeriod: Duration = .milliseconds(200)
    ) throws -> (LeaderElector, KubeClient) {
        let client = try sim.client { $0.userAgent = "rebound/\(identity)" }
        var settings = LeaderElector.Settings(namespace: "default", name: "rebound-failover", identity: identity)
        settings.leaseDuration = leaseDuration
        settings.renewDeadline = renewDeadline
        settings.retryPeriod = retryPeriod
        var logger = Logger(label: "test.leader.\(identity)")
        logger.logLevel = .critical
        return (LeaderElector(client: client, settings: settings, logger: logger), client)
    }
}

extension FailoverHarness {
    struct NotRunning: Error, CustomStringConvertible {
        var description: String
    }

    /// A harness with nodes `node-1` … `node-<nodes>`, the opted-in namespace `namespace`, and
    /// standalone opted-in pods (each with its local claim) scheduled, in order, to the nodes given
    /// and running.
    static func start(nodes: Int, namespace: String = "apps", pods: [(name: String, node: String)]) async throws -> FailoverHarness {
        let harness = try await start()
        for index in 1...nodes { try await harness.addNode("node-\(index)") }
        try await harness.addNamespace(namespace)
        for pod in pods {
            try await harness.addStandalonePod(namespace, pod.name)
            try await harness.schedulePending(to: pod.node)
        }
        guard await harness.waitRunning(pods.map { (namespace, $0.name) }) else {
            await harness.stop()
            throw NotRunning(description: "the pods \(pods.map(\.name)) did not all start")
        }
        return harness
    }
}
