import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
public import Prometheus
public import ServiceLifecycle

/// The extender on a socket: HTTP, or HTTPS when a certificate and key are configured. As a
/// `Service` it serves until graceful shutdown and keeps the extender's state following the
/// caches meanwhile.
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
        let server: HTTPServerBuilder
        if let certificateFile = settings.tlsCertificateFile, let keyFile = settings.tlsKeyFile {
            server = try .tls(.http1(), tlsConfiguration: try Self.tlsConfiguration(certificateFile: certificateFile, keyFile: keyFile))
        } else {
            server = .http1()
        }
        let logger = self.logger
        let onListening = self.onListening
        let scheme = settings.tlsCertificateFile == nil ? "http" : "https"
        let application = Application(
            responder: ExtenderResponder(extender: extender, registry: registry),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(settings.address, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("extender listening", metadata: ["url": "\(scheme)://\(settings.address):\(port)"])
                await onListening(port)
            },
            logger: logger
        )
        let extender = self.extender
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await extender.run() }
            group.addTask { try await application.run() }
            // The server returns on graceful shutdown; the state follower then stops with it.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Reads the serving certificate chain and key, with errors that name the file.
    static func tlsConfiguration(certificateFile: String, keyFile: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ExtenderServerError("cannot read the extender's certificate from \(certificateFile) (extender.tls.certFile): \(error)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ExtenderServerError("cannot read the extender's private key from \(keyFile) (extender.tls.keyFile): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}

/// Why the extender could not start.
public struct ExtenderServerError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) { self.description = description }
}
