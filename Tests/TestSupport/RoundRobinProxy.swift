import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// An HTTP proxy that sends each request to the next backend in turn, as a Service does when
/// kube-scheduler opens new connections: a test's stand-in for the Service in front of several
/// `rebound serve` replicas. A backend that cannot be reached is skipped for that request (as
/// an endpoint that is not ready is), so a restarting replica is no error for the caller.
public final class RoundRobinProxy: Sendable {
    private struct State {
        var backends: [Int] = []
        var next = 0
        /// Requests answered, by backend port.
        var answered: [Int: Int] = [:]
    }

    private let state = Mutex(State())
    private let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(1), read: .seconds(10))))
    private let group: Mutex<ServiceGroup?> = Mutex(nil)
    private let running: Mutex<Task<Void, Never>?> = Mutex(nil)
    /// The port the proxy listens on.
    public let port: Int

    private init(port: Int) { self.port = port }

    /// Starts a proxy on an ephemeral loopback port, with no backends yet.
    public static func start(logger: Logger = Logger(label: "test.proxy")) async throws -> RoundRobinProxy {
        let holder = Mutex<RoundRobinProxy?>(nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard let proxy = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await proxy.forward(request)
        }
        let (bound, boundSink) = AsyncStream<Int>.makeStream()
        var quiet = logger
        quiet.logLevel = .critical
        let application = Application(
            responder: responder, server: .http1(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                boundSink.yield(channel.localAddress?.port ?? 0)
                boundSink.finish()
            },
            logger: quiet)
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: quiet))
        let task = Task {
            try? await serviceGroup.run()
            boundSink.finish()
        }
        var port = 0
        for await value in bound { port = value }
        let proxy = RoundRobinProxy(port: port)
        holder.withLock { $0 = proxy }
        proxy.group.withLock { $0 = serviceGroup }
        proxy.running.withLock { $0 = task }
        guard port != 0 else {
            await proxy.stop()
            throw ProxyError.couldNotListen
        }
        return proxy
    }

    /// The replicas' ports, in the order requests go round.
    public func setBackends(_ ports: [Int]) { state.withLock { $0.backends = ports } }

    /// Requests each backend answered so far.
    public var answered: [Int: Int] { state.withLock { $0.answered } }

    public func stop() async {
        await group.withLock({ $0 })?.triggerGracefulShutdown()
        await running.withLock({ $0 })?.value
        try? await client.shutdown()
    }

    private func forward(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024 * 1024)
        let backends = state.withLock { state -> [Int] in
            guard !state.backends.isEmpty else { return [] }
            let first = state.next % state.backends.count
            state.next += 1
            return Array(state.backends[first...] + state.backends[..<first])
        }
        var lastError: (any Error)?
        for port in backends {
            var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(request.uri.path)")
            outgoing.method = .init(rawValue: request.method.rawValue)
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(body)
            do {
                let response = try await client.execute(outgoing, timeout: .seconds(10))
                let answer = try await response.body.collect(upTo: 64 * 1024 * 1024)
                state.withLock { $0.answered[port, default: 0] += 1 }
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                return Response(status: .init(code: Int(response.status.code)), headers: headers, body: ResponseBody(byteBuffer: answer))
            } catch {
                lastError = error
            }
        }
        throw ProxyError.noBackend(String(describing: lastError))
    }

    enum ProxyError: Error {
        case couldNotListen
        case noBackend(String)
    }
}
