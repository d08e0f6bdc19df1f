// Failover benchmark: N opted-in pods with local claims on one node that fails; how long from
// the node counting as failed to every pod force-deleted and every claim recreated.
//
//   swift run -c release failover-bench [pods] [--default-limits]
//
// ClusterSim serves the API on loopback in this process; the controller talks to it over HTTP
// with its own client, exactly as `rebound serve` would. Without --default-limits the client's
// QPS limit and the migration rate limit are lifted; with it they are the shipped defaults
// (kube.qps 50, burst 100; failover.migrationsPerSecond 10, burst 20).
import ClusterSim
import Failover
import Foundation
import Kube
import Logging
import Synchronization

let arguments = CommandLine.arguments.dropFirst()
let podCount = arguments.compactMap { Int($0) }.first ?? 1000
let defaultLimits = arguments.contains("--default-limits")

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}

let store = SimStore(logCapacity: 100_000)
let server = SimServer(api: SimAPI(store: store))
_ = try await server.start()
let url = await server.url

// The cluster: three nodes, an opted-in namespace, and every pod on node-2 with a bound local claim.
for name in ["node-1", "node-2", "node-3"] {
    _ = try await store.create(Node.resourceType, namespace: nil, object: [
        "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]],
        "status": ["allocatable": ["carina.storage.io/carina-vg-hdd": "100000"], "conditions": [["type": "Ready", "status": "True"]]],
    ])
}
_ = try await store.create(Namespace.resourceType, namespace: nil, object: ["metadata": ["name": "bench"]])
for index in 0..<podCount {
    let claim = "data-\(index)"
    let volume = "pv-\(index)"
    _ = try await store.create(PersistentVolume.resourceType, namespace: nil, object: [
        "metadata": ["name": .string(volume)],
        "spec": [
            "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "csi-carina-sc",
            "claimRef": ["namespace": "bench", "name": .string(claim)], "csi": ["driver": "carina.storage.io", "volumeHandle": .string(volume)],
            "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": ["node-2"]]]]]]],
        ],
    ])
    _ = try await store.create(PersistentVolumeClaim.resourceType, namespace: "bench", object: [
        "metadata": ["name": .string(claim)],
        "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": "csi-carina-sc", "volumeName": .string(volume), "resources": ["requests": ["storage": "1Gi"]]],
        "status": ["phase": "Bound"],
    ])
    _ = try await store.create(Pod.resourceType, namespace: "bench", object: [
        "metadata": ["name": .string("app-\(index)"), "annotations": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]],
        "spec": ["nodeName": "node-2", "containers": [["name": "c", "image": "mysql:8"]], "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string(claim)]]]],
        "status": ["phase": "Running"],
    ])
}

var clientConfiguration = KubeClientConfiguration(server: url)
var settings = FailoverSettings()
settings.notReadyTimeout = .seconds(30)
if defaultLimits {
    clientConfiguration.qps = 50
    clientConfiguration.burst = 100
} else {
    clientConfiguration.qps = 0
    settings.migrationsPerSecond = 0
    settings.workers = 64
}
let client = try KubeClient(clientConfiguration)
let caches = ClusterCaches(client: client)
let deleted = Atomic<Int>(0)
let recreated = Atomic<Int>(0)
let (done, finish) = AsyncStream<Void>.makeStream()
let controller = FailoverController(client: client, caches: caches, settings: settings, identity: "bench", observer: { action in
    switch action {
    case .deletePod: deleted.add(1, ordering: .relaxed)
    case .createClaim: recreated.add(1, ordering: .relaxed)
    default: return
    }
    if deleted.load(ordering: .relaxed) >= podCount && recreated.load(ordering: .relaxed) >= podCount { finish.finish() }
})
let cacheTask = Task { await caches.run() }
let controllerTask = Task { await controller.run() }
await caches.waitUntilSynced()

// The node is shut down and confirmed so (the out-of-service taint), so it counts as failed the
// moment the controller sees it (a NotReady node would first wait the timeout on this replica's
// clock): the clock starts at that write.
let started = ContinuousClock.now
_ = try await store.patch(Node.resourceType, namespace: nil, name: "node-2", patchType: .merge, patch: [
    "spec": ["taints": [["key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"]]],
])
_ = try await store.patch(Node.resourceType, namespace: nil, name: "node-2", patchType: .merge, patch: [
    "status": ["conditions": [["type": "Ready", "status": "False", "lastTransitionTime": .string(KubeTime.format(Date().addingTimeInterval(-60), micro: false))]]],
], subresource: "status")
for await _ in done {}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let remainingPods = try await store.list(Pod.resourceType, namespace: "bench").items.count
print(String(format: "%d pods, %@: %.2f s from node failed to all %d pods deleted and %d claims recreated (%.0f pods/s); pods left: %d",
             podCount, defaultLimits ? "default limits" : "limits lifted", seconds, deleted.load(ordering: .relaxed), recreated.load(ordering: .relaxed),
             Double(podCount) / seconds, remainingPods))
controllerTask.cancel()
cacheTask.cancel()
await controllerTask.value
await cacheTask.value
try await client.shutdown()
await server.stop()
