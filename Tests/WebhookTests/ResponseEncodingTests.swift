import Foundation
import Kube
import Testing
import Webhook

/// The AdmissionReview answer is written by hand for speed; it must say exactly what the
/// general JSON writer and Foundation's base64 would.
@Suite("AdmissionResponse encoding")
struct ResponseEncodingTests {
    @Test("the base64 patch decodes to the JSON Patch document, for every padding length")
    func patchEncoding() throws {
        for length in 0..<7 {
            let value = JSONValue.string(String(repeating: "é\"\\/~x", count: length))
            var operations: [JSONPatchOperation] = [.add(JSONPointer(tokens: ["metadata", "annotations", "a/b~c"]), value)]
            operations.append(JSONPatchOperation(op: .replace, path: "/spec/x", value: ["n": .number("1.5e3"), "list": [.null, true]]))
            operations.append(JSONPatchOperation(op: .move, path: "/spec/y", from: "/spec/z"))
            for count in 1...operations.count {
                let slice = Array(operations.prefix(count))
                let review = try JSONValue(parsing: AdmissionResponse(uid: "u\"\(length)", patch: slice).review(apiVersion: "admission.k8s.io/v1"))
                let text = try #require(review["response"]?["patch"]?.stringValue)
                let decoded = try #require(Data(base64Encoded: text))
                #expect(Array(decoded) == JSONPatch.document(slice).serialized())
                #expect(text == Data(JSONPatch.document(slice).serialized()).base64EncodedString())
                #expect(review["response"]?["uid"] == .string("u\"\(length)"))
            }
        }
    }

    @Test("warnings and a status are written as JSON")
    func warningsAndStatus() throws {
        let response = AdmissionResponse(uid: "x", allowed: false, warnings: ["one \"quoted\"", "two"], status: .init(code: 400, reason: "BadRequest", message: "no\nway"))
        let review = try JSONValue(parsing: response.review(apiVersion: "admission.k8s.io/v1beta1"))
        #expect(review == [
            "apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
            "response": [
                "uid": "x", "allowed": false, "warnings": ["one \"quoted\"", "two"],
                "status": ["status": "Failure", "code": 400, "reason": "BadRequest", "message": "no\nway"],
            ],
        ])
    }
}
