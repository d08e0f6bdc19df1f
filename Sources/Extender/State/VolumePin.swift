public import Kube

/// A claim of the pod already bound to a volume that only some nodes can reach (its
/// PersistentVolume's `nodeAffinity`): the pod can only go where the volume is.
public struct VolumePin: Sendable, Hashable {
    /// `namespace/name` of the claim.
    public var claim: String
    /// The bound PersistentVolume.
    public var volume: String
    public var affinity: NodeSelector

    public init(claim: String, volume: String, affinity: NodeSelector) {
        self.claim = claim
        self.volume = volume
        self.affinity = affinity
    }

    /// Whether the node can reach the volume.
    public func allows(labels: [String: String], name: String) -> Bool { affinity.matches(labels: labels, name: name) }

    /// The reason given for the nodes it excludes, e.g. `volume default/data-db-0 (pvc-1f2e) is bound to node dev1-node-2`.
    public var reason: String {
        // Node-local volumes name their node with a single-value In on the hostname or a CSI topology key.
        let values = affinity.nodeSelectorTerms.flatMap { term in
            (term.matchExpressions ?? []).filter { $0.operator == "In" }.flatMap { $0.values ?? [] }
                + (term.matchFields ?? []).filter { $0.operator == "In" }.flatMap { $0.values ?? [] }
        }
        let target = values.isEmpty ? "the nodes its node affinity selects" : "node \(Array(Set(values)).sorted().joined(separator: ", "))"
        return "volume \(claim) (\(volume)) is bound to \(target)"
    }
}
