import Hummingbird
import Logging
import Prometheus

/// The plain-HTTP listener for probes and metrics: `/healthz` (the process serves),
/// `/readyz` (the caches have synced and every part is ready) and `/metrics` (Prometheus text).
struct HealthServer {
    let address: String
    let port: Int
    let registry: PrometheusCollectorRegistry
    let ready: @Sendable () async -> Bool
    let logger: Logger

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in "ok" }
        router.get("/livez") { _, _ in "ok" }
        router.get("/readyz") { _, _ -> Response in
            if await ready() { return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok"))) }
            return Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "caches not synced yet")))
        }
        let registry = self.registry
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(router: router, configuration: ApplicationConfiguration(address: .hostname(address, port: port)), logger: logger)
    }
}
