import ReboundConfig
import Capacity
import Extender
import Kube
import Logging
import Prometheus
import ServiceLifecycle

extension ExtenderSettings {
    /// The extender's settings from the `extender.*`, `capacity.*` and `compat.*` keys.
    init(config: ResolvedConfig) {
        self.init()
        address = config.string("extender.address")
        port = config.int("extender.port")
        filterPath = config.string("extender.filterPath")
        prioritizePath = config.string("extender.prioritizePath")
        bindPath = config.string("extender.bindPath")
        strategy = ScoringStrategy(rawValue: config.string("extender.strategy")) ?? .spreadout
        limits = config.listenerLimits(maxBodyBytes: config.int("extender.maxBodyBytes"), idleTimeoutSeconds: config.int("extender.idleTimeoutSeconds"))
        let certificate = config.string("extender.tls.certFile")
        let key = config.string("extender.tls.keyFile")
        if !certificate.isEmpty && !key.isEmpty {
            tlsCertificateFile = certificate
            tlsKeyFile = key
            let clientCA = config.string("extender.tls.clientCAFile")
            tlsClientCAFile = clientCA.isEmpty ? nil : clientCA
            tlsClientAllowedNames = config.list("extender.tls.clientAllowedNames")
        }
        reservationTTL = .seconds(config.int("capacity.reservationTTLSeconds"))
        if config.bool("extender.sharedLedger.enabled") {
            sharedLedger = SharedLedgerLocation(namespace: config.string("extender.sharedLedger.namespace"), name: config.string("extender.sharedLedger.name"))
        }

        keys = config.compatibilityKeys
    }
}

/// Builds the scheduler extender's server for `rebound serve` (none when `extender.enabled` is false).
enum ExtenderWiring {
    /// The extender's server, or nil when `extender.enabled` is false.
    static func server(
        config: ResolvedConfig, caches: ClusterCaches, client: KubeClient, registry: PrometheusCollectorRegistry, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ExtenderServer? {
        guard config.bool("extender.enabled") else { return nil }
        let extender = SchedulerExtender(settings: ExtenderSettings(config: config), caches: caches, client: client, logger: logger)
        return ExtenderServer(extender: extender, registry: registry, logger: logger, onListening: onListening)
    }
}
