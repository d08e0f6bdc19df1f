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
    /// the patch as base64 JSONPatch. Written straight to bytes: it is on every request's path.
    public func review(apiVersion: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(160 + patch.count * 160)
        output.append(contentsOf: #"{"apiVersion":"#.utf8)
        JSONValue.appendQuoted(apiVersion, to: &output)
        output.append(contentsOf: #","kind":"AdmissionReview","response":{"uid":"#.utf8)
        JSONValue.appendQuoted(uid, to: &output)
        output.append(contentsOf: (allowed ? #","allowed":true"# : #","allowed":false"#).utf8)
        if !patch.isEmpty {
            output.append(contentsOf: #","patchType":"JSONPatch","patch":""#.utf8)
            Base64.append(Self.patchDocument(patch), to: &output)
            output.append(UInt8(ascii: "\""))
        }
        if !warnings.isEmpty {
            output.append(contentsOf: #","warnings":"#.utf8)
            JSONValue.array(warnings.map { .string($0) }).serialize(into: &output)
        }
        if let status {
            output.append(contentsOf: #","status":"#.utf8)
            let value: JSONValue = [
                "status": allowed ? "Success" : "Failure", "code": .int(status.code),
                "reason": .string(status.reason), "message": .string(status.message),
            ]
            value.serialize(into: &output)
        }
        output.append(contentsOf: "}}".utf8)
        return output
    }

    /// The JSON Patch document, as `JSONPatch.document(_:)` would write it.
    static func patchDocument(_ operations: [JSONPatchOperation]) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "[")]
        output.reserveCapacity(operations.count * 160)
        for (position, operation) in operations.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"op":"#.utf8)
            JSONValue.appendQuoted(operation.op.rawValue, to: &output)
            output.append(contentsOf: #","path":"#.utf8)
            JSONValue.appendQuoted(operation.path, to: &output)
            if let from = operation.from {
                output.append(contentsOf: #","from":"#.utf8)
                JSONValue.appendQuoted(from, to: &output)
            }
            if operation.op == .add || operation.op == .replace || operation.op == .test {
                output.append(contentsOf: #","value":"#.utf8)
                (operation.value ?? .null).serialize(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "]"))
        return output
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
