import Capacity

/// The node cache's summaries laid out for judging thousands of nodes per request: a slot per
/// node, its unhealthy reason (nil when healthy) and a column of free GiB per volume group.
///
/// Judging a node then reads a few plain values at its slot. Reading whole summaries instead
/// (each with its own dictionaries) touched several heap objects per node, and at 5,000 nodes
/// those cache misses, not the arithmetic, set the latency.
struct NodeTable: Sendable {
    /// Marks a group the node does not report.
    static let notReported: Int64 = -1

    private var slots: [String: Int] = [:]
    private var unhealthy: [String?] = []
    private var columns: [String: [Int64]] = [:]
    /// The largest single volume per group and slot (``notReported``: no limit), only for groups
    /// some node limits (CSIStorageCapacity `maximumVolumeSize`).
    private var limits: [String: [Int64]] = [:]
    private var vacant: [Int] = []

    /// The slot of a node, nil when the node is not cached.
    @inline(__always)
    func slot(of name: String) -> Int? { slots[name] }

    /// Why the node in `slot` is unhealthy, nil when it is healthy.
    @inline(__always)
    func unhealthyReason(at slot: Int) -> String? { unhealthy[slot] }

    /// Free GiB of `group` per slot (``notReported`` where a node does not report it); nil when no node does.
    func column(_ group: String) -> [Int64]? { columns[group] }

    /// The largest volume of `group` per slot (``notReported``: no limit); nil when no node limits it.
    func limitColumn(_ group: String) -> [Int64]? { limits[group] }

    var count: Int { slots.count }

    /// Slots in use or vacant: the length of every column.
    var slotCount: Int { unhealthy.count }

    /// The groups with a column, copied out so the columns can be changed in place while going
    /// through them (iterating `columns.keys` would share, and so copy, the storage).
    private var groups: [String] { Array(columns.keys) }

    mutating func upsert(_ summary: NodeSummary) {
        let slot: Int
        if let existing = slots[summary.name] {
            slot = existing
        } else if let reused = vacant.popLast() {
            slot = reused
        } else {
            slot = unhealthy.count
            unhealthy.append(nil)
            for group in groups { columns[group]!.append(Self.notReported) }
            for group in Array(limits.keys) { limits[group]!.append(Self.notReported) }
        }
        slots[summary.name] = slot
        if case .unhealthy(let reasons) = summary.health {
            unhealthy[slot] = reasons.map(\.description).joined(separator: "; ")
        } else {
            unhealthy[slot] = nil
        }
        for group in groups where columns[group]![slot] != Self.notReported && summary.capacity[group] == nil {
            columns[group]![slot] = Self.notReported
        }
        for (group, gib) in summary.capacity.freeGiB {
            if columns[group] == nil { columns[group] = Array(repeating: Self.notReported, count: unhealthy.count) }
            columns[group]![slot] = gib
        }
        for group in Array(limits.keys) where summary.capacity.maxVolumeGiB[group] == nil { limits[group]![slot] = Self.notReported }
        for (group, gib) in summary.capacity.maxVolumeGiB {
            if limits[group] == nil { limits[group] = Array(repeating: Self.notReported, count: unhealthy.count) }
            limits[group]![slot] = gib
        }
    }

    mutating func remove(_ name: String) {
        guard let slot = slots.removeValue(forKey: name) else { return }
        unhealthy[slot] = nil
        for group in groups { columns[group]![slot] = Self.notReported }
        for group in Array(limits.keys) { limits[group]![slot] = Self.notReported }
        vacant.append(slot)
    }
}
