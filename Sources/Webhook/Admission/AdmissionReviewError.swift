public import Kube

/// Why a request body is not an AdmissionReview the webhook can answer. The description is
/// sent back with HTTP 400, so it says what was wrong.
public enum AdmissionReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(JSONError)
    case notAnObject(String)
    case unsupportedAPIVersion(String?)
    case wrongKind(String?)
    case missingRequest
    case missingUID
    case bodyTooLarge(limit: Int)
    case unreadableBody(String)

    public var description: String {
        switch self {
        case .notJSON(let error):
            "the request body is not JSON (\(error)); send an admission.k8s.io/v1 AdmissionReview"
        case .notAnObject(let type):
            "the request body is a JSON \(type), not an AdmissionReview object"
        case .unsupportedAPIVersion(let version):
            "apiVersion \(version.map { "\"\($0)\"" } ?? "is missing"): expected admission.k8s.io/v1 or admission.k8s.io/v1beta1"
        case .wrongKind(let kind):
            "kind \(kind.map { "\"\($0)\"" } ?? "is missing"): expected AdmissionReview"
        case .missingRequest:
            "the AdmissionReview has no \"request\" object"
        case .missingUID:
            "the AdmissionReview request has no \"uid\"; the answer must echo it"
        case .bodyTooLarge(let limit):
            "the request body is larger than \(limit) bytes (webhook.maxBodyBytes)"
        case .unreadableBody(let reason):
            "the request body could not be read: \(reason)"
        }
    }
}
