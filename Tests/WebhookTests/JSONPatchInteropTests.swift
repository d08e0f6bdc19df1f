import Capacity
import Foundation
import Kube
import Logging
import TestSupport
import Testing
import Webhook

/// The patches the webhook sends, applied by an independent RFC 6902 implementation (Python's
/// `jsonpatch`, as CI installs it) to the pod exactly as it was sent.
@Suite("JSON Patch interoperability with Python's jsonpatch", .requiresPython("jsonpatch"))
struct JSONPatchInteropTests {
    static let script = """
        import json, sys
        try:
            import jsonpatch
        except ImportError:
            print("MISSING: python3 module jsonpatch is not installed; run: python3 -m pip install jsonpatch (.ci/run does)")
            sys.exit(3)
        original = json.load(open(sys.argv[1]))
        patch = json.load(open(sys.argv[2]))
        expected = json.load(open(sys.argv[3]))
        result = jsonpatch.apply_patch(original, patch)
        json.dump(result, open(sys.argv[4], "w"))
        print("EQUAL" if result == expected else "DIFFERENT")
        """

    /// Applies `patch` to `originalText` with Python and compares with `expected` there (order-insensitive).
    func applyWithPython(originalText: String, patch: [JSONPatchOperation], expected: JSONValue) async throws -> JSONValue {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-jsonpatch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try originalText.write(toFile: directory + "/original.json", atomically: true, encoding: .utf8)
        try JSONPatch.document(patch).jsonString.write(toFile: directory + "/patch.json", atomically: true, encoding: .utf8)
        try expected.jsonString.write(toFile: directory + "/expected.json", atomically: true, encoding: .utf8)
        let python = try await run("/usr/bin/env", [
            "python3", "-c", Self.script,
            directory + "/original.json", directory + "/patch.json", directory + "/expected.json", directory + "/result.json",
        ])
        try #require(!python.output.contains("MISSING"), "\(python.output)")
        try #require(python.status == 0, "python3 failed: \(python.output)")
        #expect(python.output.contains("EQUAL") && !python.output.contains("DIFFERENT"), "jsonpatch's result differs from the expected pod")
        return try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/result.json"))))
    }

    /// The patch the handler answers with for `pod`, decoded from the AdmissionReview on the wire.
    func patchFromHandler(pod: JSONValue, claims: [PersistentVolumeClaim]) async throws -> [JSONPatchOperation] {
        let handler = AdmissionHandler(lookups: StaticLookups(namespaces: ["mysql": optedIn], claims: claims, storageClasses: allClasses), logger: quietLogger)
        let answer = await handler.review(admissionReview(pod: pod).serialized())
        #expect(answer.httpStatus == 200)
        let review = try JSONValue(parsing: answer.body)
        #expect(review["response"]?["patchType"] == "JSONPatch")
        return try decodedPatch(review)
    }

    @Test("a pod without annotations: the result is the expected pod with every original field intact")
    func podWithoutAnnotations() async throws {
        let pod = statefulSetPod()
        let patch = try await patchFromHandler(pod: pod, claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")])
        var expected = pod
        expected.set(["metadata", "annotations"], [
            "carina.storage.io/allow-pod-migration-if-node-notready": "true", "rebound.io/volume-requests": #"{"carina-vg-hdd":1}"#,
        ])
        expected.set(["spec", "containers"], .array(pod["spec"]!["containers"]!.arrayValue!.enumerated().map { index, container in
            guard index == 0 else { return container }
            var container = container
            container.set(["resources", "requests", "rebound.io/local-capacity"], "1")
            container.set(["resources", "limits", "rebound.io/local-capacity"], "1")
            return container
        }))
        let result = try await applyWithPython(originalText: statefulSetPodJSON, patch: patch, expected: expected)
        // Fields no Rebound model knows came through untouched.
        #expect(result["spec"]?["x-vendor-extension"]?["nothing"] == .null)
        #expect(result["spec"]?["x-vendor-extension"]?["flag"] == false)
        #expect(result["spec"]?["os"] == ["name": "linux"])
        #expect(result["spec"]?["schedulingGates"] == [])
        #expect(result["spec"]?["containers"]?[0]?["resizePolicy"] == pod["spec"]?["containers"]?[0]?["resizePolicy"])
        #expect(result["metadata"]?["managedFields"]?.sortedKeys == pod["metadata"]?["managedFields"]?.sortedKeys)
        #expect(result["metadata"]?["creationTimestamp"] == .null)
        #expect(result["metadata"]?["name"] == nil)
    }

    @Test("existing annotations with keys that need escaping, and stale values replaced")
    func escapedKeysAndStaleValues() async throws {
        var pod = statefulSetPod()
        pod.set(["metadata", "annotations"], ["example.com/owner~team": "db", "a/b~1c": "literal ~1 in a key", "rebound.io/volume-requests": #"{"carina-vg-hdd":9}"#])
        var containers = pod["spec"]!["containers"]!.arrayValue!
        containers[0]["resources"] = ["limits": ["rebound.io/local-capacity": "9"]]
        pod.set(["spec", "containers"], .array(containers))
        let originalText = pod.jsonString

        let patch = try await patchFromHandler(pod: pod, claims: [claim("data-my-cluster-mysql-0", size: "1536Mi", storageClass: "csi-carina-sc")])
        #expect(patch.contains { $0.op == .replace })
        var expected = pod
        expected.set(["metadata", "annotations", "carina.storage.io/allow-pod-migration-if-node-notready"], "true")
        expected.set(["metadata", "annotations", "rebound.io/volume-requests"], #"{"carina-vg-hdd":2}"#)
        containers[0]["resources"] = ["limits": ["rebound.io/local-capacity": "2"], "requests": ["rebound.io/local-capacity": "2"]]
        expected.set(["spec", "containers"], .array(containers))
        let result = try await applyWithPython(originalText: originalText, patch: patch, expected: expected)
        #expect(result["metadata"]?["annotations"]?["a/b~1c"] == "literal ~1 in a key")
        #expect(result["metadata"]?["annotations"]?["example.com/owner~team"] == "db")
    }
}
