import ReboundConfig
import Kube
import Logging
import Prometheus
import ServiceLifecycle

/// Everything `rebound serve` runs, built from one configuration: the API client and caches, the
/// health listener, and each enabled part. `rebound demo` builds the same against ClusterSim.
struct ReboundRuntime {
    let client: KubeClient
    let caches: ClusterCaches
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    private let extraClients: [KubeClient]

    static func build(config: ResolvedConfig, registry: PrometheusCollectorRegistry, logger: Logger) throws -> ReboundRuntime {
        let clientConfiguration = try makeClientConfiguration(config)
        let client = try KubeClient(clientConfiguration, logger: logger)
        let caches = ClusterCaches(client: client, pageSize: config.int("kube.pageSize"), storageCapacities: config.compatibilityKeys.capacityFromStorageCapacity, logger: logger)
        var checks = [PartCheck(name: "caches", gatesReadiness: true) { await caches.hasSynced ? nil : "not synced yet" }]
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: CacheService(caches: caches, logger: logger)),
            .init(service: PermissionWarnings(client: client, checks: RequiredPermissions.checks(config: config), logger: logger)),
        ]
        var extraClients: [KubeClient] = []
        if config.bool("failover.enabled") {
            var eventConfiguration = clientConfiguration
            eventConfiguration.qps = config.double("kube.eventQPS")
            eventConfiguration.burst = config.int("kube.eventBurst")
            let eventClient = try KubeClient(eventConfiguration, logger: logger)
            extraClients.append(eventClient)
            // The lease gets a client of its own: its own connections and rate limit (a renewal
            // every retry period needs no more), so no burst of webhook, extender or failover
            // requests can delay a renewal.
            var leaseClient: KubeClient?
            if config.bool("leaderElection.enabled") {
                var leaseConfiguration = clientConfiguration
                leaseConfiguration.qps = 0
                leaseConfiguration.userAgent = "\(clientConfiguration.userAgent) leader-election"
                let client = try KubeClient(leaseConfiguration, logger: logger)
                extraClients.append(client)
                leaseClient = client
            }
            let failoverProblem = ProblemBox()
            checks.append(PartCheck(name: "failover", gatesReadiness: false) { failoverProblem.current })
            services.append(.init(service: FailoverService(
                client: client, eventClient: eventClient, leaseClient: leaseClient, caches: caches, settings: config.failoverSettings,
                election: leaseClient != nil ? config.leaderSettings : nil, problem: failoverProblem, logger: Logger(label: "rebound.failover"))))
        }
        // With webhook.enabled=false the service only waits for shutdown.
        services.append(.init(service: WebhookService(config: config, caches: caches, client: client, logger: logger)))
        if let extender = ExtenderWiring.server(config: config, caches: caches, client: client, registry: registry, logger: logger) {
            let wired = extender.extender
            checks.append(PartCheck(name: "extender", gatesReadiness: true) { await wired.readinessProblem })
            services.append(.init(service: extender))
        }
        services.insert(.init(service: HealthEndpoint.listener(config: config, registry: registry, checks: checks, logger: logger)), at: 1)
        return ReboundRuntime(client: client, caches: caches, services: services, extraClients: extraClients)
    }

    /// Closes the API connections (after the services stopped).
    func shutdown() async {
        for extra in extraClients { try? await extra.shutdown() }
        try? await client.shutdown()
    }
}
