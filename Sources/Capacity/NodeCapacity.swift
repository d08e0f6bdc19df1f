/// The free space a node reports per volume group, in whole GiB, as read from its Node object
/// under the configured ``CompatibilityKeys/capacitySource``.
///
/// Values are rounded down: a node that reports 10.5 GiB can hold a 10 GiB volume, not an 11 GiB one.
public struct NodeCapacity: Sendable, Hashable {
    /// Free GiB by full volume-group name (legacy short names already mapped).
    public private(set) var freeGiB: [String: Int64]
    /// Entries that looked like capacity reports but could not be read, e.g. `carina.storage.io/carina-vg-hdd="lots"`.
    /// Their groups are left out of ``freeGiB``, so the node counts as not offering them.
    public private(set) var unreadable: [String]
    /// The largest single volume each group can hold, in whole GiB, where the driver says
    /// (CSIStorageCapacity `maximumVolumeSize`); a group missing here takes volumes up to its free space.
    public var maxVolumeGiB: [String: Int64]
    /// Groups already set from their full name: a legacy alias never overrides them.
    private var fromFullName: Set<String> = []

    public init(freeGiB: [String: Int64] = [:], unreadable: [String] = [], maxVolumeGiB: [String: Int64] = [:]) {
        self.freeGiB = freeGiB
        self.unreadable = unreadable
        self.maxVolumeGiB = maxVolumeGiB
        self.fromFullName = Set(freeGiB.keys)
    }

    public static func == (lhs: NodeCapacity, rhs: NodeCapacity) -> Bool {
        lhs.freeGiB == rhs.freeGiB && lhs.unreadable == rhs.unreadable && lhs.maxVolumeGiB == rhs.maxVolumeGiB
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(freeGiB)
        hasher.combine(unreadable)
        hasher.combine(maxVolumeGiB)
    }

    /// Free GiB of one group, or nil when the node does not report it.
    public subscript(group: String) -> Int64? { freeGiB[group] }

    /// Sets a group's free space directly (capacity reported outside the Node object).
    public mutating func set(group: String, freeGiB gib: Int64, maxVolumeGiB limit: Int64? = nil) {
        freeGiB[group] = max(0, gib)
        maxVolumeGiB[group] = limit.map { max(0, $0) }
    }

    /// Records one report entry (an allocatable resource or an annotation) if its key is a
    /// capacity key for `keys`; other keys are ignored.
    public mutating func read(key: String, value: String, keys: CompatibilityKeys) {
        guard let (rawGroup, unit) = keys.capacityKey(key) else { return }
        store(key: key, rawGroup: rawGroup, gib: Quantity(value).flatMap { Self.gibibytes($0, unit: unit) }, shown: value, keys: keys)
    }

    /// Records one report entry whose value is already a quantity (a decoded `allocatable` map).
    public mutating func read(key: String, quantity: Quantity, keys: CompatibilityKeys) {
        guard let (rawGroup, unit) = keys.capacityKey(key) else { return }
        store(key: key, rawGroup: rawGroup, gib: Self.gibibytes(quantity, unit: unit), shown: quantity.canonical, keys: keys)
    }

    private mutating func store(key: String, rawGroup: String, gib: Int64?, shown: String, keys: CompatibilityKeys) {
        let group = keys.normalizedGroup(rawGroup)
        let isFullName = group == rawGroup
        // When a node reports both `hdd` and `carina-vg-hdd`, the full name wins whatever the order.
        if !isFullName && fromFullName.contains(group) { return }
        guard let gib else {
            unreadable.append("\(key)=\"\(shown)\"")
            return
        }
        freeGiB[group] = gib
        if isFullName { fromFullName.insert(group) }
    }

    /// Reads every entry of a report map (allocatable or annotations).
    public init(reading entries: [String: String], keys: CompatibilityKeys) {
        self.init()
        // Sorted so that the unreadable list, and so log lines and reasons, are stable.
        for key in entries.keys.sorted() { read(key: key, value: entries[key]!, keys: keys) }
    }

    /// The unit a capacity report is written in.
    public enum Unit: Sendable, Hashable {
        /// A quantity counting GiB (`"188"`): Carina's allocatable resources.
        case gibibytes
        /// A quantity counting bytes (`"201863462912"`): TopoLVM's annotations.
        case bytes
    }

    /// Whole GiB in a reported value, rounded down; negative values count as 0.
    public static func gibibytes(_ value: String, unit: Unit) -> Int64? {
        Quantity(value).flatMap { gibibytes($0, unit: unit) }
    }

    /// Whole GiB in a reported quantity, rounded down; negative values count as 0.
    public static func gibibytes(_ quantity: Quantity, unit: Unit) -> Int64? {
        let gib: Int64?
        switch unit {
        case .gibibytes: gib = quantity.floorUnits
        case .bytes:
            let (whole, _) = quantity.nanos.quotientAndRemainder(dividingBy: 1_000_000_000 * 1024 * 1024 * 1024)
            gib = Int64(exactly: whole)
        }
        return gib.map { max(0, $0) }
    }
}

extension CompatibilityKeys {
    /// The group named by a capacity key (prefix stripped, not yet normalised) and the unit its
    /// value is written in, or nil when `key` is not a capacity key of the configured source.
    public func capacityKey(_ key: String) -> (group: String, unit: NodeCapacity.Unit)? {
        let prefix: String
        let unit: NodeCapacity.Unit
        switch capacitySource {
        case .allocatable(let value): (prefix, unit) = (value, .gibibytes)
        case .annotation(let value): (prefix, unit) = (value, .bytes)
        case .storageCapacity: return nil
        }
        guard key.count > prefix.count, key.hasPrefix(prefix) else { return nil }
        return (String(key.dropFirst(prefix.count)), unit)
    }

    /// Whether the node reports capacity in `status.allocatable` (else in annotations, or not on the Node at all).
    public var capacityInAllocatable: Bool {
        if case .allocatable = capacitySource { return true }
        return false
    }

    /// Whether capacity comes from CSIStorageCapacity objects rather than from the Node.
    public var capacityFromStorageCapacity: Bool {
        if case .storageCapacity = capacitySource { return true }
        return false
    }
}
