public import Kube

/// The node taints and annotations an external fencing agent sets once a node is known to run
/// nothing (powered off, rebooted, cut from its storage): the `failover.fencingTaints` and
/// `failover.fencingAnnotations` keys. Each entry is `key` (any value) or `key=value`.
///
/// The out-of-service taint is always a confirmation and needs no entry here.
public struct FencingSignals: Sendable, Hashable {
    public var taints: [String]
    public var annotations: [String]

    public init(taints: [String] = [], annotations: [String] = []) {
        self.taints = taints
        self.annotations = annotations
    }

    static let outOfServiceTaint = "node.kubernetes.io/out-of-service"

    /// The configured signal `node` carries, described for logs and events; nil when none.
    public func signal(on node: Node) -> String? {
        for entry in taints {
            let (key, value) = Self.split(entry)
            if let taint = (node.spec?.taints ?? []).first(where: { $0.key == key && (value == nil || $0.value == value) }) {
                return "taint \(taint.key)\(taint.value.map { "=\($0)" } ?? ""):\(taint.effect)"
            }
        }
        for entry in annotations {
            let (key, value) = Self.split(entry)
            if let found = node.metadata.annotations?[key], value == nil || found == value {
                return "annotation \(key)=\(found)"
            }
        }
        return nil
    }

    /// What decides whether `node` failed.
    public func facts(of node: Node) -> NodeFailureFacts {
        let ready = node.condition("Ready")
        let outOfService = (node.spec?.taints ?? []).contains { $0.key == Self.outOfServiceTaint }
        // Conditions carry whole seconds: the change may have happened up to a second later than
        // written, so count from the end of that second and never act before the timeout.
        let since = ready?.lastTransitionTime.map { $0.micro ? $0.date : $0.date.addingTimeInterval(1) }
        return NodeFailureFacts(ready: ready?.status, readySince: since, outOfService: outOfService, fencedBy: signal(on: node))
    }

    private static func split(_ entry: String) -> (key: String, value: String?) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, nil) }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }
}
