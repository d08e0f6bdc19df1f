public import Capacity
import Kube
public import Logging

/// Answers AdmissionReviews for pods: parses the review, gathers what the decision needs through
/// ``AdmissionLookups``, asks ``PodMutator`` and writes the answer. Transport-free: the server
/// hands it a body and sends back what it returns.
///
/// A review is answered at once (``reviewNow(_:)``) when memory holds everything; only a cache
/// miss makes it wait for the API server (``finish(_:)``).
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

    /// Where a review stands after ``reviewNow(_:)``.
    public enum Progress: Sendable {
        case answered(Answer)
        /// It needs an object memory does not hold; ``finish(_:)`` fetches it and answers.
        case waiting(PendingReview)
    }

    /// A review waiting for an object from the API server.
    public struct PendingReview: Sendable {
        let request: AdmissionRequest
        let namespace: String
        let started: ContinuousClock.Instant
        var fetched = FetchedObjects()
        var missing: ClusterObjectReference
    }

    /// Objects fetched from the API server for one review; a nil value means "does not exist".
    struct FetchedObjects: Sendable {
        var namespaces: [String: [String: String]?] = [:]
        var claims: [String: PersistentVolumeClaim?] = [:]
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

    /// Answers one request body, waiting for the API server if it must.
    public func review(_ body: some Collection<UInt8>) async -> Answer {
        switch reviewNow(body) {
        case .answered(let answer): answer
        case .waiting(let pending): await finish(pending)
        }
    }

    /// Answers one request body from memory if it can; records the result and time taken of
    /// every answered review.
    public func reviewNow(_ body: some Collection<UInt8>, started: ContinuousClock.Instant = .now) -> Progress {
        let request: AdmissionRequest
        do {
            request = try AdmissionRequest(parsing: body)
        } catch {
            return .answered(record(reject(error), since: started))
        }
        // Subresources (pods/binding, pods/eviction) are CREATEs too, but of other objects.
        guard request.operation == "CREATE", (request.subResource ?? "").isEmpty else {
            return .answered(record(answer(request, AdmissionResponse(uid: request.uid), .unchanged), since: started))
        }
        if let reason = request.notAPodReason {
            // Allowed: a misconfigured webhook must not block objects it does not understand.
            logger.warning("admitted an object that is not a Pod unchanged", metadata: ["uid": "\(request.uid)", "reason": "\(reason)"])
            let response = AdmissionResponse(
                uid: request.uid, warnings: ["rebound: \(reason); admitted without changes"],
                status: .init(code: 400, reason: "BadRequest", message: reason))
            return .answered(record(answer(request, response, .invalid), since: started))
        }
        let pod = request.pod ?? AdmittedPod()
        let namespace = request.namespace ?? pod.metadata?.namespace ?? ""
        do {
            switch try step(pod: pod, namespace: namespace, fetched: FetchedObjects()) {
            case .decided(let mutation):
                return .answered(record(complete(request, pod: pod, namespace: namespace, mutation), since: started))
            case .needs(let missing):
                return .waiting(PendingReview(request: request, namespace: namespace, started: started, missing: missing))
            }
        } catch {
            return .answered(record(degraded(request, pod: pod, namespace: namespace, error), since: started))
        }
    }

    /// Fetches what a waiting review needs and answers it.
    public func finish(_ pending: PendingReview) async -> Answer {
        var pending = pending
        let request = pending.request
        let pod = request.pod ?? AdmittedPod()
        while true {
            do {
                let fetched = try await lookups.fetch(pending.missing)
                switch pending.missing {
                case .namespace(let name):
                    if case .namespace(let namespace)? = fetched {
                        pending.fetched.namespaces[name] = .some(namespace.metadata.labels ?? [:])
                    } else {
                        pending.fetched.namespaces[name] = .some(nil)
                    }
                case .claim(_, let name):
                    if case .claim(let claim)? = fetched {
                        pending.fetched.claims[name] = .some(claim)
                    } else {
                        pending.fetched.claims[name] = .some(nil)
                    }
                }
                switch try step(pod: pod, namespace: pending.namespace, fetched: pending.fetched) {
                case .decided(let mutation):
                    return record(complete(request, pod: pod, namespace: pending.namespace, mutation), since: pending.started)
                case .needs(let missing):
                    pending.missing = missing
                }
            } catch {
                return record(degraded(request, pod: pod, namespace: pending.namespace, error), since: pending.started)
            }
        }
    }

    /// The HTTP 400 answer for a body that is not an AdmissionReview.
    public func reject(_ error: AdmissionReviewError) -> Answer {
        logger.notice("rejected a request that is not an AdmissionReview", metadata: ["error": "\(error)"])
        return Answer(httpStatus: 400, body: AdmissionResponse.badRequestBody(error), result: .invalid, response: nil)
    }

    /// The HTTP 400 answer for a body the server could not hand over (too large, unreadable),
    /// counted like any other request.
    public func recordRejected(_ error: AdmissionReviewError, since started: ContinuousClock.Instant) -> Answer {
        record(reject(error), since: started)
    }

    // MARK: Deciding

    enum Step {
        case decided(PodMutation)
        case needs(ClusterObjectReference)
    }

    /// Gathers the namespace labels, claims and classes from memory (and what was fetched), then
    /// asks ``PodMutator``; or names the first object memory does not hold.
    func step(pod: AdmittedPod, namespace: String, fetched: FetchedObjects) throws(LookupError) -> Step {
        let labels: [String: String]
        if let known = fetched.namespaces[namespace] {
            labels = known ?? [:]
        } else {
            switch try lookups.namespaceLabels(namespace) {
            case .found(let found): labels = found
            // A namespace that does not exist has no opt-in label.
            case .absent: labels = [:]
            case .unknown: return .needs(.namespace(namespace))
            }
        }
        guard labels[keys.namespaceLabel] == "true" else { return .decided(PodMutation(outcome: .namespaceNotOptedIn)) }
        let references = pod.claims
        var claims: [String: PersistentVolumeClaim] = [:]
        // The first missing claim decides the outcome; later ones need not be looked up.
        gathering: for case .persistentVolumeClaim(let name) in references where claims[name] == nil {
            if let known = fetched.claims[name] {
                guard let claim = known else { break gathering }
                claims[name] = claim
                continue
            }
            switch try lookups.claim(namespace: namespace, name: name) {
            case .found(let claim): claims[name] = claim
            case .absent: break gathering
            case .unknown: return .needs(.claim(namespace: namespace, name: name))
            }
        }
        let classes = references.isEmpty ? StorageClassIndex([]) : try lookups.storageClasses()
        return .decided(PodMutator.mutate(facts: pod, namespaceLabels: labels, claims: claims, storageClasses: classes, keys: keys))
    }

    // MARK: Answering

    private func complete(_ request: AdmissionRequest, pod: AdmittedPod, namespace: String, _ mutation: PodMutation) -> Answer {
        let result: WebhookResult = mutation.outcome == .patched ? (request.dryRun ? .dryRun : .patched) : .unchanged
        var warnings: [String] = []
        if case .unreadableRequest(let error)? = mutation.capacity {
            // Hostile or absurd input: admitted (Rebound never blocks a pod), but not routed.
            metrics.recordUnreadableRequest()
            logger.warning("pod not routed: a storage request cannot be read", metadata: [
                "pod": "\(Self.describe(pod, namespace: namespace))", "field": "\(error.field)", "problem": "\(error.problem)",
            ])
            warnings.append("rebound: not routed to the scheduler extender: \(error)")
        }
        if logger.logLevel <= .debug || mutation.outcome.isNoteworthy {
            var metadata: Logger.Metadata = [
                "pod": "\(Self.describe(pod, namespace: namespace))", "outcome": "\(mutation.outcome)", "result": "\(result.rawValue)",
            ]
            if let capacity = mutation.capacity { metadata["capacity"] = "\(capacity.summary)" }
            if request.dryRun { metadata["dryRun"] = "true" }
            logger.log(level: mutation.outcome.isNoteworthy ? .notice : .debug, "pod admitted", metadata: metadata)
        }
        return answer(request, AdmissionResponse(uid: request.uid, patch: mutation.operations, warnings: warnings), result)
    }

    private func degraded(_ request: AdmissionRequest, pod: AdmittedPod, namespace: String, _ error: LookupError) -> Answer {
        metrics.recordDegraded(error.reason)
        logger.warning("admitted a pod unchanged because of a lookup failure", metadata: [
            "pod": "\(Self.describe(pod, namespace: namespace))", "reason": "\(error.reason.rawValue)", "error": "\(error.message)",
        ])
        let response = AdmissionResponse(uid: request.uid, warnings: ["rebound: admitted without changes: \(error.message)"])
        return answer(request, response, .degraded)
    }

    private func answer(_ request: AdmissionRequest, _ response: AdmissionResponse, _ result: WebhookResult) -> Answer {
        Answer(httpStatus: 200, body: response.review(apiVersion: request.apiVersion), result: result, response: response)
    }

    private func record(_ answer: Answer, since started: ContinuousClock.Instant) -> Answer {
        metrics.record(answer.result, duration: ContinuousClock.now - started)
        return answer
    }

    /// `namespace/name`, or `namespace/generateName*` for pods from templates, which have no name yet.
    static func describe(_ pod: AdmittedPod, namespace: String) -> String {
        if let name = pod.metadata?.name, !name.isEmpty { return "\(namespace)/\(name)" }
        return "\(namespace)/\(pod.metadata?.generateName ?? "")*"
    }
}

extension PodMutation.Outcome {
    /// Outcomes worth a log line at the default level: an opted-in pod Rebound could not handle.
    var isNoteworthy: Bool {
        if case .claimMissing = self { return true }
        return false
    }
}
