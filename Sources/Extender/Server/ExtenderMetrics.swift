public import CoreMetrics
public import Capacity
import Metrics

/// The extender's Prometheus metrics, made through an injectable factory:
///
/// - `rebound_extender_requests_total{verb, result}`: requests by verb (`filter`, `prioritize`,
///   `bind`) and result (`ok`, `invalid`: bad input, `error`: the answer failed the attempt
///   for another reason, e.g. the bind was refused);
/// - `rebound_extender_request_seconds{verb}`: latency histogram;
/// - `rebound_extender_dropped_nodes_total{reason}`: nodes the filter dropped, by ``DropReason``;
/// - `rebound_extender_unreadable_requests_total`: filter requests for pods whose needs could not
///   be read (a missing, malformed, out-of-bounds or unknown-group requests annotation);
/// - `rebound_extender_shared_ledger_writes_total{operation, result}`: writes to the shared
///   reservation ledger (`commit` at bind, `remove` once reservations stop counting) by result
///   (`ok`, `conflict`: another replica wrote first and the write was judged again, `error`).
public struct ExtenderMetrics: Sendable {
    public enum Verb: String, Sendable, CaseIterable {
        case filter, prioritize, bind
    }

    public enum Result: String, Sendable, CaseIterable {
        case ok, invalid, error
    }

    /// A write to the shared reservation ledger.
    public enum LedgerOperation: String, Sendable, CaseIterable {
        case commit, remove
    }

    public enum LedgerResult: String, Sendable, CaseIterable {
        case ok, conflict, error
    }

    private let requests: [String: Counter]
    private let ledgerWrites: [String: Counter]
    private let latency: [Verb: Timer]
    private let dropped: [DropReason: Counter]
    private let unreadable: Counter

    /// Creates every labelled series up front, so each name is registered once and only with labels.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        var requests: [String: Counter] = [:]
        var latency: [Verb: Timer] = [:]
        for verb in Verb.allCases {
            for result in Result.allCases {
                requests["\(verb.rawValue)/\(result.rawValue)"] = Counter(
                    label: "rebound_extender_requests_total", dimensions: [("verb", verb.rawValue), ("result", result.rawValue)], factory: factory)
            }
            latency[verb] = Timer(label: "rebound_extender_request_seconds", dimensions: [("verb", verb.rawValue)], factory: factory)
        }
        var dropped: [DropReason: Counter] = [:]
        for reason in DropReason.allCases {
            dropped[reason] = Counter(label: "rebound_extender_dropped_nodes_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        var ledgerWrites: [String: Counter] = [:]
        for operation in LedgerOperation.allCases {
            for result in LedgerResult.allCases {
                ledgerWrites["\(operation.rawValue)/\(result.rawValue)"] = Counter(
                    label: "rebound_extender_shared_ledger_writes_total", dimensions: [("operation", operation.rawValue), ("result", result.rawValue)], factory: factory)
            }
        }
        self.ledgerWrites = ledgerWrites
        self.requests = requests
        self.latency = latency
        self.dropped = dropped
        unreadable = Counter(label: "rebound_extender_unreadable_requests_total", factory: factory)
    }

    /// Counts a pod whose needs could not be read.
    public func unreadableRequest() {
        unreadable.increment()
    }

    /// Counts one answered request and its latency.
    public func request(_ verb: Verb, _ result: Result, duration: Duration) {
        requests["\(verb.rawValue)/\(result.rawValue)"]?.increment()
        let (seconds, attoseconds) = duration.components
        latency[verb]?.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Counts one write to the shared reservation ledger.
    public func sharedLedgerWrite(_ operation: LedgerOperation, _ result: LedgerResult) {
        ledgerWrites["\(operation.rawValue)/\(result.rawValue)"]?.increment()
    }

    /// Counts nodes the filter dropped.
    public func dropped(_ reason: DropReason, count: Int = 1) {
        guard count > 0 else { return }
        dropped[reason]?.increment(by: count)
    }
}
