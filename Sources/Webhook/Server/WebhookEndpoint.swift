import NIOCore
import Serving

/// The webhook as its listener serves it: only POST on the webhook path; the
/// ``AdmissionHandler`` answers on the spot when memory holds everything, or later after a fetch
/// from the API server.
struct WebhookEndpoint: HTTPEndpoint {
    let path: String
    let handler: AdmissionHandler

    func respond(to request: ServerRequest) -> ServerReply {
        // kube-apiserver appends `?timeout=10s` to the path.
        guard request.path == path else {
            return .now(.text(404, "no such path \(request.path); the admission webhook serves POST \(path)\n"))
        }
        guard request.method == "POST" else {
            var response = ServerResponse.text(405, "\(path) accepts POST with an AdmissionReview\n")
            response.extraHeaders = [("allow", "POST")]
            return .now(response)
        }
        switch handler.reviewNow(request.body.readableBytesView, started: request.started) {
        case .answered(let answer):
            return .now(Self.json(answer))
        case .waiting(let pending):
            let handler = self.handler
            return .later { Self.json(await handler.finish(pending)) }
        }
    }

    /// A body over the limit is an AdmissionReview that cannot be read: counted with the others
    /// and answered with a 400 kube-apiserver logs with the reason.
    func refused(_ refusal: Refusal, target: String?) -> ServerResponse {
        if case .bodyTooLarge(let limit) = refusal {
            return Self.json(handler.recordRejected(.bodyTooLarge(limit: limit), since: .now))
        }
        return .refusal(refusal)
    }

    static func json(_ answer: AdmissionHandler.Answer) -> ServerResponse {
        ServerResponse(status: answer.httpStatus, contentType: "application/json", body: ByteBuffer(bytes: answer.body))
    }
}
