public import Kube

/// What the webhook decided for one pod: the JSON Patch to answer with and why.
public struct PodMutation: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The namespace does not carry the opt-in label.
        case namespaceNotOptedIn
        /// The pod mounts a PVC that does not exist yet; it is admitted unchanged, because
        /// without the claim neither its size nor its class is known.
        case claimMissing(String)
        /// The pod already carries everything (a re-invocation, or a pod written by hand).
        case alreadyCurrent
        /// ``PodMutation/operations`` bring the pod up to date.
        case patched
    }

    public var outcome: Outcome
    /// The operations, in order; empty unless ``outcome`` is ``Outcome/patched``.
    public var operations: [JSONPatchOperation]
    /// The capacity routing decision; nil when the pod was not looked at that far.
    public var capacity: CapacityDecision?

    public init(outcome: Outcome, operations: [JSONPatchOperation] = [], capacity: CapacityDecision? = nil) {
        self.outcome = outcome
        self.operations = operations
        self.capacity = capacity
    }
}
