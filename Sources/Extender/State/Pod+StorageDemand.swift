public import Capacity
public import Kube

extension Pod {
    /// Whether any container requests (or limits) the extended resource `resource`.
    public func requestsResource(_ resource: String) -> Bool {
        let containers = (spec?.containers ?? []) + (spec?.initContainers ?? [])
        return containers.contains { container in
            container.resources?.requests?[resource] != nil || container.resources?.limits?[resource] != nil
        }
    }

    /// What the pod asks of the extender: nothing unless it requests the routing resource, else
    /// the GiB per volume group the webhook recorded in the requests annotation.
    public func storageDemand(keys: CompatibilityKeys) -> StorageDemand {
        StorageDemand.read(
            routed: requestsResource(keys.routingResource), annotation: metadata.annotations?[keys.requestsAnnotation],
            annotationKey: keys.requestsAnnotation)
    }
}
