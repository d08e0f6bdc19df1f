public import Capacity

extension Node {
    /// The facts ``NodeHealth`` judges, read from this Node.
    public var healthFacts: NodeHealthFacts {
        let ready = condition("Ready")
        return NodeHealthFacts(
            ready: ready?.status,
            readySince: ready?.lastTransitionTime?.date,
            taintKeys: (spec?.taints ?? []).filter { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }.map(\.key),
            unschedulable: spec?.unschedulable ?? false,
            deleting: metadata.deletionTimestamp != nil
        )
    }
}

extension CompatibilityKeys {
    /// The volume group of a StorageClass, or nil when its volumes are not node-local.
    public func volumeGroup(of storageClass: StorageClass) -> String? {
        volumeGroup(storageClass: storageClass.name, provisioner: storageClass.provisioner, parameters: storageClass.parameters ?? [:])
    }

    /// Whether a pod opted in to failover with the migration annotation.
    public func optsIn(_ pod: Pod) -> Bool { Self.optsIn(pod.metadata.annotations?[migrationAnnotation]) }
}
