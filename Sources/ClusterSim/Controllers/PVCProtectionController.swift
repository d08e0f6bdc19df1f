public import Kube

/// kube-controller-manager's pvc-protection controller and the StorageObjectInUseProtection
/// admission plugin in one: every claim carries the `kubernetes.io/pvc-protection` finalizer,
/// and a deleted claim keeps it (so stays, Terminating) until no pod that is not finished uses it.
public struct PVCProtectionController: SimController {
    public static let finalizer = "kubernetes.io/pvc-protection"
    let store: SimStore

    public init(store: SimStore) { self.store = store }

    public var name: String { "pvc-protection" }
    public var watches: [ResourceType] { [PersistentVolumeClaim.resourceType, Pod.resourceType] }

    public func reconcile() async throws {
        let claims = try await store.list(PersistentVolumeClaim.resourceType, namespace: nil).items
        guard !claims.isEmpty else { return }
        var inUse: Set<String> = []
        for pod in try await store.list(Pod.resourceType, namespace: nil).items {
            let phase = pod.value["status"]?["phase"]?.stringValue
            if phase == "Succeeded" || phase == "Failed" { continue }
            for volume in pod.value["spec"]?["volumes"]?.arrayValue ?? [] {
                if let claim = volume["persistentVolumeClaim"]?["claimName"]?.stringValue { inUse.insert("\(pod.namespace)/\(claim)") }
                if volume["ephemeral"] != nil, let volumeName = volume["name"]?.stringValue { inUse.insert("\(pod.namespace)/\(pod.name)-\(volumeName)") }
            }
        }
        for claim in claims {
            let finalizers = claim.finalizers
            if claim.isDeleting {
                guard finalizers.contains(Self.finalizer), !inUse.contains(claim.key) else { continue }
                let remaining = finalizers.filter { $0 != Self.finalizer }
                _ = try? await store.patch(PersistentVolumeClaim.resourceType, namespace: claim.namespace, name: claim.name, patchType: .merge,
                                            patch: ["metadata": ["finalizers": remaining.isEmpty ? .null : .array(remaining.map { .string($0) })]])
            } else if !finalizers.contains(Self.finalizer) {
                _ = try? await store.patch(PersistentVolumeClaim.resourceType, namespace: claim.namespace, name: claim.name, patchType: .merge,
                                            patch: ["metadata": ["finalizers": .array((finalizers + [Self.finalizer]).map { .string($0) })]])
            }
        }
    }
}
