import Foundation
public import Kube

/// The kubelets of every Ready node, in one loop: a pod bound to a Ready node starts (phase
/// Running, Ready) once its claims are bound, and a pod deleted gracefully on a Ready node is
/// finished off (removed) as the kubelet would after stopping its containers. Pods on a node
/// that is not Ready are left exactly as they are — nobody is there to act on them, which is
/// the situation failover exists for.
public struct NodeAgent: SimController {
    let store: SimStore

    public init(store: SimStore) { self.store = store }

    public var name: String { "kubelet" }
    public var watches: [ResourceType] { [Pod.resourceType, Node.resourceType, PersistentVolumeClaim.resourceType] }

    public func reconcile() async throws {
        var ready: Set<String> = []
        for node in try await store.list(Node.resourceType, namespace: nil).items {
            let condition = node.value["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
            if condition?["status"]?.stringValue == "True" { ready.insert(node.name) }
        }
        for pod in try await store.list(Pod.resourceType, namespace: nil).items {
            guard let node = pod.value["spec"]?["nodeName"]?.stringValue, ready.contains(node) else { continue }
            if pod.isDeleting {
                _ = try? await store.delete(Pod.resourceType, namespace: pod.namespace, name: pod.name, options: .init(gracePeriodSeconds: 0))
                continue
            }
            guard pod.value["status"]?["phase"]?.stringValue != "Running" else { continue }
            var claimsBound = true
            for volume in pod.value["spec"]?["volumes"]?.arrayValue ?? [] {
                var claimName = volume["persistentVolumeClaim"]?["claimName"]?.stringValue
                if volume["ephemeral"] != nil, let name = volume["name"]?.stringValue { claimName = PodRules.ephemeralClaimName(pod: pod.name, volume: name) }
                guard let claimName else { continue }
                let claim = try? await store.get(PersistentVolumeClaim.resourceType, namespace: pod.namespace, name: claimName)
                if claim == nil || claim?.isDeleting == true || (claim?.value["spec"]?["volumeName"]?.stringValue ?? "").isEmpty { claimsBound = false }
            }
            guard claimsBound else { continue }
            let now = JSONValue.string(KubeTime.format(Date(), micro: false))
            _ = try? await store.patch(Pod.resourceType, namespace: pod.namespace, name: pod.name, patchType: .merge, patch: [
                "status": [
                    "phase": "Running", "startTime": now, "podIP": .string("10.244.0.\(abs(pod.uid.hashValue) % 250 + 2)"),
                    "conditions": .array(["PodScheduled", "Initialized", "ContainersReady", "Ready"].map { ["type": .string($0), "status": "True", "lastTransitionTime": now] }),
                ],
            ], subresource: "status")
        }
    }
}
