public import Foundation

/// What Rebound knows about a node's health, taken from its Node object.
public struct NodeHealthFacts: Sendable, Hashable {
    /// The Ready condition's status: `True`, `False`, `Unknown`, or nil when not reported.
    public var ready: String?
    /// When the Ready condition last changed.
    public var readySince: Date?
    /// Keys of the node's taints with effect NoSchedule or NoExecute.
    public var taintKeys: [String]
    /// `spec.unschedulable` (cordoned).
    public var unschedulable: Bool
    /// The Node object is being deleted.
    public var deleting: Bool

    public init(ready: String?, readySince: Date? = nil, taintKeys: [String] = [], unschedulable: Bool = false, deleting: Bool = false) {
        self.ready = ready
        self.readySince = readySince
        self.taintKeys = taintKeys
        self.unschedulable = unschedulable
        self.deleting = deleting
    }
}

/// Why a node must not receive pods.
public enum UnhealthyReason: Sendable, Hashable, CustomStringConvertible {
    case notReady(status: String)
    case taint(String)
    case unschedulable
    case deleting

    public var description: String {
        switch self {
        case .notReady(let status): "node is not ready (Ready=\(status))"
        case .taint(let key): "node has taint \(key)"
        case .unschedulable: "node is cordoned (spec.unschedulable)"
        case .deleting: "node is being deleted"
        }
    }
}

/// The health verdict for placing pods: healthy, or every reason the node is not.
public enum NodeHealth: Sendable, Hashable {
    case healthy
    case unhealthy([UnhealthyReason])

    /// Taints that mark a node unfit for rebuilt pods.
    public static let unhealthyTaints: Set<String> = [
        "node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready", "node.kubernetes.io/out-of-service",
        "node.kubernetes.io/unschedulable",
    ]

    public static func verdict(for facts: NodeHealthFacts) -> NodeHealth {
        var reasons: [UnhealthyReason] = []
        if facts.ready != "True" { reasons.append(.notReady(status: facts.ready ?? "missing")) }
        // A key tainted both NoSchedule and NoExecute (as the node controller does) is one reason.
        var seen: Set<String> = []
        for key in facts.taintKeys where unhealthyTaints.contains(key) && seen.insert(key).inserted { reasons.append(.taint(key)) }
        if facts.unschedulable { reasons.append(.unschedulable) }
        if facts.deleting { reasons.append(.deleting) }
        return reasons.isEmpty ? .healthy : .unhealthy(reasons)
    }

    public var isHealthy: Bool { self == .healthy }
}
