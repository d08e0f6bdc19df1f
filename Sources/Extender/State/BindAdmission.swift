/// The checks the bind verb makes on the pod before it looks at the node: plain decisions over
/// what the caches (or the API) say, so a caller cannot bind a pod Rebound never routed, a pod
/// that is gone or replaced, or one already bound.
enum BindAdmission {
    enum Outcome: Equatable {
        case proceed(PlacementPod)
        case refuse(String)
    }

    static let notRoutedMessage =
        "the pod does not request the routing resource: Rebound binds only pods its webhook routed to the extender"

    /// - Parameters:
    ///   - pod: the pod as read, nil when it does not exist.
    ///   - uid: the UID the caller named, if any.
    ///   - key: `namespace/name`, for messages.
    static func check(pod: PlacementPod?, uid: String?, key: String) -> Outcome {
        guard let pod else { return .refuse("pod \(key) does not exist") }
        if let uid, pod.uid != uid { return .refuse("pod \(key) has UID \(pod.uid ?? "none"), not \(uid): it was replaced") }
        guard pod.routed else { return .refuse(notRoutedMessage) }
        if let node = pod.nodeName, !node.isEmpty { return .refuse("pod \(key) is already bound to node \(node)") }
        if pod.isTerminal { return .refuse("pod \(key) has completed") }
        return .proceed(pod)
    }
}
