import Capacity
import Foundation
import Kube
import Logging
import Prometheus
import Testing
import Webhook

/// The AdmissionReview envelope: versions, uid, dry runs, degraded lookups and bad input.
@Suite("AdmissionHandler: AdmissionReview in, AdmissionReview out")
struct AdmissionHandlerTests {
    let registry = PrometheusCollectorRegistry()
    let claims = [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")]

    func handler(_ lookups: StaticLookups? = nil) -> AdmissionHandler {
        AdmissionHandler(
            lookups: lookups ?? StaticLookups(namespaces: ["mysql": optedIn, "plain": [:]], claims: claims, storageClasses: allClasses),
            metrics: WebhookMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: quietLogger)
    }

    func metric(_ line: String) -> Bool { registry.emitToString().split(separator: "\n").contains { $0 == line } }

    @Test("v1 and v1beta1 are each answered in their own version, uid echoed, base64 JSONPatch")
    func versions() async throws {
        for version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let answer = await handler().review(admissionReview(pod: statefulSetPod(), uid: "uid-\(version)", apiVersion: version).serialized())
            #expect(answer.httpStatus == 200)
            let review = try JSONValue(parsing: answer.body)
            #expect(review["apiVersion"] == .string(version))
            #expect(review["kind"] == "AdmissionReview")
            #expect(review["response"]?["uid"] == .string("uid-\(version)"))
            #expect(review["response"]?["allowed"] == true)
            #expect(review["response"]?["patchType"] == "JSONPatch")
            #expect(try decodedPatch(review).count == 3)
            #expect(review["request"] == nil)
        }
        #expect(metric(#"rebound_webhook_requests_total{result="patched"} 2"#))
    }

    @Test("nothing to change: allowed with no patch and no patchType")
    func unchangedHasNoPatch() async throws {
        let answer = await handler().review(admissionReview(pod: statefulSetPod(), namespace: "plain").serialized())
        let response = try JSONValue(parsing: answer.body)["response"]
        #expect(response == ["uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": true])
        #expect(answer.result == .unchanged)
    }

    @Test("dryRun gets the identical answer and is counted as dry_run, not patched")
    func dryRun() async throws {
        let real = await handler().review(admissionReview(pod: statefulSetPod()).serialized())
        let dry = await handler().review(admissionReview(pod: statefulSetPod(), dryRun: true).serialized())
        #expect(real.body == dry.body)
        #expect(dry.result == .dryRun)
        #expect(metric(#"rebound_webhook_requests_total{result="dry_run"} 1"#))
        #expect(metric(#"rebound_webhook_requests_total{result="patched"} 1"#))
    }

    @Test("lookup failures admit the pod unchanged with a warning, counted by reason")
    func degraded() async throws {
        let failing = handler(StaticLookups(failure: LookupError(.cacheNotSynced, "the namespaces cache has not synced yet")))
        let answer = await failing.review(admissionReview(pod: statefulSetPod()).serialized())
        #expect(answer.httpStatus == 200)
        let response = try JSONValue(parsing: answer.body)["response"]
        #expect(response?["allowed"] == true)
        #expect(response?["patch"] == nil)
        #expect(response?["warnings"]?[0]?.stringValue?.contains("the namespaces cache has not synced yet") == true)
        #expect(metric(#"rebound_webhook_degraded_total{reason="cache_not_synced"} 1"#))
        #expect(metric(#"rebound_webhook_requests_total{result="degraded"} 1"#))
        #expect(registry.emitToString().contains("rebound_webhook_request_duration_seconds_count 1"))
    }

    @Test("UPDATE, subresources and unknown namespaces pass unchanged")
    func notOurs() async throws {
        let update = await handler().review(admissionReview(pod: statefulSetPod(), operation: "UPDATE").serialized())
        #expect(update.response?.patch.isEmpty == true && update.result == .unchanged)
        let binding: JSONValue = ["kind": "Binding", "apiVersion": "v1", "target": ["kind": "Node", "name": "dev1-node-2"]]
        let subresource = await handler().review(admissionReview(pod: binding, subResource: "binding").serialized())
        #expect(subresource.response?.patch.isEmpty == true && subresource.result == .unchanged)
        let unknown = await handler().review(admissionReview(pod: statefulSetPod(), namespace: "nowhere").serialized())
        #expect(unknown.response?.patch.isEmpty == true && unknown.result == .unchanged)
    }

