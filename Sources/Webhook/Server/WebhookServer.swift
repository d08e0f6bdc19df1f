public import Logging
public import Serving
public import ServiceLifecycle

/// The admission webhook's HTTPS listener: HTTP/1.1 and HTTP/2 chosen by ALPN (kube-apiserver
/// speaks HTTP/2 to webhooks), TLS 1.2 or newer, the serving certificate reloaded from disk when
/// it changes, optional client-certificate verification, and the bounds of ``ListenerLimits``.
///
/// A `Service`: `run()` serves until graceful shutdown or cancellation (see ``HTTPListener``).
public struct WebhookServer: Service {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        /// 0 picks a free port (tests); `onListening` reports it.
        public var port = 8443
        public var path = "/mutate-pod"
        public var certificateFile: String
        public var keyFile: String
        /// PEM file of CAs that client certificates must chain to; nil accepts any client.
        public var clientCAFile: String?
        /// Names one of which a client certificate must carry (see ``ListenerTLS/allowedClientNames``).
        public var allowedClientNames: [String] = []
        /// How often the certificate files are checked for a rotation.
        public var reloadInterval: Duration = .seconds(1)
        /// Connections, deadlines and buffers. Its idle timeout is longer than the idle timeouts
        /// of Go's HTTP clients (kube-apiserver's: 90 s), so the caller, not Rebound, normally
        /// closes an idle connection and never sends a request on one Rebound is closing.
        public var limits = ListenerLimits()

        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public let configuration: Configuration
    let listener: HTTPListener

    /// - Parameter onListening: called once the socket listens, with the bound port and the
    ///   certificate reloader in service.
    public init(
        configuration: Configuration, handler: AdmissionHandler, logger: Logger = Logger(label: "rebound.webhook"),
        onListening: @escaping @Sendable (_ port: Int, _ reloader: CertificateReloader) async -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        var listenerConfiguration = HTTPListener.Configuration(name: "webhook", title: "admission webhook", port: configuration.port)
        listenerConfiguration.host = configuration.host
        var tls = ListenerTLS(certificateFile: configuration.certificateFile, keyFile: configuration.keyFile, clientCAFile: configuration.clientCAFile)
        tls.allowedClientNames = configuration.allowedClientNames
        tls.reloadInterval = configuration.reloadInterval
        listenerConfiguration.tls = tls
        listenerConfiguration.limits = configuration.limits
        listener = HTTPListener(
            configuration: listenerConfiguration, endpoint: WebhookEndpoint(path: configuration.path, handler: handler), logger: logger
        ) { port, reloader in
            if let reloader { await onListening(port, reloader) }
        }
    }

    public func run() async throws {
        try await listener.run()
    }
}
