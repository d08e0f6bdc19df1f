public import Logging
public import Prometheus
import Serving
public import ServiceLifecycle

/// The extender on a socket: HTTP, or HTTPS when a certificate and key are configured, bounded by
/// ``ExtenderSettings/limits``. As a `Service` it serves until graceful shutdown and keeps the
/// extender's state following the caches meanwhile.
public struct ExtenderServer: Service {
    public let extender: SchedulerExtender
    let registry: PrometheusCollectorRegistry?
    let onListening: @Sendable (Int) async -> Void
    let logger: Logger

    /// - Parameters:
    ///   - registry: served on `/metrics` when set.
    ///   - onListening: called with the bound port once the server listens (port 0 picks one).
    public init(
        extender: SchedulerExtender, registry: PrometheusCollectorRegistry? = nil, logger: Logger = Logger(label: "rebound.extender"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.extender = extender
        self.registry = registry
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let settings = extender.settings
        var configuration = HTTPListener.Configuration(name: "extender", title: "scheduler extender", port: settings.port)
        configuration.host = settings.address
        configuration.limits = settings.limits
        // kube-scheduler speaks HTTP/1.1 to extenders.
        configuration.http2 = false
        if let certificateFile = settings.tlsCertificateFile, let keyFile = settings.tlsKeyFile {
            var tls = ListenerTLS(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: settings.tlsClientCAFile)
            tls.allowedClientNames = settings.tlsClientAllowedNames
            configuration.tls = tls
        }
        let onListening = self.onListening
        let listener = HTTPListener(
            configuration: configuration, endpoint: ExtenderEndpoint(extender: extender, registry: registry), logger: logger
        ) { port, _ in await onListening(port) }
        let extender = self.extender
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await extender.run() }
            group.addTask { try await listener.run() }
            // The server returns on graceful shutdown; the state follower then stops with it.
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
