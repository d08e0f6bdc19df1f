public import CoreMetrics

/// The webhook's metrics, created once so a request only increments them:
/// `rebound_webhook_requests_total{result}`, `rebound_webhook_degraded_total{reason}`,
/// `rebound_webhook_unreadable_requests_total` (pods not routed because a storage request could
/// not be read) and the `rebound_webhook_request_duration_seconds` timer.
public struct WebhookMetrics: Sendable {
    private let requests: [WebhookResult: Counter]
    private let degraded: [LookupError.Reason: Counter]
    private let duration: Timer
    private let unreadable: Counter

    /// - Parameter factory: where the metrics go; the process-wide factory by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        var requests: [WebhookResult: Counter] = [:]
        for result in WebhookResult.allCases {
            requests[result] = Counter(label: "rebound_webhook_requests_total", dimensions: [("result", result.rawValue)], factory: factory)
        }
        var degraded: [LookupError.Reason: Counter] = [:]
        for reason in LookupError.Reason.allCases {
            degraded[reason] = Counter(label: "rebound_webhook_degraded_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.requests = requests
        self.degraded = degraded
        duration = Timer(label: "rebound_webhook_request_duration_seconds", factory: factory)
        unreadable = Counter(label: "rebound_webhook_unreadable_requests_total", factory: factory)
    }

    public func recordUnreadableRequest() {
        unreadable.increment()
    }

    public func record(_ result: WebhookResult, duration: Duration) {
        requests[result]?.increment()
        let (seconds, attoseconds) = duration.components
        self.duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    public func recordDegraded(_ reason: LookupError.Reason) {
        degraded[reason]?.increment()
    }
}
