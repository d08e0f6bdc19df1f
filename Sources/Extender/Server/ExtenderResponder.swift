import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import Prometheus

/// Routes HTTP requests to the extender: POST on the filter, prioritize and bind paths, and GET
/// `/healthz`, `/readyz` (ready once the caches synced) and `/metrics`.
///
/// Hummingbird turns errors thrown by a custom responder into empty 500s, so every failure is
/// answered here, with a status and a message.
struct ExtenderResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let extender: SchedulerExtender
    /// Served on `/metrics` when set.
    let registry: PrometheusCollectorRegistry?

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let settings = extender.settings
        let path = request.uri.path
        let verb: ExtenderMetrics.Verb? =
            switch path {
            case settings.filterPath: .filter
            case settings.prioritizePath: .prioritize
            case settings.bindPath: .bind
            default: nil
            }
        if let verb {
            guard request.method == .post else {
                return Self.response(extender.refuse(verb, code: 405, message: "\(request.method) is not supported on \(path); kube-scheduler sends POST"), allow: "POST")
            }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: settings.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                return Self.response(extender.refuse(verb, code: 413, message: "the request body is larger than extender.maxBodyBytes (\(settings.maxBodyBytes) bytes); raise it for clusters this large"))
            } catch {
                return Self.response(extender.refuse(verb, code: 400, message: "the request body could not be read: \(error)"))
            }
            let answer =
                switch verb {
                case .filter: await extender.filter(body)
                case .prioritize: await extender.prioritize(body)
                case .bind: await extender.bind(body)
                }
            return Self.response(answer)
        }
        switch (request.method, path) {
        case (.get, "/healthz"), (.get, "/livez"):
            return Self.text(.ok, "ok")
        case (.get, "/readyz"):
            return await extender.isReady ? Self.text(.ok, "ok") : Self.text(.serviceUnavailable, "caches not synced yet")
        case (.get, "/metrics"):
            guard let registry else { return Self.text(.notFound, "metrics are served on the health listener") }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        default:
            return Self.response(extender.refuse(nil, code: 404, message: "no such path \(path); the extender serves POST \(settings.filterPath), \(settings.prioritizePath) and \(settings.bindPath)"))
        }
    }

    static func response(_ answer: SchedulerExtender.Answer, allow: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let allow { headers[.allow] = allow }
        return Response(status: HTTPResponse.Status(code: answer.code), headers: headers, body: ResponseBody(byteBuffer: answer.body))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message)))
    }
}
