public import Capacity
import Kube
public import Logging

/// Answers AdmissionReviews for pods: parses the review, gathers what the decision needs through
/// ``AdmissionLookups``, asks ``PodMutator`` and writes the answer. Transport-free: the server
/// hands it a body and sends back what it returns.
///
/// Rebound's own trouble never blocks a pod: when a lookup fails the pod is admitted unchanged
/// with a warning, a log line and `rebound_webhook_degraded_total{reason}`.
public struct AdmissionHandler: Sendable {
    /// What to send back over HTTP.
    public struct Answer: Sendable {
        /// 200 for every AdmissionReview answered, 400 for a body that is not one.
        public var httpStatus: Int
        public var body: [UInt8]
        public var result: WebhookResult
        /// The decoded answer (nil for HTTP 400), for logs and tests.
        public var response: AdmissionResponse?
    }

    public let keys: CompatibilityKeys
    let lookups: any AdmissionLookups
    let metrics: WebhookMetrics
    let logger: Logger

    public init(lookups: any AdmissionLookups, keys: CompatibilityKeys = CompatibilityKeys(), metrics: WebhookMetrics = WebhookMetrics(), logger: Logger = Logger(label: "rebound.webhook")) {
        self.lookups = lookups
        self.keys = keys
        self.metrics = metrics
        self.logger = logger
    }

    /// Answers one request body, recording the result and the time taken.
    public func review(_ body: some Collection<UInt8>) async -> Answer {
        let started = ContinuousClock.now
        let answer: Answer
        do {
            let request = try AdmissionRequest(parsing: body)
            answer = await review(request)
        } catch {
            answer = reject(error)
        }
        metrics.record(answer.result, duration: ContinuousClock.now - started)
        return answer
    }

    /// The HTTP 400 answer for a body that is not an AdmissionReview (also used by the server
    /// for bodies it could not read).
    public func reject(_ error: AdmissionReviewError) -> Answer {
        logger.notice("rejected a request that is not an AdmissionReview", metadata: ["error": "\(error)"])
        return Answer(httpStatus: 400, body: AdmissionResponse.badRequestBody(error), result: .invalid, response: nil)
    }

    /// The HTTP 400 answer for a body the server could not hand over (too large, unreadable),
    /// counted like any other request.
    public func recordRejected(_ error: AdmissionReviewError, duration: Duration) -> Answer {
        let answer = reject(error)
        metrics.record(.invalid, duration: duration)
        return answer
    }

    /// Answers a parsed review.
    public func review(_ request: AdmissionRequest) async -> Answer {
        // Subresources (pods/binding, pods/eviction) are CREATEs too, but of other objects.
        guard request.operation == "CREATE", (request.subResource ?? "").isEmpty else {
            return answer(request, AdmissionResponse(uid: request.uid), .unchanged)
        }
        if let reason = request.notAPodReason {
            // Allowed: a misconfigured webhook must not block objects it does not understand.
            logger.warning("admitted an object that is not a Pod unchanged", metadata: ["uid": "\(request.uid)", "reason": "\(reason)"])
            let response = AdmissionResponse(
                uid: request.uid, warnings: ["rebound: \(reason); admitted without changes"],
                status: .init(code: 400, reason: "BadRequest", message: reason))
            return answer(request, response, .invalid)
        }
        let pod = request.object ?? .emptyObject
        let namespace = request.namespace ?? pod["metadata"]?["namespace"]?.stringValue ?? ""
        let mutation: PodMutation
        do {
            mutation = try await decide(pod: pod, namespace: namespace)
        } catch {
            metrics.recordDegraded(error.reason)
            logger.warning("admitted a pod unchanged because of a lookup failure", metadata: [
                "pod": "\(Self.describe(pod, namespace: namespace))", "reason": "\(error.reason.rawValue)", "error": "\(error.message)",
            ])
            let response = AdmissionResponse(uid: request.uid, warnings: ["rebound: admitted without changes: \(error.message)"])
            return answer(request, response, .degraded)
        }
        let result: WebhookResult = mutation.outcome == .patched ? (request.dryRun ? .dryRun : .patched) : .unchanged
        if logger.logLevel <= .debug || mutation.outcome.isNoteworthy {
            var metadata: Logger.Metadata = [
                "pod": "\(Self.describe(pod, namespace: namespace))", "outcome": "\(mutation.outcome)", "result": "\(result.rawValue)",
            ]
            if let capacity = mutation.capacity { metadata["capacity"] = "\(capacity.summary)" }
            if request.dryRun { metadata["dryRun"] = "true" }
            logger.log(level: mutation.outcome.isNoteworthy ? .notice : .debug, "pod admitted", metadata: metadata)
        }
        return answer(request, AdmissionResponse(uid: request.uid, patch: mutation.operations), result)
    }

    /// Gathers the namespace labels, claims and classes, then asks ``PodMutator``.
    func decide(pod: JSONValue, namespace: String) async throws(LookupError) -> PodMutation {
        // A namespace the API server does not know has no opt-in label.
        let labels = try await lookups.namespaceLabels(namespace) ?? [:]
        guard labels[keys.namespaceLabel] == "true" else { return PodMutation(outcome: .namespaceNotOptedIn) }
        let references = PodClaimReference.all(in: pod)
        var claims: [String: PersistentVolumeClaim] = [:]
        for case .persistentVolumeClaim(let name) in references where claims[name] == nil {
            // The first missing claim decides the outcome; later ones need not be looked up.
            guard let claim = try await lookups.claim(namespace: namespace, name: name) else { break }
            claims[name] = claim
        }
        let classes = references.isEmpty ? [] : try await lookups.storageClasses()
        return PodMutator.mutate(pod: pod, namespaceLabels: labels, claims: claims, storageClasses: StorageClassIndex(classes), keys: keys)
    }

    private func answer(_ request: AdmissionRequest, _ response: AdmissionResponse, _ result: WebhookResult) -> Answer {
        Answer(httpStatus: 200, body: response.review(apiVersion: request.apiVersion), result: result, response: response)
    }

    /// `namespace/name`, or `namespace/generateName*` for pods from templates, which have no name yet.
    static func describe(_ pod: JSONValue, namespace: String) -> String {
        let metadata = pod["metadata"]
        if let name = metadata?["name"]?.stringValue, !name.isEmpty { return "\(namespace)/\(name)" }
        return "\(namespace)/\(metadata?["generateName"]?.stringValue ?? "")*"
    }
}

extension PodMutation.Outcome {
    /// Outcomes worth a log line at the default level: an opted-in pod Rebound could not handle.
    var isNoteworthy: Bool {
        if case .claimMissing = self { return true }
        return false
    }
}
