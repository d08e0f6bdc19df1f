import AsyncHTTPClient
import NIOCore
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
    private let server = Mutex<TestHTTPServer?>(nil)

    private init() {}

    /// The port the proxy listens on.
    public var port: Int { server.withLock { $0?.port ?? 0 } }

    /// Starts a proxy on an ephemeral loopback port, with no backends yet.
    public static func start() async throws -> RoundRobinProxy {
        let proxy = RoundRobinProxy()
        let server = try await TestHTTPServer.start { [proxy] request in try await proxy.forward(request) }
        proxy.server.withLock { $0 = server }
        return proxy
    }

    /// The replicas' ports, in the order requests go round.
    public func setBackends(_ ports: [Int]) { state.withLock { $0.backends = ports } }

    /// Requests each backend answered so far.
    public var answered: [Int: Int] { state.withLock { $0.answered } }

    public func stop() async {
        await server.withLock({ $0 })?.stop()
        try? await client.shutdown()
    }

    private func forward(_ request: TestHTTPServer.Request) async throws -> TestHTTPServer.Answer {
        let backends = state.withLock { state -> [Int] in
            guard !state.backends.isEmpty else { return [] }
            let first = state.next % state.backends.count
            state.next += 1
            return Array(state.backends[first...] + state.backends[..<first])
        }
        var lastError: (any Error)?
        for port in backends {
            var outgoing = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(request.path)")
            outgoing.method = .init(rawValue: request.method)
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(request.body)
            do {
                let response = try await client.execute(outgoing, timeout: .seconds(10))
                let answer = try await response.body.collect(upTo: 64 * 1024 * 1024)
                state.withLock { $0.answered[port, default: 0] += 1 }
                return TestHTTPServer.Answer(status: Int(response.status.code), body: answer)
            } catch {
                lastError = error
            }
        }
        throw ProxyError.noBackend(String(describing: lastError))
    }

    enum ProxyError: Error {
        case noBackend(String)
    }
}

/// GETs `url` and returns the status code and body (any status; nil on a connection error).
public func httpGet(_ url: String) async -> (status: Int, body: String)? {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    defer { Task { try? await client.shutdown() } }
    guard let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10)),
        let body = try? await response.body.collect(upTo: 1024 * 1024)
    else { return nil }
    return (Int(response.status.code), String(buffer: body))
}
