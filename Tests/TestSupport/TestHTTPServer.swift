import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
public import NIOCore
import ServiceLifecycle
import Synchronization

/// A plain-HTTP server on an ephemeral loopback port whose every request is answered by one
/// closure: the base of test doubles for whatever Rebound or ClusterSim calls over HTTP.
public final class TestHTTPServer: Sendable {
    /// One request: method, path and body.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var body: ByteBuffer
    }

    /// An answer: status code and JSON body.
    public struct Answer: Sendable {
        public var status: Int
        public var body: ByteBuffer

        public init(status: Int, body: ByteBuffer) {
            self.status = status
            self.body = body
        }

        public init(status: Int = 200, json: String) {
            self.init(status: status, body: ByteBuffer(string: json))
        }
    }

    public let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, Never>

    private init(port: Int, group: ServiceGroup, running: Task<Void, Never>) {
        self.port = port
        self.group = group
        self.running = running
    }

    /// Starts serving; `handle` answers every request (throwing answers 500).
    public static func start(_ handle: @escaping @Sendable (Request) async throws -> Answer) async throws -> TestHTTPServer {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024 * 1024)
            let answer = try await handle(Request(method: request.method.rawValue, path: request.uri.path, body: body))
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .init(code: answer.status), headers: headers, body: ResponseBody(byteBuffer: answer.body))
        }
        let (bound, boundSink) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test.http")
        logger.logLevel = .critical
        let application = Application(
            responder: responder, server: .http1(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                boundSink.yield(channel.localAddress?.port ?? 0)
                boundSink.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        let running = Task {
            try? await group.run()
            boundSink.finish()
        }
        var port = 0
        for await value in bound { port = value }
        let server = TestHTTPServer(port: port, group: group, running: running)
        guard port != 0 else {
            await server.stop()
            throw TestHTTPServerError.couldNotListen
        }
        return server
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        await running.value
    }
}

enum TestHTTPServerError: Error {
    case couldNotListen
}
