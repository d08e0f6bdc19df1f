import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
public import Logging
import NIOCore
import NIOSSL
public import ServiceLifecycle

/// The admission webhook's HTTPS listener: HTTP/1.1 and HTTP/2 chosen by ALPN (kube-apiserver
/// speaks HTTP/2 to webhooks), TLS 1.2 or newer, the serving certificate reloaded from disk when
/// it changes, and optional client-certificate verification.
///
/// A `Service`: `run()` serves until graceful shutdown (or cancellation).
public struct WebhookServer: Service {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        /// 0 picks a free port (tests); ``WebhookServer/init(configuration:handler:logger:onListening:)`` reports it.
        public var port = 8443
        public var path = "/mutate-pod"
        public var maxBodyBytes = 3 * 1024 * 1024
        public var certificateFile: String
        public var keyFile: String
        /// PEM file of CAs that client certificates must chain to; nil accepts any client.
        public var clientCAFile: String?
        /// How often the certificate files are checked for a rotation.
        public var reloadInterval: Duration = .seconds(1)

        public init(certificateFile: String, keyFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public let configuration: Configuration
    let handler: AdmissionHandler
    let logger: Logger
    let onListening: @Sendable (_ port: Int, _ reloader: CertificateReloader) async -> Void

    /// - Parameter onListening: called once the socket listens, with the bound port and the
    ///   certificate reloader in service.
    public init(
        configuration: Configuration, handler: AdmissionHandler, logger: Logger = Logger(label: "rebound.webhook"),
        onListening: @escaping @Sendable (_ port: Int, _ reloader: CertificateReloader) async -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let configuration = self.configuration
        let reloader = try CertificateReloader(
            certificateFile: configuration.certificateFile, keyFile: configuration.keyFile,
            interval: configuration.reloadInterval, logger: logger)
        let clientCA = try Self.loadClientCA(configuration.clientCAFile)
        let responder = WebhookResponder(path: configuration.path, maxBodyBytes: configuration.maxBodyBytes, handler: handler)
        let onListening = self.onListening
        let logger = self.logger
        let application = Application(
            responder: responder,
            server: try .http2Upgrade(tlsConfiguration: reloader.identity.tlsConfiguration(clientCA: clientCA)),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("admission webhook listening", metadata: [
                    "address": "\(configuration.host):\(port)", "path": "\(configuration.path)",
                    "clientCertificates": "\(clientCA == nil ? "not required" : "required")",
                ])
                await onListening(port, reloader)
            },
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reloader.run() }
            try await application.run()
            group.cancelAll()
        }
    }

    /// The CAs client certificates must chain to, or nil when none are required.
    static func loadClientCA(_ file: String?) throws(CertificateLoadError) -> [NIOSSLCertificate]? {
        guard let file, !file.isEmpty else { return nil }
        guard let pem = FileManager.default.contents(atPath: file) else {
            throw CertificateLoadError("cannot read the client CA file \(file) (webhook.tls.clientCAFile)")
        }
        do {
            let certificates = try NIOSSLCertificate.fromPEMBytes(Array(pem))
            guard !certificates.isEmpty else { throw CertificateLoadError("empty") }
            return certificates
        } catch {
            throw CertificateLoadError("\(file) holds no PEM certificate (webhook.tls.clientCAFile)")
        }
    }
}
