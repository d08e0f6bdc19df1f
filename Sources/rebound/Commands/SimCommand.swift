import ArgumentParser
import Capacity
import ClusterSim
import Foundation
import Kube
import Logging
import ServiceLifecycle

/// `rebound sim`: an in-memory Kubernetes API server, loaded from a scenario, for kubectl and tests.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run ClusterSim, an in-memory Kubernetes API server, and write a kubeconfig for it.",
        discussion: """
            The scenario is a multi-document YAML file of ordinary Kubernetes objects, as `kubectl apply -f` \
            takes. Their `status` is kept as written, so a scenario can hold Nodes with capacity and \
            conditions, Bound claims and Running pods. `kubectl --kubeconfig FILE` then works against it \
            (get, create -f, label, annotate, delete, --watch). Stop it with Ctrl-C.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 6443

    @Option(help: ArgumentHelp("Multi-document YAML of objects to load at start.", valueName: "file"))
    var scenario: String?

    @Option(name: .customLong("kubeconfig-out"), help: ArgumentHelp("Where to write a kubeconfig that points at the server.", valueName: "file"))
    var kubeconfigOut = "rebound-sim.kubeconfig"

    @Option(help: ArgumentHelp("Require this bearer token (kubectl sends tokens only over HTTPS: use with --tls).", valueName: "token"))
    var token: String?

    @Flag(help: "Serve HTTPS with the certificate and key given by --tls-cert and --tls-key.")
    var tls = false

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serving certificate (PEM) for --tls.", valueName: "file"))
    var tlsCert = "certs/tls.crt"

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Serving key (PEM) for --tls.", valueName: "file"))
    var tlsKey = "certs/tls.key"

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA to put in the kubeconfig for --tls.", valueName: "file"))
    var tlsCA = "certs/ca.crt"

    @Option(name: .customLong("synthetic-nodes"), help: "Also create this many realistic worker nodes (node-0, …), for scale tests.")
    var syntheticNodes = 0

    @Option(name: .customLong("synthetic-pods"), help: "Also create this many realistic running pods spread over the synthetic nodes.")
    var syntheticPods = 0

    @Option(name: .customLong("synthetic-storage-classes"), help: "With --synthetic-nodes: also this many OpenEBS LVM LocalPV StorageClasses, each with a CSIStorageCapacity object per node (capacity.source csistoragecapacity).")
    var syntheticStorageClasses = 0

    @Option(help: ArgumentHelp("The local CSI driver the cluster runs: \(DriverPreset.all.map(\.name).joined(separator: ", ")). The scenario's Carina objects are reshaped as that driver's (StorageClasses, topology labels, capacity annotations or CSIStorageCapacity objects), and with --controllers the provisioner plays it.", valueName: "driver"))
    var preset = DriverPreset.carina.name

    @Flag(help: "Also run the control loops: a scheduler, the StatefulSet controller, pvc-protection, a local-volume provisioner, kubelets and the node lifecycle controller.")
    var controllers = false

    @Option(name: .customLong("scheduler-config"), help: ArgumentHelp("With --controllers: a KubeSchedulerConfiguration whose extenders the scheduler calls.", valueName: "file"))
    var schedulerConfig: String?

    @Option(name: .customLong("service-endpoint"), help: ArgumentHelp("Where an admission webhook's service reference points, e.g. rebound-system/rebound=127.0.0.1:8443 (repeatable).", valueName: "ns/name=host:port"))
    var serviceEndpoints: [String] = []

    @Option(name: .customLong("capacity-report-delay"), help: ArgumentHelp("With --controllers: seconds the local-volume provisioner waits before a node reports the space it provisioned or freed (as a driver's node agent lags); it still never provisions beyond the true free space.", valueName: "seconds"))
    var capacityReportDelay = 0.0

    @Option(name: .customLong("node-grace"), help: "With --controllers: seconds without kubelet heartbeats before a node is NotReady.")
    var nodeGrace = 40

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard syntheticNodes >= 0, syntheticPods >= 0, syntheticStorageClasses >= 0 else {
            throw ValidationError("--synthetic-nodes, --synthetic-pods and --synthetic-storage-classes cannot be negative")
        }
        if token != nil && !tls { throw ValidationError("--token needs --tls: kubectl never sends a token over plain HTTP") }
        if schedulerConfig != nil && !controllers { throw ValidationError("--scheduler-config needs --controllers") }
        for endpoint in serviceEndpoints where endpoint.split(separator: "=").count != 2 || !endpoint.contains("/") {
            throw ValidationError("--service-endpoint \(endpoint): write it as namespace/name=host:port")
        }
        guard capacityReportDelay >= 0, capacityReportDelay <= 3600 else { throw ValidationError("--capacity-report-delay must be from 0 to 3600 seconds") }
        if capacityReportDelay > 0 && !controllers { throw ValidationError("--capacity-report-delay needs --controllers") }
        guard nodeGrace >= 1 else { throw ValidationError("--node-grace must be at least 1") }
        guard DriverPreset.named(preset) != nil else {
            throw ValidationError("--preset must be one of \(DriverPreset.all.map(\.name).joined(separator: ", ")), not \(preset)")
        }
    }

    func run() async throws {
        ReboundLogging.bootstrap(level: logLevel, format: "text")
        let logger = Logger(label: "rebound.sim")
        let store = SimStore()
        let driver = DriverPreset.named(preset) ?? .carina
        if let scenario {
            guard let data = FileManager.default.contents(atPath: scenario) else { throw CLIError("cannot read the scenario \(scenario)") }
            let started = ContinuousClock.now
            let objects = try await SimScenario(yaml: String(decoding: data, as: UTF8.self)).translated(to: driver).load(into: store)
            logger.info("scenario loaded", metadata: ["file": "\(scenario)", "objects": "\(objects.count)", "took": "\(ContinuousClock.now - started)"])
        }
        if syntheticNodes > 0 || syntheticPods > 0 || syntheticStorageClasses > 0 {
            let started = ContinuousClock.now
            let count = try await SyntheticCluster(nodes: syntheticNodes, pods: syntheticPods, storageClasses: syntheticStorageClasses).load(into: store)
            logger.info("synthetic objects created", metadata: ["objects": "\(count)", "took": "\(ContinuousClock.now - started)"])
        }
        var serverTLS: SimServer.TLS?
        var caPEM: [UInt8]?
        if tls {
            guard let certificate = FileManager.default.contents(atPath: tlsCert), let key = FileManager.default.contents(atPath: tlsKey) else {
                throw CLIError("cannot read --tls-cert \(tlsCert) or --tls-key \(tlsKey)")
            }
            serverTLS = SimServer.TLS(certificateChainPEM: Array(certificate), privateKeyPEM: Array(key))
            caPEM = FileManager.default.contents(atPath: tlsCA).map(Array.init)
        }
        let admission = SimAdmission(logger: logger)
        for endpoint in serviceEndpoints {
            let parts = endpoint.split(separator: "=", maxSplits: 1).map(String.init)
            admission.setServiceEndpoint(parts[0], parts[1])
        }
        let api = SimAPI(store: store, auth: SimAuth(tokens: token.map { [$0] }), admission: admission)
        let server = SimServer(api: api, host: host, port: port, tls: serverTLS, logger: logger)
        let bound = try await server.start()
        var loops: [Task<Void, Never>] = []
        var scheduler: SimScheduler?
        if controllers {
            var configuration = SchedulerConfiguration()
            if let schedulerConfig {
                guard let data = FileManager.default.contents(atPath: schedulerConfig) else { throw CLIError("cannot read the scheduler configuration \(schedulerConfig)") }
                configuration = try SchedulerConfiguration(yaml: String(decoding: data, as: UTF8.self))
            }
            let simScheduler = SimScheduler(api: api, configuration: configuration, logger: logger)
            scheduler = simScheduler
            let running: [any SimController] = [
                StatefulSetController(api: api), PVCProtectionController(store: store),
                LocalVolumeProvisioner(store: store, driver: driver, reportDelay: .milliseconds(Int64(capacityReportDelay * 1000))), NodeAgent(store: store), simScheduler,
            ]
            loops = running.map { controller in Task { await controller.run(store: store) } }
            let lifecycle = await NodeLifecycle(store: store, heartbeatInterval: .seconds(max(1, nodeGrace / 4)), gracePeriod: .seconds(nodeGrace))
            loops.append(Task { await lifecycle.run() })
            logger.info("control loops running", metadata: ["extenders": "\(configuration.extenders.count)"])
        }
        let kubeconfig = await server.kubeconfig(token: token, caPEM: caPEM)
        try kubeconfig.write(toFile: kubeconfigOut, atomically: true, encoding: .utf8)
        let url = await server.url
        logger.info("ClusterSim is serving", metadata: ["url": "\(url)", "port": "\(bound)", "kubeconfig": "\(kubeconfigOut)"])
        say("ClusterSim API server: \(url)")
        say("kubeconfig: \(kubeconfigOut)   (kubectl --kubeconfig \(kubeconfigOut) get nodes)")
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [WaitForShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
        await scheduler?.shutdown()
        await admission.shutdown()
        await server.stop()
        logger.info("ClusterSim stopped")
    }
}

/// A service that does nothing until the process is asked to stop.
struct WaitForShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
