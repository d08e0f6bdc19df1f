import ReboundConfig
import Logging
import NIOCore
import Prometheus
import Serving

/// The plain-HTTP endpoint for probes and metrics: `/healthz` (the process serves),
/// `/readyz` (the caches have synced and every part is ready) and `/metrics` (Prometheus text).
struct HealthEndpoint: HTTPEndpoint {
    let registry: PrometheusCollectorRegistry
    let ready: @Sendable () async -> Bool

    func respond(to request: ServerRequest) -> ServerReply {
        guard request.method == "GET" else { return .now(.text(405, "the health listener serves GET only\n")) }
        switch request.path {
        case "/healthz", "/livez":
            return .now(.text(200, "ok"))
        case "/readyz":
            let ready = self.ready
            return .later { await ready() ? .text(200, "ok") : .text(503, "caches not synced yet") }
        case "/metrics":
            return .now(ServerResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: ByteBuffer(bytes: registry.emitToBuffer())))
        default:
            return .now(.text(404, "no such path \(request.path); the health listener serves /healthz, /readyz and /metrics\n"))
        }
    }

    /// The health listener, bounded like the others (its requests have no bodies worth the name).
    static func listener(config: ResolvedConfig, registry: PrometheusCollectorRegistry, ready: @escaping @Sendable () async -> Bool, logger: Logger) -> HTTPListener {
        var configuration = HTTPListener.Configuration(name: "health", title: "health and metrics", port: config.int("health.port"))
        configuration.host = config.string("health.address")
        configuration.limits = config.listenerLimits(maxBodyBytes: 64 * 1024, idleTimeoutSeconds: config.int("health.idleTimeoutSeconds"))
        return HTTPListener(configuration: configuration, endpoint: HealthEndpoint(registry: registry, ready: ready), logger: logger)
    }
}
