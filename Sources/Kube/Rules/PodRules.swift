/// Kubernetes' naming and lifecycle rules about pods that every part applies: the one home of
/// each, so the webhook, the extender and failover never disagree about a pod.
public enum PodRules {
    /// The claim a generic ephemeral volume gets: `<pod>-<volume>`, as the ephemeral volume
    /// controller names it.
    public static func ephemeralClaimName(pod: String, volume: String) -> String { "\(pod)-\(volume)" }

    /// The claim a StatefulSet's `volumeClaimTemplates` entry gives one of its pods:
    /// `<template>-<pod>`, as the StatefulSet controller names it.
    public static func statefulSetClaimName(template: String, pod: String) -> String { "\(template)-\(pod)" }

    /// A pod in phase `Succeeded` or `Failed` is terminal: it runs nothing and will not run again.
    public static func isTerminal(phase: String?) -> Bool { phase == "Succeeded" || phase == "Failed" }
}

extension Pod {
    /// `Succeeded` or `Failed` (``PodRules/isTerminal(phase:)``).
    public var isTerminal: Bool { PodRules.isTerminal(phase: status?.phase) }
}
