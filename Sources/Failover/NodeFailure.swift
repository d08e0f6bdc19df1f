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
}

/// Why a node counts as failed.
public enum FailureReason: Sendable, Hashable, CustomStringConvertible {
    /// The Ready condition has not been True since `since`.
    case notReady(status: String, since: Date)
    /// The `node.kubernetes.io/out-of-service` taint: an operator declared the node gone.
    case outOfService
    /// The Node object was deleted.
    case deleted

    public var description: String {
        switch self {
        case .notReady(let status, let since): "Ready=\(status) since \(KubeTime.format(since, micro: false))"
        case .outOfService: "tainted node.kubernetes.io/out-of-service"
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

    public init(ready: String?, readySince: Date?, outOfService: Bool) {
        self.ready = ready
        self.readySince = readySince
        self.outOfService = outOfService
    }
}

/// Decides when a node has failed: its Ready condition has not been True for `notReadyTimeout`
/// (measured from the condition's lastTransitionTime, so a restarted controller agrees with the
/// one before it), or it carries the out-of-service taint. A node that is Ready again before the
/// timeout is healthy.
public struct NodeFailureDetector: Sendable {
    public var notReadyTimeout: Duration

    public init(notReadyTimeout: Duration) { self.notReadyTimeout = notReadyTimeout }

    /// - Parameter firstSeenNotReady: when this controller first saw the node not ready, used when
    ///   the condition carries no transition time.
    public func state(of facts: NodeFailureFacts, now: Date, firstSeenNotReady: Date? = nil) -> NodeFailureState {
        if facts.outOfService { return .failed(.outOfService) }
        guard facts.ready != "True" else { return .healthy }
        let since = facts.readySince ?? firstSeenNotReady ?? now
        let deadline = since.addingTimeInterval(notReadyTimeout.seconds)
        if deadline <= now { return .failed(.notReady(status: facts.ready ?? "missing", since: since)) }
        return .suspect(deadline: deadline)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
