import ReboundConfig

/// The API permissions Rebound's parts use — the source of truth for the RBAC in
/// `deploy/base/rbac.yaml` (a test keeps them equal).
enum RequiredPermissions {
    struct Rule: Hashable {
        var group: String
        var resource: String
        var verbs: Set<String>
        /// Objects the rule is limited to (empty: all of them).
        var resourceNames: Set<String> = []
    }

    /// Cluster-wide, for the ClusterRole.
    static let cluster: [Rule] = [
        // The caches every part reads; get for the webhook's look-ups when the cache misses.
        Rule(group: "", resource: "nodes", verbs: ["get", "list", "watch"]),
        Rule(group: "", resource: "namespaces", verbs: ["get", "list", "watch"]),
        Rule(group: "", resource: "pods", verbs: ["get", "list", "watch", "delete"]),
        Rule(group: "", resource: "pods/binding", verbs: ["create"]),
        Rule(group: "", resource: "persistentvolumeclaims", verbs: ["get", "list", "watch", "create", "delete"]),
        Rule(group: "", resource: "persistentvolumes", verbs: ["get", "list", "watch", "patch"]),
        Rule(group: "", resource: "events", verbs: ["create"]),
        Rule(group: "storage.k8s.io", resource: "storageclasses", verbs: ["get", "list", "watch"]),
        Rule(group: "storage.k8s.io", resource: "volumeattachments", verbs: ["get", "list", "watch", "delete"]),
        // Read only when capacity.source is csistoragecapacity; granted always, so switching
        // compat.preset or capacity.source needs no RBAC change (they hold no secrets).
        Rule(group: "storage.k8s.io", resource: "csistoragecapacities", verbs: ["list", "watch"]),
        Rule(group: "apps", resource: "statefulsets", verbs: ["get"]),
    ]

    /// In Rebound's own namespace: only the failover Lease (the default `leaderElection.leaseName`)
    /// is read and renewed, and only the extender's shared reservation ledger (the default
    /// `extender.sharedLedger.name`) read, watched and written; create cannot be limited by name.
    static let ownNamespace: [Rule] = [
        Rule(group: "coordination.k8s.io", resource: "leases", verbs: ["get", "update"], resourceNames: ["rebound-failover"]),
        Rule(group: "coordination.k8s.io", resource: "leases", verbs: ["create"]),
        Rule(group: "", resource: "configmaps", verbs: ["get", "list", "watch", "update"], resourceNames: ["rebound-reservations"]),
        Rule(group: "", resource: "configmaps", verbs: ["create"]),
    ]

    /// One verb on one resource that a part needs, as `rebound check` asks the API about it.
    struct Check: Hashable {
        var part: String
        var verb: String
        var group: String
        var resource: String
        var namespace: String?
        var name: String?
    }

    /// Every verb of every rule, with the part that needs it; the names and namespace of the own
    /// namespace's rules come from the configuration (`leaderElection.*`, `extender.sharedLedger.*`).
    /// CSIStorageCapacity objects are checked only when they are read (`storageCapacities`).
    static func checks(leaseNamespace: String, leaseName: String, ledgerNamespace: String, ledgerName: String, storageCapacities: Bool = false) -> [Check] {
        var checks: [Check] = []
        for rule in cluster where storageCapacities || rule.resource != "csistoragecapacities" {
            for verb in rule.verbs.sorted() {
                checks.append(Check(part: part(resource: rule.resource, verb: verb), verb: verb, group: rule.group, resource: rule.resource))
            }
        }
        for rule in ownNamespace {
            let lease = rule.resource == "leases"
            for verb in rule.verbs.sorted() {
                checks.append(Check(
                    part: lease ? "leader election" : "extender (shared ledger)", verb: verb, group: rule.group, resource: rule.resource,
                    namespace: lease ? leaseNamespace : ledgerNamespace, name: rule.resourceNames.isEmpty ? nil : (lease ? leaseName : ledgerName)))
            }
        }
        return checks
    }

    /// ``checks(leaseNamespace:leaseName:ledgerNamespace:ledgerName:)`` with the configured names.
    static func checks(config: ResolvedConfig) -> [Check] {
        checks(
            leaseNamespace: config.string("leaderElection.namespace"), leaseName: config.string("leaderElection.leaseName"),
            ledgerNamespace: config.string("extender.sharedLedger.namespace"), ledgerName: config.string("extender.sharedLedger.name"),
            storageCapacities: config.string("capacity.source") == "csistoragecapacity")
    }

    /// The part that needs `verb` on a cluster-wide resource.
    static func part(resource: String, verb: String) -> String {
        if ["get", "list", "watch"].contains(verb), resource != "statefulsets" { return "caches" }
        if resource == "pods/binding" { return "extender" }
        return "failover"
    }
}
