import Foundation
public import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// The admission webhook's HTTPS listener: HTTP/1.1 and HTTP/2 chosen by ALPN (kube-apiserver
/// speaks HTTP/2 to webhooks), TLS 1.2 or newer, the serving certificate reloaded from disk when
/// it changes, and optional client-certificate verification.
///
/// Built on SwiftNIO channel handlers rather than an async HTTP framework: a review is answered
/// on the event loop that read it, which halves the CPU each request costs (see BENCHMARKS.md).
///
/// A `Service`: `run()` serves until graceful shutdown (open connections finish their requests:
/// HTTP/1.1 closes after the response in progress, HTTP/2 sends GOAWAY) or cancellation.
public struct WebhookServer: Service {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        /// 0 picks a free port (tests); `onListening` reports it.
        public var port = 8443
        public var path = "/mutate-pod"
        public var maxBodyBytes = 3 * 1024 * 1024
        public var certificateFile: String
        public var keyFile: String
        /// PEM file of CAs that client certificates must chain to; nil accepts any client.
        public var clientCAFile: String?
        /// How often the certificate files are checked for a rotation.
        public var reloadInterval: Duration = .seconds(1)
        /// How long HTTP/2 connections may take to finish their streams on shutdown.
        public var shutdownGracePeriod: Duration = .seconds(30)
        /// A connection with no traffic for this long is closed; an idle HTTP/2 connection is
        /// first told to go away (GOAWAY) at half of it. Longer than the idle timeouts of Go's
        /// HTTP clients (kube-apiserver's: 90 s), so the caller, not Rebound, normally closes an
        /// idle connection and never sends a request on one Rebound is closing.
        public var idleTimeout: Duration = .seconds(120)

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
        var tls = reloader.identity.tlsConfiguration(clientCA: clientCA)
        tls.applicationProtocols = ["h2", "http/1.1"]
        let sslContext = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let handler = self.handler
        let logger = self.logger

        let serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                Self.initialize(channel, sslContext: sslContext, configuration: configuration, handler: handler, logger: logger)
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let port = serverChannel.localAddress?.port ?? configuration.port
        logger.info("admission webhook listening", metadata: [
            "address": "\(configuration.host):\(port)", "path": "\(configuration.path)",
            "clientCertificates": "\(clientCA == nil ? "not required" : "required")",
        ])
        await onListening(port, reloader)

        let closed = group.next().makePromise(of: Void.self)
        await withDiscardingTaskGroup { tasks in
            tasks.addTask { await reloader.run() }
            await withTaskCancellationOrGracefulShutdownHandler {
                try? await serverChannel.closeFuture.get()
            } onCancelOrGracefulShutdown: {
                quiesce.initiateShutdown(promise: closed)
            }
            // Stops accepting at once; returns when every connection has closed.
            try? await closed.futureResult.get()
            tasks.cancelAll()
        }
        logger.info("admission webhook stopped")
    }

    /// TLS, then HTTP/2 or HTTP/1.1 by ALPN, then the webhook handler (per HTTP/2 stream).
    static func initialize(
        _ channel: any Channel, sslContext: NIOSSLContext, configuration: Configuration, handler: AdmissionHandler, logger: Logger
    ) -> EventLoopFuture<Void> {
        let idle = TimeAmount(configuration.idleTimeout)
        do {
            // Before TLS, so a handshake that never completes counts as idle too.
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(allTimeout: .nanoseconds(idle.nanoseconds / 2)), IdleConnectionCloser(), NIOSSLServerHandler(context: sslContext),
            ])
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let grace = TimeAmount(configuration.shutdownGracePeriod)
        let exchange = WebhookExchange(path: configuration.path, maxBodyBytes: configuration.maxBodyBytes, handler: handler)
        return channel.configureHTTP2SecureUpgrade(
            h2ChannelConfigurator: { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Streams are served on the connection's pipeline, without a channel each.
                    let management = NIOHTTP2ServerConnectionManagementHandler(
                        eventLoop: channel.eventLoop,
                        configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: grace, keepalive: nil))
                    try channel.pipeline.syncOperations.addHandlers([
                        // The idle translator sits before NIOHTTP2Handler, which passes its event on,
                        // so it never sees the stream events NIOHTTP2Handler emits for every request.
                        // One TLS record per flush instead of one per frame (see WriteCoalescer).
                        WriteCoalescer(), HTTP2IdleGoAway(), NIOHTTP2Handler(mode: .server), management, WebhookHTTP2Handler(exchange: exchange),
                    ])
                }
            },
            http1ChannelConfigurator: { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The handler writes whole responses itself (one buffer each), orders pipelined
                    // requests and answers unparsable ones with a 400.
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)), WebhookHTTP1Handler(exchange: exchange),
                    ])
                }
            })
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
