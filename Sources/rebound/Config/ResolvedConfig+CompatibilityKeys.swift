import Capacity

extension ResolvedConfig {
    /// The `compat.*` and `capacity.*` keys as the ``CompatibilityKeys`` every part shares.
    var compatibilityKeys: CompatibilityKeys {
        var keys = CompatibilityKeys()
        keys.migrationAnnotation = string("compat.migrationAnnotation")
        keys.namespaceLabel = string("compat.namespaceLabel")
        keys.provisioners = Set(list("compat.provisioners"))
        keys.volumeGroupParameters = list("compat.volumeGroupParameters")
        keys.legacyVolumeGroups = map("compat.legacyVolumeGroups")
        keys.routingResource = string("capacity.routingResource")
        keys.requestsAnnotation = string("capacity.requestsAnnotation")
        keys.capacitySource = string("capacity.source") == "annotation"
            ? .annotation(prefix: string("capacity.annotationPrefix"))
            : .allocatable(prefix: string("capacity.allocatablePrefix"))
        return keys
    }
}
