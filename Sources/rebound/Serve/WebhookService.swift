import Kube
import Logging
import ServiceLifecycle
import Webhook

/// The admission webhook as one of `rebound serve`'s services, configured from `webhook.*`,
/// answering from the shared caches. With `webhook.enabled=false` it only waits for shutdown.
struct WebhookService: Service {
    let server: WebhookServer?

    init(config: ResolvedConfig, caches: ClusterCaches, client: KubeClient, logger: Logger) {
        guard config.bool("webhook.enabled") else {
            server = nil
            return
        }
        var configuration = WebhookServer.Configuration(
            certificateFile: config.string("webhook.tls.certFile"), keyFile: config.string("webhook.tls.keyFile"))
        configuration.host = config.string("webhook.address")
        configuration.port = config.int("webhook.port")
        configuration.path = config.string("webhook.path")
        configuration.maxBodyBytes = config.int("webhook.maxBodyBytes")
        let clientCA = config.string("webhook.tls.clientCAFile")
        configuration.clientCAFile = clientCA.isEmpty ? nil : clientCA
        var webhookLogger = logger
        webhookLogger[metadataKey: "part"] = "webhook"
        let handler = AdmissionHandler(
            lookups: CacheLookups(caches: caches, client: client), keys: config.compatibilityKeys, logger: webhookLogger)
        server = WebhookServer(configuration: configuration, handler: handler, logger: webhookLogger)
    }

    func run() async throws {
        guard let server else {
            try? await gracefulShutdown()
            return
        }
        try await server.run()
    }
}
