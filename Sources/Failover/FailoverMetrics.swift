public import Metrics


/// The failover controller's Prometheus metrics.
public struct FailoverMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) { self.factory = factory }

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

    func leader(_ isLeader: Bool) {
        Gauge(label: "rebound_failover_leader", dimensions: [("lease", "failover")], factory: factory).record(isLeader ? 1 : 0)
    }
}
