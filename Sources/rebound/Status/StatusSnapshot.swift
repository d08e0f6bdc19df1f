import Capacity
import Kube
import ReboundConfig

/// Everything `rebound status` and `rebound volumes` read, fetched once with plain lists (no
/// watches: the command runs and exits).
struct StatusSnapshot: Sendable {
    var nodes: [Node] = []
    var pods: [Pod] = []
    var claims: [PersistentVolumeClaim] = []
    var volumes: [PersistentVolume] = []
    var storageClasses: [StorageClass] = []
    var namespaces: [Namespace] = []
    var storageCapacities: [CSIStorageCapacity] = []
    /// The failover Lease; nil when it does not exist or cannot be read.
    var lease: Lease?
    /// The extender's shared reservation ledger; nil when it does not exist or cannot be read.
    var ledger: ConfigMap?
    /// Events Rebound recorded (reason `Rebound…`).
    var events: [Event] = []
    /// What could not be read, and why (a missing permission is not fatal: the rest is shown).
    var problems: [String] = []

    /// Reads the cluster with the configured client.
    static func fetch(client: KubeClient, config: ResolvedConfig, keys: CompatibilityKeys) async throws -> StatusSnapshot {
        var snapshot = StatusSnapshot()
        // The objects the report cannot do without: a failure here ends the command.
        snapshot.nodes = try await client.listAll(Node.self).items
        // Trimmed as the caches trim them (what the report reads stays): 50,000 pods fit in little memory.
        snapshot.pods = try await client.listAll(Pod.self).items.map(\.trimmedForCache)
        snapshot.nodes = snapshot.nodes.map(\.trimmedForCache)
        snapshot.claims = try await client.listAll(PersistentVolumeClaim.self).items
        snapshot.volumes = try await client.listAll(PersistentVolume.self).items
        snapshot.storageClasses = try await client.listAll(StorageClass.self).items
        snapshot.namespaces = try await client.listAll(Namespace.self).items
        if keys.capacityFromStorageCapacity {
            do { snapshot.storageCapacities = try await client.listAll(CSIStorageCapacity.self).items } catch {
                snapshot.problems.append("cannot list CSIStorageCapacity objects: \(error)")
            }
        }
        let leaseNamespace = config.string("leaderElection.namespace"), leaseName = config.string("leaderElection.leaseName")
        do { snapshot.lease = try await client.get(Lease.self, leaseName, namespace: leaseNamespace) } catch {
            snapshot.problems.append("cannot read the failover Lease \(leaseNamespace)/\(leaseName): \(error)")
        }
        if config.bool("extender.sharedLedger.enabled") {
            let namespace = config.string("extender.sharedLedger.namespace"), name = config.string("extender.sharedLedger.name")
            do { snapshot.ledger = try await client.get(ConfigMap.self, name, namespace: namespace) } catch {
                snapshot.problems.append("cannot read the shared reservation ledger \(namespace)/\(name): \(error)")
            }
        }
        do {
            snapshot.events = try await client.listAll(Event.self).items.filter { ($0.reason ?? "").hasPrefix("Rebound") }
        } catch {
            snapshot.problems.append("cannot list Events: \(error)")
        }
        return snapshot
    }
}
