import Capacity
import Kube

/// CSIStorageCapacity objects laid out to answer one question fast: what free space, per
/// StorageClass, does a node with these labels get?
///
/// Node-local drivers publish one object per class and node, selecting the node by one label
/// (`topology.topolvm.io/node: n1`). Objects are filed under one of their `matchLabels` pairs, so
/// a node looks up only the objects filed under its own labels; objects selecting by
/// expressions alone are checked for every node.
///
/// When several objects of a class reach a node, the one with the most free space counts, as
/// kube-scheduler's volume binding accepts a node when any of them has room.
struct StorageCapacityIndex: Sendable {
    struct Entry: Sendable, Hashable {
        var storageClass: String
        var selector: LabelSelectorExpression
        /// Free GiB, rounded down.
        var freeGiB: Int64
        /// The largest single volume, in GiB rounded down; nil: no limit beyond ``freeGiB``.
        var maxVolumeGiB: Int64?
        /// The `matchLabels` pair the entry is filed under; nil: checked for every node.
        var anchor: (key: String, value: String)?

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.storageClass == rhs.storageClass && lhs.selector == rhs.selector && lhs.freeGiB == rhs.freeGiB && lhs.maxVolumeGiB == rhs.maxVolumeGiB
                && lhs.anchor?.key == rhs.anchor?.key && lhs.anchor?.value == rhs.anchor?.value
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(storageClass)
            hasher.combine(selector)
            hasher.combine(freeGiB)
        }
    }

    private(set) var entries: [String: Entry] = [:]
    private var anchored: [String: [String]] = [:]
    private var unanchored: Set<String> = []

    var count: Int { entries.count }

    /// The entry an object makes, nil when it reports nothing usable: no topology (reaches no
    /// node), no capacity (unknown), no class.
    static func entry(for object: CSIStorageCapacity) -> Entry? {
        guard let topology = object.nodeTopology, let capacity = object.capacity, !object.storageClassName.isEmpty,
            let freeGiB = NodeCapacity.gibibytes(capacity, unit: .bytes)
        else { return nil }
        let anchor = (topology.matchLabels ?? [:]).min { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        return Entry(storageClass: object.storageClassName, selector: LabelSelectorExpression(topology), freeGiB: freeGiB,
                     maxVolumeGiB: object.maximumVolumeSize.flatMap { NodeCapacity.gibibytes($0, unit: .bytes) }, anchor: anchor)
    }

    private static func anchorKey(_ key: String, _ value: String) -> String { key + "\u{0}" + value }

    /// Files (or refiles) the object under `key`; returns the entry it replaced, if any.
    @discardableResult
    mutating func upsert(key: String, _ object: CSIStorageCapacity) -> Entry? {
        let old = remove(key: key)
        guard let entry = Self.entry(for: object) else { return old }
        entries[key] = entry
        if let anchor = entry.anchor { anchored[Self.anchorKey(anchor.key, anchor.value), default: []].append(key) } else { unanchored.insert(key) }
        return old
    }

    /// Drops the object under `key`; returns its entry, if it had one.
    @discardableResult
    mutating func remove(key: String) -> Entry? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        if let anchor = entry.anchor.map({ Self.anchorKey($0.key, $0.value) }) {
            anchored[anchor]?.removeAll { $0 == key }
            if anchored[anchor]?.isEmpty == true { anchored.removeValue(forKey: anchor) }
        } else {
            unanchored.remove(key)
        }
        return entry
    }

    /// The free space per StorageClass that reaches a node with `labels`.
    func capacity(labels: [String: String]) -> NodeCapacity {
        var best: [String: Entry] = [:]
        func consider(_ key: String) {
            guard let entry = entries[key], entry.selector.matches(labels) else { return }
            if let current = best[entry.storageClass], current.freeGiB >= entry.freeGiB { return }
            best[entry.storageClass] = entry
        }
        if !anchored.isEmpty {
            for (label, value) in labels {
                guard let keys = anchored[Self.anchorKey(label, value)] else { continue }
                for key in keys { consider(key) }
            }
        }
        for key in unanchored { consider(key) }
        var capacity = NodeCapacity()
        for (storageClass, entry) in best { capacity.set(group: storageClass, freeGiB: entry.freeGiB, maxVolumeGiB: entry.maxVolumeGiB) }
        return capacity
    }
}
