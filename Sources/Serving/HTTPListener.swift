import Foundation
public import Logging
public import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTP2
public import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// One listening socket of Rebound: HTTP/1.1, or over TLS HTTP/1.1 and HTTP/2 chosen by ALPN,
/// serving an ``HTTPEndpoint`` within ``ListenerLimits``. The webhook, the extender and the
/// health port are each one of these, so every port gets the same bounds, deadlines and TLS
/// handling.
///
/// Built on SwiftNIO channel handlers rather than an async HTTP framework: a request is answered
/// on the event loop that read it when the endpoint can answer at once, which halves the CPU each
/// request costs (see BENCHMARKS.md). Listeners run on their own event loops
/// (``ServingEventLoops``), apart from the API client's, so heavy request traffic cannot delay
/// watches and lease renewals on the loops.
///
/// A `Service`: `run()` serves until graceful shutdown (open connections finish their requests:
/// HTTP/1.1 closes after the response in progress, HTTP/2 sends GOAWAY) or cancellation.
public struct HTTPListener: Service {
    public struct Configuration: Sendable {
        /// Names the listener in logs and metrics: `webhook`, `extender`, `health`.
        public var name: String
        /// Names it in its start-up line, e.g. "admission webhook listening".
        public var title: String
        public var host = "0.0.0.0"
        /// 0 picks a free port (tests); `onListening` reports it.
        public var port: Int
        /// Serve TLS with this certificate; nil serves plain HTTP/1.1.
        public var tls: ListenerTLS?
        /// Offer HTTP/2 by ALPN (TLS only).
        public var http2 = true
        public var limits = ListenerLimits()

        public init(name: String, title: String? = nil, port: Int) {
            self.name = name
            self.title = title ?? name
            self.port = port
        }
    }

    public let configuration: Configuration
    let endpoint: any HTTPEndpoint
    let metrics: ListenerMetrics
    let logger: Logger
    let group: any EventLoopGroup
    let onListening: @Sendable (_ port: Int, _ reloader: CertificateReloader?) async -> Void

