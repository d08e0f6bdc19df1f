/// A failed API request, typed by the `reason` of the `Status` the server sent.
///
/// The API server (and ClusterSim, which builds its answers with the factories below) reports
/// failures as a `metav1.Status`; this carries it whole so callers can switch on ``reason``.
public struct KubeAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `metav1.StatusReason`, plus cases for answers that carried no reason.
    public enum Reason: String, Sendable, Hashable {
        case unauthorized = "Unauthorized"
        case forbidden = "Forbidden"
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case gone = "Gone"
        case expired = "Expired"
        case invalid = "Invalid"
        case badRequest = "BadRequest"
        case methodNotAllowed = "MethodNotAllowed"
        case notAcceptable = "NotAcceptable"
        case requestEntityTooLarge = "RequestEntityTooLarge"
        case unsupportedMediaType = "UnsupportedMediaType"
        case tooManyRequests = "TooManyRequests"
        case internalError = "InternalError"
        case serviceUnavailable = "ServiceUnavailable"
        case timeout = "Timeout"
        case serverTimeout = "ServerTimeout"
        case unknown = ""
    }

    public var code: Int
    public var reason: Reason
    public var status: Status
    /// How long the server asked the client to wait (`Retry-After` or `details.retryAfterSeconds`).
    public var retryAfterSeconds: Int?

    public init(code: Int, status: Status, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.status = status
        self.reason = Reason(rawValue: status.reason ?? "") ?? Self.reason(forCode: code)
        if self.reason == .unknown { self.reason = Self.reason(forCode: code) }
        self.retryAfterSeconds = retryAfterSeconds ?? status.details?.retryAfterSeconds.map(Int.init)
    }

    /// The reason Kubernetes' client infers from a bare HTTP status code.
    public static func reason(forCode code: Int) -> Reason {
        switch code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 406: .notAcceptable
        case 409: .conflict
        case 410: .gone
        case 413: .requestEntityTooLarge
        case 415: .unsupportedMediaType
        case 422: .invalid
        case 429: .tooManyRequests
        case 500: .internalError
        case 503: .serviceUnavailable
        case 504: .timeout
        default: .unknown
        }
    }

    public var message: String { status.message ?? "HTTP \(code)" }

    public var description: String { "\(message) (HTTP \(code)\(reason == .unknown ? "" : ", \(reason.rawValue)"))" }

    public var isNotFound: Bool { reason == .notFound }
    public var isConflict: Bool { reason == .conflict }
    public var isAlreadyExists: Bool { reason == .alreadyExists }
    /// 410: the resource version asked for is no longer available; relist.
    public var isGone: Bool { code == 410 || reason == .gone || reason == .expired }
    /// Worth retrying after a pause: throttling, server errors and timeouts.
    public var isRetryable: Bool { code == 429 || code >= 500 || reason == .serverTimeout || reason == .timeout }

    // MARK: Factories with the API server's messages

    public static func make(_ code: Int, _ reason: Reason, _ message: String, details: Status.Details? = nil, retryAfter: Int? = nil) -> KubeAPIError {
        var details = details
        if let retryAfter {
            details = details ?? Status.Details()
            details?.retryAfterSeconds = Int32(retryAfter)
        }
        return KubeAPIError(code: code, status: Status(status: "Failure", message: message, reason: reason.rawValue, details: details, code: code), retryAfterSeconds: retryAfter)
    }

    public static func notFound(_ resource: ResourceType, name: String) -> KubeAPIError {
        make(404, .notFound, "\(resource) \"\(name)\" not found", details: Status.Details(name: name, group: resource.group.isEmpty ? nil : resource.group, kind: resource.plural))
    }

    public static func alreadyExists(_ resource: ResourceType, name: String) -> KubeAPIError {
        make(409, .alreadyExists, "\(resource) \"\(name)\" already exists", details: Status.Details(name: name, group: resource.group.isEmpty ? nil : resource.group, kind: resource.plural))
    }

    public static func conflict(_ resource: ResourceType, name: String, _ problem: String) -> KubeAPIError {
        make(409, .conflict, "Operation cannot be fulfilled on \(resource) \"\(name)\": \(problem)", details: Status.Details(name: name, group: resource.group.isEmpty ? nil : resource.group, kind: resource.plural))
    }

    public static func expired(_ message: String) -> KubeAPIError { make(410, .expired, message) }

    public static func badRequest(_ message: String) -> KubeAPIError { make(400, .badRequest, message) }

    public static func invalid(_ resource: ResourceType, name: String, _ problem: String, field: String? = nil) -> KubeAPIError {
        make(422, .invalid, "\(resource.kind) \"\(name)\" is invalid: \(field.map { "\($0): " } ?? "")\(problem)",
             details: Status.Details(name: name, group: resource.group.isEmpty ? nil : resource.group, kind: resource.kind,
                                     causes: [Status.Details.Cause(reason: "FieldValueInvalid", message: problem, field: field)]))
    }

    public static func methodNotAllowed(_ message: String) -> KubeAPIError { make(405, .methodNotAllowed, message) }

    public static func unauthorized() -> KubeAPIError { make(401, .unauthorized, "Unauthorized") }

    public static func tooManyRequests(retryAfter: Int) -> KubeAPIError {
        make(429, .tooManyRequests, "Too many requests, please try again later.", retryAfter: retryAfter)
    }

    public static func internalError(_ message: String) -> KubeAPIError { make(500, .internalError, "Internal error occurred: \(message)") }

    public static func tooLarge(_ message: String) -> KubeAPIError { make(413, .requestEntityTooLarge, message) }

    public static func unsupportedMediaType(_ contentType: String) -> KubeAPIError {
        make(415, .unsupportedMediaType, "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \(contentType))")
    }
}
