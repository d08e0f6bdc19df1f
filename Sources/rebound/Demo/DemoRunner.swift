import ReboundConfig
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
    /// Install Rebound from these manifests (the repository's `deploy/`) instead of built-in settings.
    var deploy: String?
    /// The local CSI driver the cluster runs (`compat.preset`); the scenario is shaped for it.
    var preset = DriverPreset.carina
    /// Called with the cluster's kubeconfig once every pod runs (before the failure) and once the
    /// story has ended (tests look at the cluster then, as an operator would with `rebound status`).
    var checkpoint: (@Sendable (DemoCheckpoint, DemoAccess) async -> Void)?
}

/// How a ``DemoOptions/checkpoint`` reaches the demo's cluster and its Rebound.
struct DemoAccess: Sendable {
    /// The simulated cluster's kubeconfig.
    var kubeconfig: String
    /// Rebound's Prometheus endpoint.
    var metricsURL: String
}

/// Moments of the story a ``DemoOptions/checkpoint`` sees.
enum DemoCheckpoint: Sendable {
    case beforeFailure, afterRecovery
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
        let deployed = try options.deploy.map { try DemoDeployment.load(directory: $0) }
        var configFile: String?
        if let yaml = deployed?.configYAML {
            configFile = work + "/config.yaml"
            try yaml.write(toFile: work + "/config.yaml", atomically: true, encoding: .utf8)
        }
        let ports = try FreePort.take(3)
        // Addresses, ports, files and timings are the demo's own; everything else comes from the
        // configuration file when --deploy names one.
        var overrides = [
            "kube.kubeconfig=\(kubeconfigPath)", "kube.qps=200", "kube.burst=400",
            "webhook.address=127.0.0.1", "webhook.port=\(ports[0])", "webhook.tls.certFile=\(material.certificateFile)", "webhook.tls.keyFile=\(material.keyFile)",
            "webhook.tls.clientCAFile=",
            "extender.address=127.0.0.1", "extender.port=\(ports[1])", "extender.strategy=\(options.strategy)",
            "health.address=127.0.0.1", "health.port=\(ports[2])",
            "failover.notReadyTimeoutSeconds=\(options.notReadyTimeout)", "leaderElection.namespace=rebound-system",
            "leaderElection.leaseDurationSeconds=4", "leaderElection.renewDeadlineSeconds=3", "leaderElection.retryPeriodSeconds=1",
            "leaderElection.identity=rebound-demo-0", "compat.preset=\(options.preset.name)",
        ]
        if let deployed {
            overrides.append("webhook.path=\(deployed.webhookPath)")
            overrides += deployed.extenderUsesTLS
                ? ["extender.tls.certFile=\(material.certificateFile)", "extender.tls.keyFile=\(material.keyFile)"]
                : ["extender.tls.certFile=", "extender.tls.keyFile=", "extender.tls.clientCAFile=", "extender.tls.clientAllowedNames="]
            // The manifests' client CA (a file in the container) is the demo's CA.
            if deployed.extenderUsesTLS, !(try ConfigLoader.load(file: configFile, environment: [:], overrides: []).string("extender.tls.clientCAFile")).isEmpty {
                overrides.append("extender.tls.clientCAFile=\(material.caFile)")
            }
        }
        let config = try ConfigLoader.load(file: configFile, environment: [:], overrides: overrides)
        let deployment = deployed ?? .builtIn(nodeCacheCapable: options.nodeCacheCapable, routingResource: config.string("capacity.routingResource"))
        let registry = PrometheusCollectorRegistry()
        let runtime = try ReboundRuntime.build(config: config, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: runtime.services, logger: logger))
        let rebound = Task { try? await group.run() }
        await runtime.caches.waitUntilSynced()
        _ = try await store.create(MutatingWebhookResource.type, namespace: nil, object: deployment.webhookConfiguration(port: ports[0], caPEM: material.caPEM))
        await timeline.record("Rebound installed from \(deployment.source)")

        // The control plane's other loops.
        let scheduler = SimScheduler(
            api: api,
            configuration: deployment.schedulerConfiguration(
                extenderPort: ports[1], caPEM: material.caPEM, nodeCacheCapable: options.nodeCacheCapable,
                clientCertificate: (material.schedulerCertificatePEM, material.schedulerKeyPEM)),
            logger: Logger(label: "rebound.demo.scheduler"))
        let provisioner = LocalVolumeProvisioner(store: store, driver: options.preset)
        let controllers: [any SimController] = [
            StatefulSetController(api: api), PVCProtectionController(store: store), provisioner, NodeAgent(store: store), scheduler,
        ]
        var background = controllers.map { controller in Task { await controller.run(store: store) } }

        // The story, narrated from the start (a generated cluster is summarised, not narrated pod by pod).
        let observer = DemoObserver(store: store, timeline: timeline, scheduler: scheduler, verboseNamespaces: options.nodes == nil ? nil : [])
        background.append(Task { await observer.run() })
        await observer.waitUntilWatching()
        let plan = try await DemoPlan.load(options: options, api: api, store: store, timeline: timeline)
        let access = DemoAccess(kubeconfig: kubeconfigPath, metricsURL: "http://127.0.0.1:\(ports[2])/metrics")
        await options.checkpoint?(.beforeFailure, access)
        let lifecycle = await NodeLifecycle(store: store, heartbeatInterval: .milliseconds(250), gracePeriod: options.nodeGrace)
        background.append(Task { await lifecycle.run() })
        let report = try await plan.play(store: store, provisioner: provisioner, lifecycle: lifecycle, timeline: timeline, timeout: options.timeout, notReadyTimeout: options.notReadyTimeout)
        await options.checkpoint?(.afterRecovery, access)

        if options.keepRunning {
            say("")
            say("The cluster keeps running (Ctrl-C to stop). Look at it with:")
            say("  kubectl --kubeconfig \(kubeconfigPath) get pods -A")
            say("  rebound status --kubeconfig \(kubeconfigPath) \(Self.statusSettings(options).map { "--set \($0)" }.joined(separator: " "))")
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
}

extension DemoRunner {
    /// The demo's settings `rebound status` must share to judge its cluster as its Rebound does.
    static func statusSettings(_ options: DemoOptions) -> [String] {
        ["compat.preset=\(options.preset.name)", "failover.notReadyTimeoutSeconds=\(options.notReadyTimeout)", "leaderElection.namespace=rebound-system"]
    }
}

enum MutatingWebhookResource {
    static let type = ResourceType(group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration", plural: "mutatingwebhookconfigurations", namespaced: false)
}
