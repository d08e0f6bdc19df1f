import Foundation
public import Kube

/// The webhook's answer to one AdmissionReview, serialised in the review's own version.
public struct AdmissionResponse: Sendable, Equatable {
    /// A `metav1.Status` carried by the response, explaining an unusual answer.
    public struct Status: Sendable, Equatable {
        public var code: Int
        public var reason: String
        public var message: String

        public init(code: Int, reason: String, message: String) {
            self.code = code
            self.reason = reason
            self.message = message
        }
    }

    public var uid: String
    public var allowed = true
    /// Applied by the API server; nil or empty means "no change" (and no patchType is sent).
    public var patch: [JSONPatchOperation] = []
    /// Shown to the client that created the pod (kubectl prints them).
    public var warnings: [String] = []
    public var status: Status?

    public init(uid: String, allowed: Bool = true, patch: [JSONPatchOperation] = [], warnings: [String] = [], status: Status? = nil) {
        self.uid = uid
        self.allowed = allowed
        self.patch = patch
        self.warnings = warnings
        self.status = status
    }

    /// The full AdmissionReview JSON: same apiVersion and kind as the request, uid echoed,
    /// the patch as base64 JSONPatch.
    public func review(apiVersion: String) -> [UInt8] {
        var response: JSONObject = ["uid": .string(uid), "allowed": .bool(allowed)]
        if !patch.isEmpty {
            response["patchType"] = "JSONPatch"
            response["patch"] = .string(Data(JSONPatch.document(patch).serialized()).base64EncodedString())
        }
        if !warnings.isEmpty { response["warnings"] = .array(warnings.map { .string($0) }) }
        if let status {
            response["status"] = [
                "status": allowed ? "Success" : "Failure", "code": .int(status.code),
                "reason": .string(status.reason), "message": .string(status.message),
            ]
        }
        let review: JSONValue = ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": .object(response)]
        return review.serialized()
    }

    /// The body of an HTTP 400 for a request that is not an AdmissionReview at all.
    public static func badRequestBody(_ error: AdmissionReviewError) -> [UInt8] {
        let status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(error.description), "reason": "BadRequest", "code": 400,
        ]
        return status.serialized()
    }
}
