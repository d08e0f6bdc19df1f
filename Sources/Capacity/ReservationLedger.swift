/// Capacity promised to pods that are being placed, or have been placed, but whose volumes a
/// node's report does not show yet.
///
/// Reported free space lags: kube-scheduler places the next pod before the previous pod's volumes
/// exist, and a node reports new free space only after they do. Without this ledger a burst of
/// pods (the rebuild after a node fails) would all see the same free space and overcommit a group.
///
/// A pod's entry is either
/// - **held** on every node that passed the filter for it: kube-scheduler binds asynchronously,
///   so the next pod can be filtered before the extender learns which node this one got. Until it
///   does, the pod's request counts against every candidate. This is conservative (other pods may
///   briefly see less room than there is) and never overcommits.
/// - **reserved** on the node it was bound to (the bind verb, the claims' selected-node
///   annotation, or the pod's `spec.nodeName`).
///
/// An entry's request stops counting when
/// - all the pod's local claims are bound (``claimsBound(pod:uid:now:)``); the amount then becomes
///   a *credit* that absorbs the next drop in the node's report, so that drop is not mistaken for
///   another pod's volumes;
/// - the node's report for a group drops (``report(node:freeGiB:)``): the drop is attributed to
///   the oldest reservations on that node, whole reservations only, up to the size of the drop.
///   A rise, or a drop smaller than the oldest reservation, releases nothing;
/// - the pod is deleted (``release(pod:uid:)``), its node is deleted, or the TTL passes.
///
/// Pods are keyed by `namespace/name`; a uid, when known, keeps a recreated pod of the same name
/// (a StatefulSet rebuild) from being confused with the one it replaces.
public struct ReservationLedger: Sendable {
    /// Where an entry's request is counted.
    public enum Placement: Sendable, Hashable {
        /// Counted on every candidate node until the chosen node is known. An array, not a set:
        /// holds are rebuilt on every filter call, and hashing thousands of names each time showed
        /// up in the extender's latency.
        case held(candidates: [String])
        /// Counted on the node the pod was bound to.
        case reserved(node: String)
    }

    /// One pod's promised capacity.
    public struct Entry: Sendable, Hashable {
        public var uid: String?
        public var placement: Placement
        /// GiB per volume group still counted against the node(s).
        public var remaining: [String: Int64]
        /// Creation order, for attributing report drops to the oldest reservation first.
        public var sequence: UInt64
        public var expires: ContinuousClock.Instant

        /// The node the pod is reserved on, if it is reserved rather than held.
        public var node: String? {
            if case .reserved(let node) = placement { return node }
            return nil
        }
    }

    /// A released reservation's amount that the node's report has not been seen to include yet.
    struct Credit: Sendable, Hashable {
        var gib: Int64
        var expires: ContinuousClock.Instant
    }

    /// How long an entry (or credit) counts at most.
    public var ttl: Duration
    /// Entries by pod key (`namespace/name`).
    public private(set) var entries: [String: Entry] = [:]
    private var credits: [String: [String: [Credit]]] = [:]
    private var lastReported: [String: [String: Int64]] = [:]
    private var nextSequence: UInt64 = 0

    public init(ttl: Duration) { self.ttl = ttl }

    // MARK: Recording placements

    /// Counts `requests` on every node in `candidates` for `pod`, replacing what the pod had:
    /// a pod that is filtered again is on a new scheduling attempt, so its earlier hold or
    /// reservation no longer stands.
    public mutating func hold(pod: String, uid: String?, candidates: [String], requests: VolumeGroupRequests, now: ContinuousClock.Instant) {
        guard !candidates.isEmpty, !requests.isEmpty else {
            entries.removeValue(forKey: pod)
            return
        }
        entries[pod] = Entry(uid: uid, placement: .held(candidates: candidates), remaining: requests.gibByGroup, sequence: takeSequence(), expires: now + ttl)
    }

    /// Keeps a held pod's hold only on `nodes` (prioritize sees the final candidate set).
    public mutating func narrowHold(pod: String, uid: String?, to nodes: [String]) {
        guard var entry = entries[pod], Self.sameUID(entry.uid, uid), case .held(let candidates) = entry.placement else { return }
        // kube-scheduler asks to score the nodes that passed every filter: the same nodes, or
        // fewer when another extender dropped some. Only fewer can narrow the hold.
        guard nodes.count < candidates.count else { return }
        let keep = Set(nodes)
        let narrowed = candidates.filter { keep.contains($0) }
        guard !narrowed.isEmpty else { return }
        entry.placement = .held(candidates: narrowed)
        entries[pod] = entry
    }

    /// Counts `requests` on `node` for `pod`. A pod already reserved on that node keeps its entry
    /// (and what report drops have released of it); anything else is replaced.
    public mutating func reserve(pod: String, uid: String?, node: String, requests: VolumeGroupRequests, now: ContinuousClock.Instant) {
        if let entry = entries[pod], Self.sameUID(entry.uid, uid), entry.node == node { return }
        guard !requests.isEmpty else {
            entries.removeValue(forKey: pod)
            return
        }
        entries[pod] = Entry(uid: uid, placement: .reserved(node: node), remaining: requests.gibByGroup, sequence: takeSequence(), expires: now + ttl)
    }