    /// - Parameters:
    ///   - group: the event loops to serve on; ``ServingEventLoops/shared`` by default.
    ///   - onListening: called once the socket listens, with the bound port and, for TLS, the
    ///     certificate reloader in service.
    public init(
        configuration: Configuration, endpoint: any HTTPEndpoint, metrics: ListenerMetrics? = nil, logger: Logger,
        group: any EventLoopGroup = ServingEventLoops.shared,
        onListening: @escaping @Sendable (_ port: Int, _ reloader: CertificateReloader?) async -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.metrics = metrics ?? ListenerMetrics(listener: configuration.name)
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    public func run() async throws {
        let configuration = self.configuration
        var reloader: CertificateReloader?
        var caReloader: ClientCAReloader?
        var sslContext: TLSContextBox?
        var clientCertificates = "not required"
        var allowedClientNames: [String] = []
        if let tls = configuration.tls {
            let loaded = try CertificateReloader(certificateFile: tls.certificateFile, keyFile: tls.keyFile, interval: tls.reloadInterval, logger: logger)
            let clientCA = try ListenerTLS.loadClientCA(tls.clientCAFile, listener: configuration.name)
            let protocols = configuration.http2 ? ["h2", "http/1.1"] : ["http/1.1"]
            let makeContext: @Sendable ([NIOSSLCertificate]?) throws -> NIOSSLContext = { clientCA in
                var tlsConfiguration = loaded.identity.tlsConfiguration(clientCA: clientCA)
                tlsConfiguration.applicationProtocols = protocols
                return try NIOSSLContext(configuration: tlsConfiguration)
            }
            let box = TLSContextBox(try makeContext(clientCA))
            sslContext = box
            reloader = loaded
            if clientCA != nil, let file = tls.clientCAFile {
                clientCertificates = tls.allowedClientNames.isEmpty ? "required" : "required, named \(tls.allowedClientNames.joined(separator: ", "))"
                allowedClientNames = tls.allowedClientNames
                caReloader = ClientCAReloader(file: file, listener: configuration.name, interval: tls.reloadInterval, logger: logger) { certificates in
                    box.replace(with: try makeContext(certificates))
                }
            }
        }
        let listener = ListenerContext(name: configuration.name, endpoint: endpoint, limits: configuration.limits, metrics: metrics, logger: logger)
        let limiter = ConnectionLimiter(context: listener)
        let quiesce = ServerQuiescingHelper(group: group)
        let context = sslContext
        let names = allowedClientNames

        let serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    try channel.pipeline.syncOperations.addHandler(limiter)
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                Self.initialize(channel, sslContext: context?.current, http2: configuration.http2, listener: listener, allowedClientNames: names)
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let port = serverChannel.localAddress?.port ?? configuration.port
        logger.info("\(configuration.title) listening", metadata: [
            "listener": "\(configuration.name)", "address": "\(configuration.host):\(port)",
            "tls": "\(configuration.tls == nil ? "off" : "on")", "clientCertificates": "\(clientCertificates)",
        ])
        await onListening(port, reloader)

        let closed = group.next().makePromise(of: Void.self)
        let grace = configuration.limits.shutdownGracePeriod
        await withDiscardingTaskGroup { tasks in
            if let reloader { tasks.addTask { await reloader.run() } }
            if let caReloader { tasks.addTask { await caReloader.run() } }
            await withTaskCancellationOrGracefulShutdownHandler {
                try? await serverChannel.closeFuture.get()
            } onCancelOrGracefulShutdown: {
                quiesce.initiateShutdown(promise: closed)
            }
            // Stops accepting at once; returns when every connection has closed, or after the
            // grace period, whichever comes first.
            await withTaskGroup(of: Void.self) { race in
                race.addTask { try? await closed.futureResult.get() }
                race.addTask { try? await Task.sleep(for: grace) }
                await race.next()
                race.cancelAll()
            }
            tasks.cancelAll()
        }
        logger.info("\(configuration.title) stopped", metadata: ["listener": "\(configuration.name)"])
    }

    /// TLS (if any), then HTTP/2 or HTTP/1.1 by ALPN, then the connection handlers.
    static func initialize(
        _ channel: any Channel, sslContext: NIOSSLContext?, http2: Bool, listener: ListenerContext, allowedClientNames: [String] = []
    ) -> EventLoopFuture<Void> {
        let limits = listener.limits
        let idle = TimeAmount(limits.idleTimeout)
        do {
            // Before TLS, so a handshake that never completes counts as idle too.
            try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(allTimeout: .nanoseconds(idle.nanoseconds / 2)), IdleConnectionCloser()])
            if let sslContext {
                let deadline = HandshakeDeadline(context: listener)
                try channel.pipeline.syncOperations.addHandlers([deadline, NIOSSLServerHandler(context: sslContext), HandshakeDeadline.Watcher(deadline, allowedClientNames: allowedClientNames)])
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        guard sslContext != nil, http2 else {
            return channel.eventLoop.makeCompletedFuture { try configureHTTP1(channel, listener: listener) }
        }
        return channel.configureHTTP2SecureUpgrade(
            h2ChannelConfigurator: { channel in
                channel.eventLoop.makeCompletedFuture { try configureHTTP2(channel, listener: listener) }
            },
            http1ChannelConfigurator: { channel in
                channel.eventLoop.makeCompletedFuture { try configureHTTP1(channel, listener: listener) }
            })
    }

    static func configureHTTP1(_ channel: any Channel, listener: ListenerContext) throws {
        let limits = listener.limits
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldCount = 512
        let clock = HTTP1RequestClock()
        // The handler writes whole responses itself (one buffer each), orders pipelined requests
        // and answers unparsable ones; the guard before the decoder keeps the read deadlines.
        try channel.pipeline.syncOperations.addHandlers([
            HTTP1ReadGuard(clock: clock, listener: listener),
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop, limitConfiguration: decoderLimits)),
            HTTP1ConnectionHandler(listener: listener, clock: clock),
        ])
    }

    static func configureHTTP2(_ channel: any Channel, listener: ListenerContext) throws {
        let limits = listener.limits
        // Streams are served on the connection's pipeline, without a channel each.
        let management = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: TimeAmount(limits.shutdownGracePeriod), keepalive: nil))
        let settings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderBytes),
        ]
        try channel.pipeline.syncOperations.addHandlers([
            // The idle translator sits before NIOHTTP2Handler, which passes its event on, so it
            // never sees the stream events NIOHTTP2Handler emits for every request. One TLS record
            // per flush instead of one per frame (see WriteCoalescer).
            WriteCoalescer(), HTTP2IdleGoAway(), NIOHTTP2Handler(mode: .server, initialSettings: settings), management,
            HTTP2ConnectionHandler(listener: listener),
        ])
    }
}

/// The event loops Rebound's listeners serve on: their own, apart from
/// `MultiThreadedEventLoopGroup.singleton`, where the API client runs its watches and the leader
/// election its renewals. A flood of requests then competes for the CPU, which the kernel shares
/// out, but never queues in front of an API response on the same loop.
///
/// `BENCHMARK_SHARED_EVENT_LOOPS=1` puts the listeners on the singleton instead: only for
/// measuring what the separation buys (Benchmarks/hostile).
public enum ServingEventLoops {
    public static let shared: MultiThreadedEventLoopGroup =
        ProcessInfo.processInfo.environment["BENCHMARK_SHARED_EVENT_LOOPS"] != nil
        ? .singleton : MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
}
