public import Capacity

/// How the failover controller behaves (the `failover.*` configuration keys).
public struct FailoverSettings: Sendable {
    /// How long a node's Ready condition must stay not True before the node is suspected down.
    public var notReadyTimeout: Duration = .seconds(30)
    /// Above this share of unhealthy nodes, migration pauses (a partition, not node failures).
    public var maxFailedNodeFraction = 0.5
    /// Also apply `maxFailedNodeFraction` to each zone (`topology.kubernetes.io/zone`) on its own.
    public var perZonePartitionGuard = false
    /// Pods migrated a second at most (0: no limit), and how many may start at once.
    public var migrationsPerSecond = 10.0
    public var migrationBurst = 20
    /// Pods migrated in parallel.
    public var workers = 16
    /// Keep the old volume's data: set its PV to Retain and label it.
    public var retainVolumes = true
    /// Delete VolumeAttachments of network volumes on a confirmed-down node once its pods are gone.
    public var deleteVolumeAttachments = true
    /// Pods with a volume reachable from other nodes wait until their node is confirmed down
    /// (out-of-service taint, fencing signal, deletion) before they are moved.
    public var networkVolumesRequireConfirmation = true
    /// What an external fencing agent sets on a node it fenced.
    public var fencing = FencingSignals()
    /// Log what would be done, write nothing.
    public var dryRun = false
    /// How long to wait for a deleted claim to disappear before recreating it.
    public var claimDeletionTimeout: Duration = .seconds(120)
    /// Attempts of one API write on conflicts and server errors.
    public var maxAttempts = 6
    /// Every pod on a failed node is reconciled again this often, whatever events said.
    public var resyncPeriod: Duration = .seconds(60)
    public var keys = CompatibilityKeys()

    public init() {}
}