    @Test("an object that is not a Pod: allowed unchanged, with a status and a warning saying why")
    func notAPod() async throws {
        var review = admissionReview(pod: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": [:]])
        review.set(["request", "kind"], ["group": "apps", "version": "v1", "kind": "Deployment"])
        let answer = await handler().review(review.serialized())
        #expect(answer.httpStatus == 200)
        let response = try JSONValue(parsing: answer.body)["response"]
        #expect(response?["allowed"] == true)
        #expect(response?["status"]?["code"] == 400)
        #expect(response?["status"]?["message"]?.stringValue?.contains("apps/Deployment, not Pod") == true)
        #expect(response?["warnings"]?.arrayValue?.count == 1)

        let noObject = admissionReview(pod: "just a string")
        let stringAnswer = try JSONValue(parsing: await handler().review(noObject.serialized()).body)
        #expect(stringAnswer["response"]?["status"]?["message"] == "request.object is a JSON string, not a Pod")
        #expect(metric(#"rebound_webhook_requests_total{result="invalid"} 2"#))
    }

    @Test("bodies that are not AdmissionReviews get HTTP 400 with a message saying what is wrong", arguments: [
        ("{not json", "not JSON"),
        ("[1, 2]", "a JSON array, not an AdmissionReview"),
        (#"{"apiVersion": "admission.k8s.io/v2", "kind": "AdmissionReview", "request": {"uid": "x"}}"#, #"apiVersion "admission.k8s.io/v2""#),
        (#"{"kind": "AdmissionReview", "request": {"uid": "x"}}"#, "apiVersion is missing"),
        (#"{"apiVersion": "admission.k8s.io/v1", "kind": "Pod", "request": {"uid": "x"}}"#, #"kind "Pod": expected AdmissionReview"#),
        (#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#, #"no "request" object"#),
        (#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"object": {}}}"#, #"no "uid""#),
        (#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": ""}}"#, #"no "uid""#),
        ("", "not JSON"),
    ])
    func badInput(body: String, message: String) async throws {
        let answer = await handler().review(Array(body.utf8))
        #expect(answer.httpStatus == 400)
        #expect(answer.result == .invalid)
        let status = try JSONValue(parsing: answer.body)
        #expect(status["kind"] == "Status")
        #expect(status["code"] == 400)
        let text = try #require(status["message"]?.stringValue)
        #expect(text.contains(message), "message: \(text)")
    }

    @Test("reading only the members the webhook needs gives the same patch as the whole pod")
    func subsetParsing() async throws {
        let claims = [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")]
        let request = try AdmissionRequest(parsing: admissionReview(pod: statefulSetPod()).serialized())
        let pod = try #require(request.pod)
        #expect(pod == AdmittedPod(pod: statefulSetPod()))
        #expect(pod.claims == [.persistentVolumeClaim(claimName: "data-my-cluster-mysql-0")])
        #expect(pod.metadata?.generateName == "my-cluster-mysql-" && pod.firstContainer?.resources?["limits"] != nil)
        let whole = PodMutator.mutate(
            pod: statefulSetPod(), namespaceLabels: optedIn, claims: ["data-my-cluster-mysql-0": claims[0]],
            storageClasses: StorageClassIndex(allClasses), keys: CompatibilityKeys())
        let answer = await handler().review(admissionReview(pod: statefulSetPod()).serialized())
        #expect(answer.response?.patch == whole.operations)
        // A member name written with escapes is the same name.
        let escaped = admissionReview(pod: statefulSetPod()).jsonString.replacingOccurrences(of: #""containers""#, with: #""\u0063ontainers""#)
        #expect(escaped.contains(#"\u0063ontainers"#))
        #expect(await handler().review(Array(escaped.utf8)).response?.patch == whole.operations)
        // Malformed JSON in a member that is skipped is still malformed JSON.
        var text = admissionReview(pod: statefulSetPod()).jsonString
        text = text.replacingOccurrences(of: #""dnsPolicy":"ClusterFirst""#, with: #""dnsPolicy":ClusterFirst"#)
        #expect(await handler().review(Array(text.utf8)).httpStatus == 400)
    }

    @Test("the pod's facts read from the review's bytes equal those of the pod parsed whole", arguments: [
        // Ephemeral volumes, non-object entries, an empty claim name, a bound node, annotations.
        #"{"kind":"Pod","metadata":{"name":"a","namespace":"n","annotations":{"x/y":"1","z":{"nested":[1,2]}}},"spec":{"nodeName":"node-1","volumes":[7,{"name":"e","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"csi-carina-sc","resources":{"requests":{"storage":"3Gi"}}}}}},{"name":"p","persistentVolumeClaim":{"claimName":""}},{"name":"q","persistentVolumeClaim":{"claimName":"data"}}],"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}},{"name":"d"}]}}"#,
        // Repeated members: the last one counts.
        #"{"spec":{"volumes":[{"persistentVolumeClaim":{"claimName":"first"}}],"volumes":[{"persistentVolumeClaim":{"claimName":"second"}}]},"metadata":{"name":"one"},"metadata":{"generateName":"two-"}}"#,
        #"{"spec":{"nodeName":"x","containers":[{"resources":{}}]},"spec":{"containers":[{"name":"no-resources"}]}}"#,
        // Members of the wrong type.
        #"{"kind":5,"metadata":[],"spec":{"volumes":{},"containers":[[]],"nodeName":null}}"#,
        #"{"metadata":{"annotations":"none","name":null},"spec":"none"}"#,
        #"{}"#,
        // Escaped member names are the same names.
        #"{"\u006bind":"Pod","sp\u0065c":{"c\u006fntainers":[{"resources":{"limits":{"a":"1"}}}]}}"#,
    ])
    func factsFromBytes(pod text: String) throws {
        let whole = try JSONValue(parsing: Array(text.utf8))
        let review = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":"# + text + "}}"
        let request = try AdmissionRequest(parsing: Array(review.utf8))
        #expect(request.pod == AdmittedPod(pod: whole), "\(text)")
    }

    @Test("a missing claim is admitted unchanged")
    func missingClaim() async throws {
        let handler = handler(StaticLookups(namespaces: ["mysql": optedIn], claims: [], storageClasses: allClasses))
        let answer = await handler.review(admissionReview(pod: statefulSetPod()).serialized())
        #expect(answer.response == AdmissionResponse(uid: "705ab4f5-6393-11e8-b7cc-42010a800002"))
        #expect(answer.result == .unchanged)
    }
}
