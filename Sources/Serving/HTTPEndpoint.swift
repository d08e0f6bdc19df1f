public import NIOCore

/// What a listener serves: it turns complete requests into responses. The listener owns
/// everything about the transport (TLS, HTTP/1.1 and HTTP/2, limits, deadlines); an endpoint
/// sees only requests that passed those limits, and says how to word the refusals of the others.
///
/// ``respond(to:)`` runs on the connection's event loop: answer at once (``ServerReply/now(_:)``)
/// when memory holds everything, or hand back work to do off the loop (``ServerReply/later(_:)``).
public protocol HTTPEndpoint: Sendable {
    func respond(to request: ServerRequest) -> ServerReply

    /// The response to a request the listener refused before it reached ``respond(to:)`` (too
    /// large, too slow, over the buffer budget). The default is a plain-text message.
    func refused(_ refusal: Refusal, target: String?) -> ServerResponse
}

extension HTTPEndpoint {
    public func refused(_ refusal: Refusal, target: String?) -> ServerResponse { .refusal(refusal) }
}

/// One complete request.
public struct ServerRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The request target as sent: a path, possibly with a query (kube-apiserver appends
    /// `?timeout=10s` to a webhook's path).
    public var target: String
    public var body: ByteBuffer
    /// When its first byte (HTTP/1.1) or its HEADERS frame (HTTP/2) arrived.
    public var started: ContinuousClock.Instant

    public init(method: String, target: String, body: ByteBuffer, started: ContinuousClock.Instant) {
        self.method = method
        self.target = target
        self.body = body
        self.started = started
    }

    /// The target without its query.
    public var path: Substring { Self.path(of: target) }

    /// A request target without its query.
    public static func path(of target: String) -> Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }
}

/// One response: written as one buffer on HTTP/1.1, HEADERS and DATA on HTTP/2.
public struct ServerResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: ByteBuffer
    public var extraHeaders: [(String, String)]

    public init(status: Int, contentType: String, body: ByteBuffer, extraHeaders: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = extraHeaders
    }

    /// A plain-text response.
    public static func text(_ status: Int, _ message: String) -> ServerResponse {
        ServerResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: message))
    }

    /// The plain-text answer to a refusal, with `retry-after` when retrying may succeed.
    public static func refusal(_ refusal: Refusal) -> ServerResponse {
        var response = text(refusal.status, refusal.message + "\n")
        if refusal.retryable { response.extraHeaders = [("retry-after", "1")] }
        return response
    }
}

/// How an endpoint answers.
public enum ServerReply: Sendable {
    /// The response, ready now.
    case now(ServerResponse)
    /// Work to finish off the event loop (a cache miss, a call into an actor); the connection
    /// answers when it is done, keeping HTTP/1.1 responses in request order.
    case later(@Sendable () async -> ServerResponse)
}

/// Why a listener refused a request before its endpoint saw it. A bounded set: a metrics label.
public enum Refusal: Sendable, Hashable {
    /// The body is larger than ``ListenerLimits/maxBodyBytes``.
    case bodyTooLarge(limit: Int)
    /// The request line and headers are larger than ``ListenerLimits/maxHeaderBytes``.
    case headersTooLarge(limit: Int)
    /// The headers did not arrive within ``ListenerLimits/headerTimeout``.
    case headerTimeout(Duration)
    /// The body did not arrive within ``ListenerLimits/requestTimeout``.
    case requestTimeout(Duration)
    /// Taking the body would exceed a buffered-bytes budget; the client may retry.
    case overBudget
    /// The bytes are not HTTP.
    case malformed

    /// The metrics label.
    public var reason: String {
        switch self {
        case .bodyTooLarge: "body_too_large"
        case .headersTooLarge: "headers_too_large"
        case .headerTimeout: "header_timeout"
        case .requestTimeout: "request_timeout"
        case .overBudget: "over_budget"
        case .malformed: "malformed"
        }
    }

    /// The HTTP status the refusal is answered with.
    public var status: Int {
        switch self {
        case .bodyTooLarge: 413
        case .headersTooLarge: 431
        case .headerTimeout, .requestTimeout: 408
        case .overBudget: 503
        case .malformed: 400
        }
    }

    /// Whether the same request may succeed if sent again shortly.
    public var retryable: Bool { self == .overBudget }

    public var message: String {
        switch self {
        case .bodyTooLarge(let limit): "the request body is larger than the \(limit) bytes this listener accepts"
        case .headersTooLarge(let limit): "the request line and headers are larger than the \(limit) bytes this listener accepts"
        case .headerTimeout(let limit): "the request headers did not arrive within \(limit)"
        case .requestTimeout(let limit): "the request did not arrive whole within \(limit)"
        case .overBudget: "too many request bytes are in flight; retry shortly"
        case .malformed: "the request is not valid HTTP/1.1"
        }
    }

    /// Every reason, for registering metrics up front.
    static let allReasons = ["body_too_large", "headers_too_large", "header_timeout", "request_timeout", "over_budget", "malformed"]
}
