public import Capacity

/// How the failover controller behaves (the `failover.*` configuration keys).
public struct FailoverSettings: Sendable {
    /// How long a node's Ready condition must stay not True before the node counts as failed.
    public var notReadyTimeout: Duration = .seconds(30)
    /// Above this share of failed nodes, migration pauses (a partition, not node failures).
    public var maxFailedNodeFraction = 0.5
    /// Pods migrated a second at most (0: no limit), and how many may start at once.
    public var migrationsPerSecond = 10.0
    public var migrationBurst = 20
    /// Pods migrated in parallel.
    public var workers = 16
    /// Keep the old volume's data: set its PV to Retain and label it.
    public var retainVolumes = true
    /// Delete VolumeAttachments of network volumes on the failed node once its pods are gone.
    public var deleteVolumeAttachments = true
    /// Log what would be done, write nothing.
    public var dryRun = false
    /// How long to wait for a deleted claim to disappear before recreating it.
    public var claimDeletionTimeout: Duration = .seconds(120)
    /// Attempts of one API write on conflicts and server errors.
    public var maxAttempts = 6
    public var keys = CompatibilityKeys()

    public init() {}
}
