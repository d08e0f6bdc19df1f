/// Pauses all migration while too many nodes are unhealthy at once: when a large share of
/// nodes goes NotReady together, the control plane is more likely cut off from them than they
/// are all dead, and moving their pods would create two copies of each.
public struct PartitionGuard: Sendable {
    /// Migration pauses while unhealthy / total is above this.
    public var maxUnhealthyFraction: Double

    public init(maxUnhealthyFraction: Double) { self.maxUnhealthyFraction = maxUnhealthyFraction }

    /// Whether migration may go on with `unhealthy` of `total` nodes unhealthy.
    public func allowsMigration(unhealthy: Int, total: Int) -> Bool {
        guard total > 0 else { return false }
        return Double(unhealthy) / Double(total) <= maxUnhealthyFraction
    }
}
