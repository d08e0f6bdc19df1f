import ReboundConfig
import Kube
import Logging
import ServiceLifecycle
import Webhook

/// The admission webhook as one of `rebound serve`'s services, configured from `webhook.*`,
/// answering from the shared caches. With `webhook.enabled=false` it only waits for shutdown.
struct WebhookService: Service {
    let server: WebhookServer?
    let lookups: CacheLookups

    init(config: ResolvedConfig, caches: ClusterCaches, client: KubeClient, logger: Logger) {
        lookups = CacheLookups(caches: caches, client: client)
        guard config.bool("webhook.enabled") else {
            server = nil
            return
        }
        var configuration = WebhookServer.Configuration(
            certificateFile: config.string("webhook.tls.certFile"), keyFile: config.string("webhook.tls.keyFile"))
        configuration.host = config.string("webhook.address")
        configuration.port = config.int("webhook.port")
        configuration.path = config.string("webhook.path")
        configuration.limits = config.listenerLimits(maxBodyBytes: config.int("webhook.maxBodyBytes"), idleTimeoutSeconds: config.int("webhook.idleTimeoutSeconds"))
        let clientCA = config.string("webhook.tls.clientCAFile")
        configuration.clientCAFile = clientCA.isEmpty ? nil : clientCA
        configuration.allowedClientNames = config.list("webhook.tls.clientAllowedNames")
        var webhookLogger = logger
        webhookLogger[metadataKey: "part"] = "webhook"
        let handler = AdmissionHandler(lookups: lookups, keys: config.compatibilityKeys, logger: webhookLogger)
        server = WebhookServer(configuration: configuration, handler: handler, logger: webhookLogger)
    }

    func run() async throws {
        guard let server else {
            try? await gracefulShutdown()
            return
        }
        // The lookups' index follows the caches for as long as the server serves.
        let lookups = self.lookups
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await lookups.run() }
            try await server.run()
            group.cancelAll()
        }
    }
}
