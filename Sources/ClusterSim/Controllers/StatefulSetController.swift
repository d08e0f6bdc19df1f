public import Kube

/// kube-controller-manager's StatefulSet controller, reduced to what failover depends on: pods
/// named `<set>-<ordinal>` from the template, and the claims of `volumeClaimTemplates`
/// (`<template>-<pod>`) created when a pod is created and missing. A claim that is being
/// deleted blocks its pod until it is gone, as in Kubernetes. `OrderedReady` (the default)
/// creates a pod only when every lower ordinal exists and runs; `Parallel` creates them all.
public struct StatefulSetController: SimController {
    let api: SimAPI

    public init(api: SimAPI) { self.api = api }

    public var name: String { "statefulset" }
    public var watches: [ResourceType] { [StatefulSet.resourceType, Pod.resourceType, PersistentVolumeClaim.resourceType] }

    public func reconcile() async throws {
        let store = api.store
        for set in try await store.list(StatefulSet.resourceType, namespace: nil).items where !set.isDeleting {
            try await reconcile(set, store: store)
        }
    }

    private func reconcile(_ set: StoredObject, store: SimStore) async throws {
        let spec = set.value["spec"] ?? .emptyObject
        let replicas = Int(spec["replicas"]?.intValue ?? 1)
        let ordered = spec["podManagementPolicy"]?.stringValue != "Parallel"
        let templates = spec["volumeClaimTemplates"]?.arrayValue ?? []
        for ordinal in 0..<replicas {
            let podName = "\(set.name)-\(ordinal)"
            if let existing = try? await store.get(Pod.resourceType, namespace: set.namespace, name: podName) {
                if ordered && (existing.isDeleting || existing.value["status"]?["phase"]?.stringValue != "Running") { return }
                continue
            }
            var claimsReady = true
            for template in templates {
                guard let templateName = template["metadata"]?["name"]?.stringValue else { continue }
                let claimName = "\(templateName)-\(podName)"
                if let claim = try? await store.get(PersistentVolumeClaim.resourceType, namespace: set.namespace, name: claimName) {
                    if claim.isDeleting { claimsReady = false }
                    continue
                }
                var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
                for (key, value) in spec["selector"]?["matchLabels"]?.objectValue ?? [:] { labels[key] = value }
                let claim: JSONValue = [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": .string(claimName), "namespace": .string(set.namespace), "labels": .object(labels)],
                    "spec": template["spec"] ?? .emptyObject,
                ]
                _ = try await api.create(PersistentVolumeClaim.resourceType, namespace: set.namespace, object: claim)
            }
            // A claim still being deleted would be reused by the new pod: wait until it is gone.
            guard claimsReady else {
                if ordered { return }
                continue
            }
            _ = try await api.create(Pod.resourceType, namespace: set.namespace, object: pod(podName, ordinal: ordinal, set: set, templates: templates))
            if ordered { return }
        }
    }

    private func pod(_ name: String, ordinal: Int, set: StoredObject, templates: [JSONValue]) -> JSONValue {
        let template = set.value["spec"]?["template"] ?? .emptyObject
        var metadata = template["metadata"]?.objectValue ?? [:]
        var labels = metadata["labels"]?.objectValue ?? [:]
        labels["statefulset.kubernetes.io/pod-name"] = .string(name)
        labels["apps.kubernetes.io/pod-index"] = .string(String(ordinal))
        labels["controller-revision-hash"] = .string("\(set.name)-rev1")
        metadata["labels"] = .object(labels)
        metadata["name"] = .string(name)
        metadata["namespace"] = .string(set.namespace)
        metadata["ownerReferences"] = [[
            "apiVersion": "apps/v1", "kind": "StatefulSet", "name": .string(set.name), "uid": .string(set.uid), "controller": true, "blockOwnerDeletion": true,
        ]]
        var spec = template["spec"]?.objectValue ?? [:]
        spec["hostname"] = .string(name)
        if let service = set.value["spec"]?["serviceName"]?.stringValue { spec["subdomain"] = .string(service) }
        var volumes = spec["volumes"]?.arrayValue ?? []
        for claimTemplate in templates {
            guard let templateName = claimTemplate["metadata"]?["name"]?.stringValue else { continue }
            volumes.removeAll { $0["name"]?.stringValue == templateName }
            volumes.append(["name": .string(templateName), "persistentVolumeClaim": ["claimName": .string("\(templateName)-\(name)")]])
        }
        spec["volumes"] = .array(volumes)
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": .object(spec), "status": ["phase": "Pending"]]
    }
}
