public import Kube

extension Pod {
    /// Whether any container requests (or limits) the extended resource `resource`: how the
    /// extender tells the pods the webhook routed to it (`CompatibilityKeys.routingResource`).
    public func requestsResource(_ resource: String) -> Bool {
        let containers = (spec?.containers ?? []) + (spec?.initContainers ?? [])
        return containers.contains { container in
            container.resources?.requests?[resource] != nil || container.resources?.limits?[resource] != nil
        }
    }
}
