import ArgumentParser
import Capacity
import Foundation
import Logging

/// `rebound demo`: the whole failover story on a simulated cluster, in one process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play a node failure end to end on a simulated cluster, with Rebound's real parts over their real protocols.",
        discussion: """
            Starts ClusterSim (an in-memory API server with a scheduler, a StatefulSet controller, a \
            local-volume provisioner, kubelets and the node lifecycle controller) and Rebound's webhook, \
            extender and failover controller against it. The API server calls the webhook over TLS on \
            pod create; the scheduler calls the extender in kube-scheduler's wire format. Then it stops \
            the kubelet of the node that runs the opted-in pods and narrates what happens, until every \
            one of them runs again on a healthy node. Exits non-zero if the story does not complete.

            By default it plays the seed story (examples/seed-story.yaml): a MySQL StatefulSet on local \
            LVM volumes. --nodes/--pods generate a larger cluster instead, with a quarter of the pods \
            (and a few opted-out ones) on the node that fails.
            """
    )

    @Option(help: ArgumentHelp("A scenario file (multi-document YAML of ordinary objects) to play instead of the seed story.", valueName: "file"))
    var scenario: String?

    @Option(help: "Generate a cluster of this many nodes instead of a scenario.")
    var nodes: Int?

    @Option(help: "With --nodes: opted-in pods in the cluster.")
    var pods = 200

    @Option(help: "With --nodes: how many of them run on the node that fails (default: a quarter).")
    var failing: Int?

    @Option(name: .customLong("opted-out"), help: "With --nodes: pods that did not opt in, on the node that fails (they stay, as on Kubernetes).")
    var optedOut = 5

    @Option(name: .customLong("not-ready-timeout"), help: "Seconds a node stays NotReady before Rebound counts it failed (failover.notReadyTimeoutSeconds).")
    var notReadyTimeout = 3

    @Option(name: .customLong("node-grace"), help: "Seconds without kubelet heartbeats before the node is marked NotReady (kube-controller-manager's node-monitor-grace-period).")
    var nodeGrace = 2

    @Option(help: "Give up after this many seconds.")
    var timeout = 180

    @Option(help: "spreadout or binpack (extender.strategy).")
    var strategy = "spreadout"

    @Option(help: ArgumentHelp("The local CSI driver the simulated cluster runs: \(DriverPreset.all.map(\.name).joined(separator: ", ")). The scenario's Carina objects are shaped as that driver's (StorageClasses, node topology labels, capacity annotations or CSIStorageCapacity objects, volumes), and Rebound runs with compat.preset set to it.", valueName: "driver"))
    var preset = DriverPreset.carina.name

    @Flag(name: .customLong("node-cache"), help: "The scheduler sends NodeNames (nodeCacheCapable: true) instead of full Node objects.")
    var nodeCache = false

    @Flag(help: "Print one JSON report instead of the narrated timeline.")
    var json = false

    @Flag(name: .customLong("keep-running"), help: "Leave the simulated API server up afterwards, for kubectl.")
    var keepRunning = false

    @Option(name: .customLong("kubeconfig-out"), help: ArgumentHelp("Write the simulated cluster's kubeconfig here (with --keep-running).", valueName: "file"))
    var kubeconfigOut: String?

    @Option(help: ArgumentHelp(
        "Install Rebound from these manifests (the repository's deploy/): its MutatingWebhookConfiguration, the scheduler's extender entry (HTTPS, NodeNames) and the ConfigMap's config.yaml; Service names become 127.0.0.1 and the CA is the demo's.",
        valueName: "dir"))
    var deploy: String?

    @Option(name: .customLong("log-level"), help: "Log level of the parts (the narration is separate).")
    var logLevel = "error"

    func validate() throws {
        if let nodes, nodes < 2 { throw ValidationError("--nodes must be at least 2") }
        if scenario != nil && nodes != nil { throw ValidationError("give --scenario or --nodes, not both") }
        guard pods >= 1, optedOut >= 0, notReadyTimeout >= 0, nodeGrace >= 1, timeout >= 10 else {
            throw ValidationError("--pods ≥ 1, --opted-out ≥ 0, --not-ready-timeout ≥ 0, --node-grace ≥ 1 and --timeout ≥ 10")
        }
        if let failing, failing < 1 || failing > pods { throw ValidationError("--failing must be from 1 to --pods") }
        guard ["spreadout", "binpack"].contains(strategy) else { throw ValidationError("--strategy must be spreadout or binpack") }
        guard DriverPreset.named(preset) != nil else {
            throw ValidationError("--preset must be one of \(DriverPreset.all.map(\.name).joined(separator: ", ")), not \(preset)")
        }
    }

    func run() async throws {
        ReboundLogging.bootstrap(level: logLevel, format: "text")
        var options = DemoOptions()
        options.scenario = scenario
        options.nodes = nodes
        options.pods = pods
        options.failing = failing
        options.optedOut = optedOut
        options.notReadyTimeout = notReadyTimeout
        options.nodeGrace = .seconds(nodeGrace)
        options.timeout = .seconds(timeout)
        options.nodeCacheCapable = nodeCache
        options.strategy = strategy
        options.live = !json
        options.keepRunning = keepRunning
        options.kubeconfigOut = kubeconfigOut
        options.deploy = deploy
        options.preset = DriverPreset.named(preset) ?? .carina
        if !json {
            let driver = options.preset == .carina ? "" : " on \(options.preset.name)"
            say("Rebound demo: \(nodes.map { "a generated cluster of \($0) nodes" } ?? scenario ?? "the seed story")\(driver)")
        }
        let report = try await DemoRunner(options: options, logger: Logger(label: "rebound.demo")).run()
        if json {
            say(report.json.jsonString)
        } else {
            report.printText()
        }
        if !report.success { throw ExitCode(1) }
    }
}
