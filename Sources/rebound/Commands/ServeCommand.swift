import ArgumentParser
import Foundation
import Kube
import Logging
import Metrics
import Prometheus
import NIOCore
import Serving
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

    /// For the shutdown test only: on SIGTERM, block the serving event loops for this many seconds.
    @Option(name: .customLong("test-stall-on-shutdown"), help: .hidden)
    var stallOnShutdownSeconds: Int?

    func run() async throws {
        MemoryRelease.tuneAllocator(environment: ProcessInfo.processInfo.environment)
        let config = try options.resolve(extra: dryRun ? ["failover.dryRun=true"] : [])
        ReboundLogging.bootstrap(level: config.string("log.level"), format: config.string("log.format"))
        let logger = Logger(label: "rebound")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let runtime = try ReboundRuntime.build(config: config, registry: registry, logger: logger)
        logger.info("starting", metadata: ["server": "\(runtime.client.configuration.server)", "dryRun": "\(config.bool("failover.dryRun"))"])
        ShutdownWatchdog.arm(grace: .seconds(config.int("server.shutdownGraceSeconds")))
        var services = runtime.services
        if let stallOnShutdownSeconds { services.append(.init(service: StallOnShutdown(seconds: stallOnShutdownSeconds))) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            failure = error
        }
        await runtime.shutdown()
        logger.info("stopped")
        if failure != nil { throw ExitCode.failure }
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

/// Test hook (`--test-stall-on-shutdown`): a service that, on graceful shutdown, blocks every
/// serving event loop, as a request stuck in a parser once did, so the shutdown test can show
/// that the process still exits within `server.shutdownGraceSeconds`.
struct StallOnShutdown: Service {
    let seconds: Int

    func run() async throws {
        try? await gracefulShutdown()
        for _ in 0..<System.coreCount {
            ServingEventLoops.shared.next().execute { sleep(UInt32(seconds)) }
        }
        try await Task.sleep(for: .seconds(seconds))
    }
}
