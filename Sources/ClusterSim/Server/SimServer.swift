import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// ClusterSim's API server on a socket: ``SimAPI`` behind Hummingbird, over HTTP or HTTPS.
///
/// `start()` binds (port 0 picks a free one) and returns once it listens; `stop()` ends it.
public final class SimServer: Sendable {
    /// TLS material for serving HTTPS, and optionally requiring client certificates.
    public struct TLS: Sendable {
        public var certificateChainPEM: [UInt8]
        public var privateKeyPEM: [UInt8]
        /// When set, clients must present a certificate signed by one of these CAs.
        public var clientCAPEM: [UInt8]?

        public init(certificateChainPEM: [UInt8], privateKeyPEM: [UInt8], clientCAPEM: [UInt8]? = nil) {
            self.certificateChainPEM = certificateChainPEM
            self.privateKeyPEM = privateKeyPEM
            self.clientCAPEM = clientCAPEM
        }
    }

    public let api: SimAPI
    public let host: String
    let requestedPort: Int
    let tls: TLS?
    let bookmarkInterval: Duration
    let logger: Logger
    private let state = SimServerState()

    public var store: SimStore { api.store }

    public init(api: SimAPI, host: String = "127.0.0.1", port: Int = 0, tls: TLS? = nil, bookmarkInterval: Duration = .seconds(5), logger: Logger = Logger(label: "rebound.sim")) {
        self.api = api
        self.host = host
        self.requestedPort = port
        self.tls = tls
        self.bookmarkInterval = bookmarkInterval
        self.logger = logger
    }

    /// The port the server listens on (after ``start()``).
    public var port: Int {
        get async { await state.port ?? requestedPort }
    }

    /// `http(s)://host:port`.
    public var url: String {
        get async { "\(tls == nil ? "http" : "https")://\(host):\(await port)" }
    }

    /// Starts listening and returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let api = self.api
        let maxBody = api.maxBodyBytes
        let responder = CallbackResponder<BasicRequestContext> { request, context in
            try await Self.respond(to: request, context: context, api: api, maxBody: maxBody)
        }
        let server: HTTPServerBuilder
        if let tls {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(tls.certificateChainPEM).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: tls.privateKeyPEM, format: .pem))
            )
            configuration.minimumTLSVersion = .tlsv12
            if let clientCA = tls.clientCAPEM {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(clientCA))
                configuration.certificateVerification = .noHostnameVerification
            }
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: requestedPort), serverName: nil),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? 0)
                boundContinuation.finish()
            },
            logger: logger
        )
        let logger = self.logger
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        let runTask = Task {
            do {
                try await group.run()
            } catch {
                logger.error("ClusterSim API server stopped", metadata: ["error": "\(error)"])
            }
            boundContinuation.finish()
        }
        let store = api.store
        let interval = bookmarkInterval
        let bookmarkTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await store.emitBookmarks()
            }
        }
        var port = 0
        for await value in bound { port = value }
        guard port != 0 else {
            await group.triggerGracefulShutdown()
            runTask.cancel()
            bookmarkTask.cancel()
            throw SimServerError.couldNotListen(host: host, port: requestedPort)
        }
        await state.started(port: port, group: group, tasks: [runTask, bookmarkTask])
        return port
    }

    /// Closes every watch, then shuts the listener down gracefully.
    public func stop() async {
        await api.store.dropAllWatches()
        let (group, tasks) = await state.stop()
        await group?.triggerGracefulShutdown()
        // The first task serves until the graceful shutdown completes; the others loop until cancelled.
        for (index, task) in tasks.enumerated() {
            if index > 0 || group == nil { task.cancel() }
            _ = await task.result
        }
    }

    /// A kubeconfig that points at this server (with a bearer token and CA when given).
    public func kubeconfig(token: String? = nil, caPEM: [UInt8]? = nil, namespace: String = "default") async -> String {
        var cluster = "    server: \(await url)\n"
        if let caPEM { cluster += "    certificate-authority-data: \(Data(caPEM).base64EncodedString())\n" }
        let user = token.map { "    token: \($0)\n" } ?? "    {}\n"
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: rebound-sim
              cluster:
            \(cluster.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            users:
            - name: rebound-sim
              user:
            \(user.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            contexts:
            - name: rebound-sim
              context:
                cluster: rebound-sim
                user: rebound-sim
                namespace: \(namespace)
            current-context: rebound-sim

            """
    }

    static func respond(to request: Request, context: BasicRequestContext, api: SimAPI, maxBody: Int) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBody)
        } catch {
            return makeResponse(SimAPI.error(.tooLarge("the request body is more than the limit of \(maxBody) bytes")))
        }
        let simRequest = SimRequest(
            method: request.method.rawValue, path: request.uri.path, query: SimRequest.parseQuery(request.uri.query ?? ""),
            headers: headers, body: Array(body.readableBytesView)
        )
        return makeResponse(await api.handle(simRequest))
    }

    static func makeResponse(_ answer: SimResponse) -> Response {
        switch answer {
        case .bytes(let status, let contentType, let body, let extra):
            var headers = HTTPFields()
            headers[.contentType] = contentType
            for (name, value) in extra {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .stream(let contentType, let frames):
            var headers = HTTPFields()
            headers[.contentType] = contentType
            headers[.cacheControl] = "no-cache, private"
            let body = ResponseBody { writer in
                for await frame in frames {
                    try await writer.write(ByteBuffer(bytes: frame))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }
}

/// Why the simulated server could not start.
public enum SimServerError: Error, CustomStringConvertible {
    case couldNotListen(host: String, port: Int)

    public var description: String {
        switch self {
        case .couldNotListen(let host, let port): "could not listen on \(host):\(port); is the port already in use?"
        }
    }
}

/// The running server's mutable state.
actor SimServerState {
    var port: Int?
    var group: ServiceGroup?
    var tasks: [Task<Void, Never>] = []

    func started(port: Int, group: ServiceGroup, tasks: [Task<Void, Never>]) {
        self.port = port
        self.group = group
        self.tasks = tasks
    }

    func stop() -> (ServiceGroup?, [Task<Void, Never>]) {
        defer {
            group = nil
            tasks = []
        }
        return (group, tasks)
    }
}
