import ReboundConfig
import Logging
import NIOCore
import Prometheus
import Serving

/// The plain-HTTP endpoint for probes and metrics: `/healthz` (the process serves), `/readyz`
/// (every part that serves through the Service is ready; the body names each part and what is
/// wrong with it) and `/metrics` (Prometheus text).
struct HealthEndpoint: HTTPEndpoint {
    let registry: PrometheusCollectorRegistry
    let checks: [PartCheck]

    func respond(to request: ServerRequest) -> ServerReply {
        guard request.method == "GET" else { return .now(.text(405, "the health listener serves GET only\n")) }
        switch request.path {
        case "/healthz", "/livez":
            return .now(.text(200, "ok"))
        case "/readyz":
            let checks = self.checks
            return .later {
                let (ready, body) = await PartCheck.report(checks)
                return .text(ready ? 200 : 503, body)
            }
        case "/metrics":
            return .now(ServerResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: ByteBuffer(bytes: registry.emitToBuffer())))
        default:
            return .now(.text(404, "no such path \(request.path); the health listener serves /healthz, /readyz and /metrics\n"))
        }
    }

    /// The health listener, bounded like the others (its requests have no bodies worth the name).
    static func listener(config: ResolvedConfig, registry: PrometheusCollectorRegistry, checks: [PartCheck], logger: Logger) -> HTTPListener {
        var configuration = HTTPListener.Configuration(name: "health", title: "health and metrics", port: config.int("health.port"))
        configuration.host = config.string("health.address")
        configuration.limits = config.listenerLimits(maxBodyBytes: 64 * 1024, idleTimeoutSeconds: config.int("health.idleTimeoutSeconds"))
        return HTTPListener(configuration: configuration, endpoint: HealthEndpoint(registry: registry, checks: checks), logger: logger)
    }
}
