import NIOCore
import Prometheus
import Serving

/// The extender as its listener serves it: POST on the filter, prioritize and bind paths, and GET
/// `/healthz`, `/readyz` (ready once the caches synced) and `/metrics`. Every failure is an
/// answer with a status and a message.
struct ExtenderEndpoint: HTTPEndpoint {
    let extender: SchedulerExtender
    /// Served on `/metrics` when set.
    let registry: PrometheusCollectorRegistry?

    func verb(of path: Substring) -> ExtenderMetrics.Verb? {
        let settings = extender.settings
        switch path {
        case settings.filterPath[...]: return .filter
        case settings.prioritizePath[...]: return .prioritize
        case settings.bindPath[...]: return .bind
        default: return nil
        }
    }

    func respond(to request: ServerRequest) -> ServerReply {
        let settings = extender.settings
        let path = request.path
        let extender = self.extender
        if let verb = verb(of: path) {
            guard request.method == "POST" else {
                return .now(Self.response(extender.refuse(verb, code: 405, message: "\(request.method) is not supported on \(path); kube-scheduler sends POST"), allow: "POST"))
            }
            let body = request.body
            return .later {
                let answer =
                    switch verb {
                    case .filter: await extender.filter(body)
                    case .prioritize: await extender.prioritize(body)
                    case .bind: await extender.bind(body)
                    }
                return Self.response(answer)
            }
        }
        switch (request.method, path) {
        case ("GET", "/healthz"), ("GET", "/livez"):
            return .now(.text(200, "ok"))
        case ("GET", "/readyz"):
            return .later { await extender.isReady ? .text(200, "ok") : .text(503, "caches not synced yet") }
        case ("GET", "/metrics"):
            guard let registry else { return .now(.text(404, "metrics are served on the health listener")) }
            return .now(ServerResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: ByteBuffer(bytes: registry.emitToBuffer())))
        default:
            return .now(Self.response(extender.refuse(nil, code: 404, message: "no such path \(path); the extender serves POST \(settings.filterPath), \(settings.prioritizePath) and \(settings.bindPath)")))
        }
    }

    /// Refusals of the listener (too large, too slow, over budget) in the extender's JSON form,
    /// counted against the verb they were for.
    func refused(_ refusal: Refusal, target: String?) -> ServerResponse {
        let path = target.map(ServerRequest.path(of:)) ?? ""
        var message = refusal.message
        if case .bodyTooLarge = refusal { message += "; raise extender.maxBodyBytes for clusters this large" }
        var response = Self.response(extender.refuse(verb(of: path), code: refusal.status, message: message))
        if refusal.retryable { response.extraHeaders.append(("retry-after", "1")) }
        return response
    }

    static func response(_ answer: SchedulerExtender.Answer, allow: String? = nil) -> ServerResponse {
        ServerResponse(status: answer.code, contentType: "application/json", body: answer.body, extraHeaders: allow.map { [("allow", $0)] } ?? [])
    }
}
