public import Foundation
import Kube

/// How the failover controller sees a node right now.
public enum NodeFailureState: Sendable, Hashable {
    /// Ready, or never seen otherwise.
    case healthy
    /// Not ready, but not yet for long enough; re-check at `deadline`.
    case suspect(deadline: Date)
    /// Counts as failed: its pods may be moved.
    case failed(FailureReason)

    public var isFailed: Bool {
        if case .failed = self { return true }
        return false
    }

    /// Failed, and known to run nothing any more (see ``FailureReason/isConfirmed``).
    public var isConfirmedDown: Bool {
        if case .failed(let reason) = self { return reason.isConfirmed }
        return false
    }
}

/// Why a node counts as failed.
public enum FailureReason: Sendable, Hashable, CustomStringConvertible {
    /// Suspected down: the Ready condition has not been True since `since` (the later of the
    /// condition's transition time and this replica's first sight of it) plus the timeout.
    case notReady(status: String, since: Date)
    /// The `node.kubernetes.io/out-of-service` taint: an operator (or a fencing agent) declared
    /// the node shut down.
    case outOfService
    /// A configured fencing taint or annotation (`failover.fencingTaints`,
    /// `failover.fencingAnnotations`): an external agent fenced the node.
    case fenced(signal: String)
    /// The Node object was deleted.
    case deleted

    /// Confirmed down: something other than silence says the node runs nothing — an out-of-service
    /// taint, a fencing signal, or the Node object's deletion. Only then are network volumes
    /// detached. A node that is merely NotReady is *suspected*.
    public var isConfirmed: Bool {
        if case .notReady = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .notReady(let status, let since): "Ready=\(status) since \(KubeTime.format(since, micro: false))"
        case .outOfService: "tainted node.kubernetes.io/out-of-service"
        case .fenced(let signal): "fenced (\(signal))"
        case .deleted: "node deleted"
        }
    }
}

/// The facts about a node that decide whether it failed.
public struct NodeFailureFacts: Sendable, Hashable {
    /// The Ready condition's status (nil when the kubelet never reported one).
    public var ready: String?
    /// When the Ready condition last changed; nil when unknown.
    public var readySince: Date?
    public var outOfService: Bool
    /// The configured fencing signal the node carries, if any (`taint key=value`, `annotation key`).
    public var fencedBy: String?

    public init(ready: String?, readySince: Date?, outOfService: Bool, fencedBy: String? = nil) {
        self.ready = ready
        self.readySince = readySince
        self.outOfService = outOfService
        self.fencedBy = fencedBy
    }

    /// Ready and carrying no confirmation of being down: a node that recovered.
    public var isHealthy: Bool { ready == "True" && !outOfService && fencedBy == nil }
}

/// Decides when a node has failed. Confirmation (the out-of-service taint, a fencing signal)
/// fails it at once. Otherwise it is *suspected* down once its Ready condition has not been True
/// for `notReadyTimeout`, counted on this replica's clock from the later of:
///
/// - when this replica first saw the condition not True. The condition's `lastTransitionTime`
///   was written on another clock (for `Ready=False`, the failing node's own kubelet): a time far
///   in the past must not fail a node at first sight, and a time in the future must not postpone
///   failover, so it is never later than this observation and counts only when there is none;
/// - `notBefore`, when the partition guard released the node (its timer restarts then, as
///   kube-controller-manager's do when it leaves full disruption).
public struct NodeFailureDetector: Sendable {
    public var notReadyTimeout: Duration

    public init(notReadyTimeout: Duration) { self.notReadyTimeout = notReadyTimeout }

    public func state(of facts: NodeFailureFacts, now: Date, firstSeenNotReady: Date? = nil, notBefore: Date? = nil) -> NodeFailureState {
        if facts.outOfService { return .failed(.outOfService) }
        if let signal = facts.fencedBy { return .failed(.fenced(signal: signal)) }
        guard facts.ready != "True" else { return .healthy }
        var since = min(firstSeenNotReady ?? facts.readySince ?? now, now)
        if let notBefore { since = max(since, min(notBefore, now)) }
        let deadline = since.addingTimeInterval(notReadyTimeout.seconds)
        if deadline <= now { return .failed(.notReady(status: facts.ready ?? "missing", since: since)) }
        return .suspect(deadline: deadline)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
