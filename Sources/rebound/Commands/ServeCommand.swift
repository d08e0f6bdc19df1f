import ArgumentParser
import Foundation
import Kube
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `rebound serve`: runs the webhook, the extender and the failover controller against a cluster.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Rebound's parts against a cluster (in-cluster configuration by default).",
        discussion: """
            Reads the configuration (defaults, then --config, then REBOUND_* variables, then --set), \
            connects to the API server, fills its caches and serves /healthz, /readyz and /metrics on \
            health.port. Stops cleanly on SIGTERM or SIGINT.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(name: .customLong("dry-run"), help: "Failover logs every action it would take and writes nothing (same as --set failover.dryRun=true).")
    var dryRun = false

    func run() async throws {
        let config = try options.resolve(extra: dryRun ? ["failover.dryRun=true"] : [])
        ReboundLogging.bootstrap(level: config.string("log.level"), format: config.string("log.format"))
        let logger = Logger(label: "rebound")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var clientConfiguration: KubeClientConfiguration
        do {
            clientConfiguration = try KubeClientConfiguration.resolve(
                kubeconfig: config.string("kube.kubeconfig"), context: config.string("kube.context").isEmpty ? nil : config.string("kube.context"))
        } catch {
            throw CLIError("\(error)")
        }
        clientConfiguration.qps = config.double("kube.qps")
        clientConfiguration.burst = config.int("kube.burst")
        clientConfiguration.requestTimeout = .seconds(config.int("kube.requestTimeoutSeconds"))
        let client = try KubeClient(clientConfiguration, logger: logger)
        let caches = ClusterCaches(client: client, pageSize: config.int("kube.pageSize"), logger: logger)
        logger.info("starting", metadata: ["server": "\(clientConfiguration.server)", "dryRun": "\(config.bool("failover.dryRun"))"])

        let health = HealthServer(
            address: config.string("health.address"), port: config.int("health.port"), registry: registry,
            ready: { await caches.hasSynced }, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: CacheService(caches: caches, logger: logger)),
                .init(service: WebhookService(config: config, caches: caches, client: client, logger: logger)),
                .init(service: health.application()),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
        }
        try? await client.shutdown()
        logger.info("stopped")
    }
}

/// Runs the caches until shutdown, logging how long the first sync took.
struct CacheService: Service {
    let caches: ClusterCaches
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        let runner = Task { await caches.run() }
        let syncLogger = Task {
            await caches.waitUntilSynced()
            let nodes = await caches.nodes.count
            let pods = await caches.pods.count
            logger.info("caches synced", metadata: ["took": "\(ContinuousClock.now - started)", "nodes": "\(nodes)", "pods": "\(pods)"])
        }
        try? await gracefulShutdown()
        runner.cancel()
        syncLogger.cancel()
        await runner.value
    }
}