    /// Converts a held pod's hold to a reservation on `node`, keeping its request; does nothing
    /// when the pod is not held. Returns whether it did.
    @discardableResult
    public mutating func settle(pod: String, uid: String?, on node: String, now: ContinuousClock.Instant) -> Bool {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid), case .held = entry.placement else { return false }
        entries[pod] = Entry(uid: entry.uid ?? uid, placement: .reserved(node: node), remaining: entry.remaining, sequence: entry.sequence, expires: now + ttl)
        return true
    }

    // MARK: Releasing

    /// Forgets a pod (deleted, or no longer needing capacity).
    public mutating func release(pod: String, uid: String?) {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid) else { return }
        entries.removeValue(forKey: pod)
    }

    /// All the pod's local claims are bound: its volumes exist, so its request stops counting.
    /// The amount becomes a credit on its node that absorbs the next drop in the node's report.
    public mutating func claimsBound(pod: String, uid: String?, now: ContinuousClock.Instant) {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid) else { return }
        entries.removeValue(forKey: pod)
        guard let node = entry.node else { return }
        for (group, gib) in entry.remaining where gib > 0 {
            credits[node, default: [:]][group, default: []].append(Credit(gib: gib, expires: now + ttl))
        }
    }

    /// Takes in a node's latest report and releases the reservations a drop accounts for.
    /// Returns the pods whose entries were released entirely.
    @discardableResult
    public mutating func report(node: String, freeGiB: [String: Int64]) -> [String] {
        let previous = lastReported.updateValue(freeGiB, forKey: node)
        guard let previous else { return [] }
        var released: [String] = []
        for (group, before) in previous.sorted(by: { $0.key < $1.key }) {
            guard let after = freeGiB[group], after < before else { continue }
            var drop = before.saturatingSubtract(after)
            // Volumes of pods whose claims already bound explain the drop first.
            if var queue = credits[node]?[group] {
                while drop > 0, !queue.isEmpty {
                    let used = min(drop, queue[0].gib)
                    drop -= used
                    queue[0].gib -= used
                    if queue[0].gib == 0 { queue.removeFirst() }
                }
                credits[node]?[group] = queue.isEmpty ? nil : queue
            }
            guard drop > 0 else { continue }
            let oldestFirst = entries.filter { $0.value.node == node && ($0.value.remaining[group] ?? 0) > 0 }
                .sorted { $0.value.sequence < $1.value.sequence }
            for (pod, entry) in oldestFirst {
                let gib = entry.remaining[group] ?? 0
                guard gib <= drop else { break }
                drop -= gib
                var updated = entry
                updated.remaining[group] = nil
                if updated.remaining.isEmpty {
                    entries.removeValue(forKey: pod)
                    released.append(pod)
                } else {
                    entries[pod] = updated
                }
            }
        }
        return released
    }

    /// Forgets a deleted node: its reservations, credits and report; holds no longer count there.
    public mutating func nodeRemoved(_ node: String) {
        lastReported.removeValue(forKey: node)
        credits.removeValue(forKey: node)
        for (pod, entry) in entries {
            switch entry.placement {
            case .reserved(let reservedOn) where reservedOn == node:
                entries.removeValue(forKey: pod)
            case .held(var candidates) where candidates.contains(node):
                candidates.removeAll { $0 == node }
                if candidates.isEmpty {
                    entries.removeValue(forKey: pod)
                } else {
                    entries[pod]?.placement = .held(candidates: candidates)
                }
            default: break
            }
        }
    }

    /// Drops entries and credits whose TTL has passed. Returns the pods dropped.
    @discardableResult
    public mutating func expire(now: ContinuousClock.Instant) -> [String] {
        let expired = entries.filter { $0.value.expires <= now }.map(\.key)
        for pod in expired { entries.removeValue(forKey: pod) }
        for (node, groups) in credits {
            var kept: [String: [Credit]] = [:]
            for (group, queue) in groups {
                let live = queue.filter { $0.expires > now }
                if !live.isEmpty { kept[group] = live }
            }
            credits[node] = kept.isEmpty ? nil : kept
        }
        return expired.sorted()
    }

    // MARK: Reading

    /// GiB counted per node and group, over every entry but `pod`'s own.
    public func committed(excluding pod: String? = nil) -> CommittedCapacity {
        var byNode: [String: [String: Int64]] = [:]
        for (key, entry) in entries where key != pod {
            switch entry.placement {
            case .reserved(let node):
                for (group, gib) in entry.remaining { byNode[node, default: [:]][group, default: 0].saturatingIncrement(by: gib) }
            case .held(let candidates):
                for node in candidates {
                    for (group, gib) in entry.remaining { byNode[node, default: [:]][group, default: 0].saturatingIncrement(by: gib) }
                }
            }
        }
        return CommittedCapacity(byNode: byNode)
    }

    /// The entry of a pod, if any.
    public func entry(pod: String) -> Entry? { entries[pod] }

    /// The credits outstanding on a node for a group (for tests and diagnostics).
    public func creditGiB(node: String, group: String) -> Int64 {
        (credits[node]?[group] ?? []).reduce(0) { $0.saturatingAdd($1.gib) }
    }

    private mutating func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }

    /// Uids match when both are known and equal, or either is unknown.
    static func sameUID(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b, !a.isEmpty, !b.isEmpty else { return true }
        return a == b
    }
}

extension Int64 {
    /// Adds `amount`, holding at the bounds instead of trapping: totals of user-supplied requests.
    mutating func saturatingIncrement(by amount: Int64) { self = saturatingAdd(amount) }
}

/// GiB the ledger counts against each node and volume group (totals saturate at `Int64.max`).
public struct CommittedCapacity: Sendable, Hashable {
    public var byNode: [String: [String: Int64]]

    public init(byNode: [String: [String: Int64]] = [:]) { self.byNode = byNode }

    public subscript(node: String, group: String) -> Int64 { byNode[node]?[group] ?? 0 }

    /// Everything counted against one node.
    public subscript(node: String) -> [String: Int64] { byNode[node] ?? [:] }
}
