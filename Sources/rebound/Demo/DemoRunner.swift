import Capacity
import ClusterSim
import Foundation
import Kube
import Logging
import Prometheus
import ServiceLifecycle

/// What a demo run is asked to do.
struct DemoOptions: Sendable {
    /// A scenario file; nil: the seed story, or a generated cluster when `nodes` is set.
    var scenario: String?
    /// Generate a cluster: this many nodes…
    var nodes: Int?
    /// …and this many opted-in pods, of which `failing` are placed on the node that fails.
    var pods: Int = 200
    var failing: Int?
    /// Opted-out pods placed on the failing node (they stay stuck, as on Kubernetes).
    var optedOut: Int = 5
    var nodeGrace: Duration = .seconds(2)
    var notReadyTimeout: Int = 3
    var timeout: Duration = .seconds(180)
    var nodeCacheCapable = false
    var strategy = "spreadout"
    var live = true
    var keepRunning = false
    var kubeconfigOut: String?
}

/// Runs the whole failover story on ClusterSim with Rebound's real parts talking over their
/// real protocols: the API server calls the webhook over TLS on pod create, the scheduler calls
/// the extender in kube-scheduler's wire format, and the failover controller watches and writes
/// through the API like any client.
struct DemoRunner {
    let options: DemoOptions
    let logger: Logger

    func run() async throws -> DemoReport {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let timeline = DemoTimeline(live: options.live)

        // The cluster.
        let store = SimStore(logCapacity: 50_000)
        let admission = SimAdmission(logger: Logger(label: "rebound.demo.admission"))
        let api = SimAPI(store: store, admission: admission)
        let server = SimServer(api: api, bookmarkInterval: .seconds(2), logger: Logger(label: "rebound.demo.sim"))
        try await server.start()
        let kubeconfigPath = options.kubeconfigOut ?? work + "/kubeconfig"
        try await server.kubeconfig().write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        _ = try await store.create(Namespace.resourceType, namespace: nil, object: ["metadata": ["name": "rebound-system"]])

        // Rebound, configured as an operator would, against it.
        let material = try DemoCertificates.make(directory: work)
        let ports = try FreePort.take(3)
        let config = try ConfigLoader.load(file: nil, environment: [:], overrides: [
            "kube.kubeconfig=\(kubeconfigPath)", "kube.qps=200", "kube.burst=400",
            "webhook.address=127.0.0.1", "webhook.port=\(ports[0])", "webhook.tls.certFile=\(material.certificateFile)", "webhook.tls.keyFile=\(material.keyFile)",
            "extender.address=127.0.0.1", "extender.port=\(ports[1])", "extender.strategy=\(options.strategy)",
            "health.address=127.0.0.1", "health.port=\(ports[2])",
            "failover.notReadyTimeoutSeconds=\(options.notReadyTimeout)", "leaderElection.namespace=rebound-system",
            "leaderElection.leaseDurationSeconds=4", "leaderElection.renewDeadlineSeconds=3", "leaderElection.retryPeriodSeconds=1",
            "leaderElection.identity=rebound-demo-0",
        ])
        let registry = PrometheusCollectorRegistry()
        let runtime = try ReboundRuntime.build(config: config, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: runtime.services, logger: logger))
        let rebound = Task { try? await group.run() }
        await runtime.caches.waitUntilSynced()
        try await registerWebhook(store: store, port: ports[0], caPEM: material.caPEM, path: config.string("webhook.path"))

        // The control plane's other loops.
        let scheduler = SimScheduler(api: api, configuration: SchedulerConfiguration(extenders: [
            .init(urlPrefix: "http://127.0.0.1:\(ports[1])", filterVerb: "filter", prioritizeVerb: "prioritize", bindVerb: "bind", weight: 1,
                  nodeCacheCapable: options.nodeCacheCapable, managedResources: [.init(name: config.string("capacity.routingResource"), ignoredByScheduler: true)]),
        ]), logger: Logger(label: "rebound.demo.scheduler"))
        let controllers: [any SimController] = [
            StatefulSetController(api: api), PVCProtectionController(store: store), LocalVolumeProvisioner(store: store), NodeAgent(store: store), scheduler,
        ]
        var background = controllers.map { controller in Task { await controller.run(store: store) } }

        // The story, narrated from the start (a generated cluster is summarised, not narrated pod by pod).
        let observer = DemoObserver(store: store, timeline: timeline, scheduler: scheduler, verboseNamespaces: options.nodes == nil ? nil : [])
        background.append(Task { await observer.run() })
        await observer.waitUntilWatching()
        let plan = try await DemoPlan.load(options: options, api: api, store: store, timeline: timeline)
        let lifecycle = await NodeLifecycle(store: store, heartbeatInterval: .milliseconds(250), gracePeriod: options.nodeGrace)
        background.append(Task { await lifecycle.run() })
        let report = try await plan.play(store: store, lifecycle: lifecycle, timeline: timeline, timeout: options.timeout, notReadyTimeout: options.notReadyTimeout)

        if options.keepRunning {
            say("")
            say("The cluster keeps running. kubectl --kubeconfig \(kubeconfigPath) get pods -A   (Ctrl-C to stop)")
            let wait = ServiceGroup(configuration: ServiceGroupConfiguration(services: [WaitForShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try? await wait.run()
        }
        await group.triggerGracefulShutdown()
        await rebound.value
        for task in background { task.cancel() }
        for task in background { await task.value }
        await scheduler.shutdown()
        await admission.shutdown()
        await runtime.shutdown()
        await server.stop()
        return report
    }

    private func registerWebhook(store: SimStore, port: Int, caPEM: [UInt8], path: String) async throws {
        _ = try await store.create(MutatingWebhookResource.type, namespace: nil, object: [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": ["name": "rebound"],
            "webhooks": [[
                "name": "pods.rebound.io", "admissionReviewVersions": ["v1", "v1beta1"], "sideEffects": "None", "failurePolicy": "Ignore",
                "timeoutSeconds": 5, "reinvocationPolicy": "IfNeeded", "matchPolicy": "Equivalent",
                "clientConfig": ["url": .string("https://127.0.0.1:\(port)\(path)"), "caBundle": .string(Data(caPEM).base64EncodedString())],
                "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"]],
                "namespaceSelector": ["matchLabels": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]],
            ]],
        ])
    }
}

enum MutatingWebhookResource {
    static let type = ResourceType(group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration", plural: "mutatingwebhookconfigurations", namespaced: false)
}
