public import CoreMetrics

/// Each listener's metrics, labelled `listener` (`webhook`, `extender`, `health`):
///
/// - `rebound_listener_refused_total{listener, reason}`: connections and requests refused before
///   any endpoint saw them: `connection_limit`, `handshake_timeout`, `client_name` (a client
///   certificate naming none of the allowed clients), and every ``Refusal`` reason;
/// - `rebound_listener_connections{listener}`: connections open now;
/// - `rebound_listener_buffered_bytes{listener}`: request bytes held in memory now.
public struct ListenerMetrics: Sendable {
    private let refused: [String: Counter]
    private let connections: Gauge
    private let buffered: Gauge

    public init(listener: String, factory: any MetricsFactory = MetricsSystem.factory) {
        var refused: [String: Counter] = [:]
        for reason in ["connection_limit", "handshake_timeout", "client_name"] + Refusal.allReasons {
            refused[reason] = Counter(label: "rebound_listener_refused_total", dimensions: [("listener", listener), ("reason", reason)], factory: factory)
        }
        self.refused = refused
        connections = Gauge(label: "rebound_listener_connections", dimensions: [("listener", listener)], factory: factory)
        buffered = Gauge(label: "rebound_listener_buffered_bytes", dimensions: [("listener", listener)], factory: factory)
    }

    func refused(_ reason: String) { refused[reason]?.increment() }

    func connectionsOpen(_ count: Int) { connections.record(count) }

    func bufferedBytes(_ count: Int) { buffered.record(count) }
}
