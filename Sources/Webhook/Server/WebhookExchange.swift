import NIOCore

/// One webhook request turned into a response, the same for HTTP/1.1 and HTTP/2: only POST on
/// the webhook path is served; the ``AdmissionHandler`` answers on the spot when memory holds
/// everything, or later after a fetch from the API server.
struct WebhookExchange: Sendable {
    /// What to send back.
    struct Response: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]
        var extraHeaders: [(String, String)] = []
    }

    enum Outcome {
        case now(Response)
        case later(AdmissionHandler.PendingReview)
    }

    let path: String
    let maxBodyBytes: Int
    let handler: AdmissionHandler

    /// - Parameter target: the request target; kube-apiserver appends `?timeout=10s` to the path.
    func answer(target: String, isPost: Bool, body: ByteBuffer, tooLarge: Bool, started: ContinuousClock.Instant) -> Outcome {
        let requestPath = target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
        guard requestPath == path else {
            return .now(Self.text(404, "no such path \(requestPath); the admission webhook serves POST \(path)\n"))
        }
        guard isPost else {
            var response = Self.text(405, "\(path) accepts POST with an AdmissionReview\n")
            response.extraHeaders = [("allow", "POST")]
            return .now(response)
        }
        if tooLarge {
            return .now(Self.json(handler.recordRejected(.bodyTooLarge(limit: maxBodyBytes), since: started)))
        }
        switch handler.reviewNow(body.readableBytesView, started: started) {
        case .answered(let answer): return .now(Self.json(answer))
        case .waiting(let pending): return .later(pending)
        }
    }

    func finish(_ pending: AdmissionHandler.PendingReview) async -> Response {
        Self.json(await handler.finish(pending))
    }

    /// The rare path, a cache miss: finishes the review off the event loop and hands the response
    /// to `send` back on `loop`, where the connection's handler lives.
    func finishLater(_ pending: AdmissionHandler.PendingReview, on loop: any EventLoop, _ send: @escaping (Response) -> Void) {
        let bound = NIOLoopBound(send, eventLoop: loop)
        Task {
            let response = await finish(pending)
            loop.execute { bound.value(response) }
        }
    }

    static func json(_ answer: AdmissionHandler.Answer) -> Response {
        Response(status: answer.httpStatus, contentType: "application/json", body: answer.body)
    }

    static func text(_ status: Int, _ message: String) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: Array(message.utf8))
    }
}
