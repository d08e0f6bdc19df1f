/// What a pod asks of the extender, read from the routing resource and the requests annotation
/// the webhook put on it.
public enum StorageDemand: Sendable, Hashable {
    /// The pod does not request the routing resource: the extender leaves it alone.
    case notRouted
    /// The pod needs this much free space per volume group on its node.
    case needs(VolumeGroupRequests)
    /// The pod requests the routing resource but its annotation is missing or unreadable, so no
    /// node can be judged for it.
    case unreadable(String)

    /// Reads the demand of a pod that does (`routed`) or does not request the routing resource,
    /// given the value of its requests annotation (`annotationKey`).
    public static func read(routed: Bool, annotation: String?, annotationKey: String) -> StorageDemand {
        guard routed else { return .notRouted }
        guard let annotation else {
            return .unreadable("the pod requests the routing resource but has no \(annotationKey) annotation; recreate it through the Rebound webhook")
        }
        do {
            return .needs(try VolumeGroupRequests.read(annotationValue: annotation))
        } catch {
            // The value is the user's: quoted, and cut short, in what kube-scheduler shows.
            let shown = annotation.utf8.count > 80 ? String(annotation.prefix(80)) + "…" : annotation
            return .unreadable("the pod's \(annotationKey) annotation \(shown) cannot be used: \(error)")
        }
    }
}
