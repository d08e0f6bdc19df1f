public import Metrics


/// The failover controller's Prometheus metrics.
public struct FailoverMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) { self.factory = factory }

    /// Creates the series alerts and dashboards read, at zero, so they exist (and `increase()`
    /// works) before the first failure: a series that appears only when something goes wrong
    /// hides that first occurrence from a rate.
    func initialise() {
        for result in ["success", "failure"] { Counter(label: "rebound_failover_migrations_total", dimensions: [("result", result)], factory: factory).increment(by: 0) }
        for result in ["success", "failure", "retry"] {
            Counter(label: "rebound_failover_actions_total", dimensions: [("action", "delete_pod"), ("result", result)], factory: factory).increment(by: 0)
        }
        for reason in ["node_recovered", "node_unreadable"] { Counter(label: "rebound_failover_aborts_total", dimensions: [("reason", reason)], factory: factory).increment(by: 0) }
        for reason in ["awaiting_confirmation", "shared_claim"] { Counter(label: "rebound_failover_holds_total", dimensions: [("reason", reason)], factory: factory).increment(by: 0) }
        for kind in ["renew_timeout", "duplicate_identity"] { Counter(label: "rebound_leader_problems_total", dimensions: [("kind", kind)], factory: factory).increment(by: 0) }
        _ = Timer(label: "rebound_failover_migration_seconds", dimensions: [("stage", "complete")], factory: factory)
        failedNodes(0)
        paused(false)
        pending(retrying: 0, heldByGuard: 0)
    }

    /// Opted-in pods on failed nodes not moved yet: those whose migration failed and waits to be
    /// retried, and those the partition guard holds.
    func pending(retrying: Int, heldByGuard: Int) {
        Gauge(label: "rebound_failover_pending_pods", dimensions: [("state", "retrying")], factory: factory).record(retrying)
        Gauge(label: "rebound_failover_pending_pods", dimensions: [("state", "held_by_guard")], factory: factory).record(heldByGuard)
    }

    /// One API write (or, in dry-run, one write that would have been made).
    func action(_ action: String, result: String) {
        Counter(label: "rebound_failover_actions_total", dimensions: [("action", action), ("result", result)], factory: factory).increment()
    }

    /// One pod handled to the end.
    func migration(result: String) {
        Counter(label: "rebound_failover_migrations_total", dimensions: [("result", result)], factory: factory).increment()
    }

    /// Time from the node counting as failed to the pod's migration finishing.
    func migrationDuration(_ duration: Duration) {
        Timer(label: "rebound_failover_migration_seconds", dimensions: [("stage", "complete")], factory: factory).record(duration: duration)
    }

    func failedNodes(_ count: Int) {
        Gauge(label: "rebound_failover_failed_nodes", dimensions: [("state", "failed")], factory: factory).record(count)
    }

    /// 1 while the partition guard holds migration back.
    func paused(_ paused: Bool) {
        Gauge(label: "rebound_failover_paused", dimensions: [("guard", "partition")], factory: factory).record(paused ? 1 : 0)
    }

    /// Pods whose migration waits (the reason: `awaiting_confirmation`, `shared_claim`).
    func held(_ reason: String) {
        Counter(label: "rebound_failover_holds_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// A migration stopped before a destructive step because a live read showed its node recovered.
    func aborted(_ reason: String) {
        Counter(label: "rebound_failover_aborts_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// A problem with the lease: `renew_timeout`, `duplicate_identity`.
    func leaseProblem(_ kind: String) {
        Counter(label: "rebound_leader_problems_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    func leader(_ isLeader: Bool) {
        Gauge(label: "rebound_failover_leader", dimensions: [("lease", "failover")], factory: factory).record(isLeader ? 1 : 0)
    }
}
